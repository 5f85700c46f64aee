//! Which parser a file gets, decided from its path (and refined from content
//! by the YAML and JSON parsers).

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Terraform,
    Tfvars,
    Terragrunt,
    Hcl,
    TerraformJson,
    Json,
    CloudFormation,
    Yaml,
    Kubernetes,
    GithubActions,
    Compose,
    Helm,
    Ansible,
    Dotenv,
    Ini,
    /// keyward's own configuration, when a finding points into it.
    Toml,
    Text,
}

/// The parser family a format belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Hcl,
    Json,
    Yaml,
    Dotenv,
    Ini,
    Text,
}

impl Format {
    /// The name used in facts (`file.format`) and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Terraform => "terraform",
            Format::Tfvars => "tfvars",
            Format::Terragrunt => "terragrunt",
            Format::Hcl => "hcl",
            Format::TerraformJson => "terraform-json",
            Format::Json => "json",
            Format::CloudFormation => "cloudformation",
            Format::Yaml => "yaml",
            Format::Kubernetes => "kubernetes",
            Format::GithubActions => "github-actions",
            Format::Compose => "compose",
            Format::Helm => "helm",
            Format::Ansible => "ansible",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Toml => "toml",
            Format::Text => "text",
        }
    }

    pub fn syntax(self) -> Syntax {
        match self {
            Format::Terraform | Format::Tfvars | Format::Terragrunt | Format::Hcl => Syntax::Hcl,
            Format::TerraformJson | Format::Json => Syntax::Json,
            // CloudFormation comes in both syntaxes; the parser that found it decides.
            Format::CloudFormation => Syntax::Yaml,
            Format::Yaml
            | Format::Kubernetes
            | Format::GithubActions
            | Format::Compose
            | Format::Helm
            | Format::Ansible => Syntax::Yaml,
            Format::Dotenv => Syntax::Dotenv,
            Format::Ini => Syntax::Ini,
            Format::Toml | Format::Text => Syntax::Text,
        }
    }

    /// Chooses the format from the path alone. YAML flavours that the path
    /// reveals (workflows, compose files, Helm values, Ansible layouts) are
    /// decided here; the rest are refined from content by the parser.
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let components: Vec<String> = path
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
            .collect();
        let parent_has = |dir: &str| {
            components
                .iter()
                .take(components.len().saturating_sub(1))
                .any(|c| c == dir)
        };

        if name.ends_with(".tf.json") || name.ends_with(".tfvars.json") {
            return Format::TerraformJson;
        }
        if name.ends_with(".tf") {
            return Format::Terraform;
        }
        if name.ends_with(".tfvars") {
            return Format::Tfvars;
        }
        if name == "terragrunt.hcl" || name.ends_with(".terragrunt.hcl") {
            return Format::Terragrunt;
        }
        if name.ends_with(".hcl") {
            return Format::Hcl;
        }
        if name.ends_with(".json") {
            return Format::Json;
        }
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            let in_workflows = components
                .windows(2)
                .any(|w| w[0] == ".github" && w[1] == "workflows")
                || (parent_has(".github") && name == "action.yml");
            if in_workflows {
                return Format::GithubActions;
            }
            if name.starts_with("docker-compose")
                || name.starts_with("compose.")
                || name.starts_with("compose-")
            {
                return Format::Compose;
            }
            if name == "chart.yaml"
                || (name.starts_with("values")
                    && (parent_has("charts") || parent_has("helm") || parent_has("chart")))
                || parent_has("templates") && (parent_has("charts") || parent_has("helm"))
            {
                return Format::Helm;
            }
            if ["group_vars", "host_vars", "playbooks", "roles"]
                .iter()
                .any(|d| parent_has(d))
            {
                return Format::Ansible;
            }
            return Format::Yaml;
        }
        if name == ".env" || name.starts_with(".env.") || name.ends_with(".env") || name == ".envrc"
        {
            return Format::Dotenv;
        }
        if name.ends_with(".ini") || name.ends_with(".cfg") {
            return Format::Ini;
        }
        if name == "credentials" || (name == "config" && parent_has(".aws")) {
            return Format::Ini;
        }
        Format::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(p: &str) -> &'static str {
        Format::from_path(Path::new(p)).as_str()
    }

    #[test]
    fn formats_from_paths() {
        assert_eq!(f("infra/main.tf"), "terraform");
        assert_eq!(f("envs/prod.tfvars"), "tfvars");
        assert_eq!(f("live/prod/terragrunt.hcl"), "terragrunt");
        assert_eq!(f("x/main.tf.json"), "terraform-json");
        assert_eq!(f("cfn/stack.json"), "json");
        assert_eq!(f(".github/workflows/deploy.yml"), "github-actions");
        assert_eq!(f("docker-compose.override.yml"), "compose");
        assert_eq!(f("compose.yaml"), "compose");
        assert_eq!(f("charts/api/values-prod.yaml"), "helm");
        assert_eq!(f("charts/api/templates/deploy.yaml"), "helm");
        assert_eq!(f("ansible/group_vars/all.yml"), "ansible");
        assert_eq!(f("k8s/secret.yaml"), "yaml");
        assert_eq!(f(".env"), "dotenv");
        assert_eq!(f(".env.production"), "dotenv");
        assert_eq!(f("config/app.env"), "dotenv");
        assert_eq!(f("home/.aws/credentials"), "ini");
        assert_eq!(f("home/.aws/config"), "ini");
        assert_eq!(f("src/config"), "text");
        assert_eq!(f("setup.cfg"), "ini");
        assert_eq!(f("scripts/deploy.sh"), "text");
        assert_eq!(f("Dockerfile"), "text");
    }
}
