//! The deployment environment a path belongs to (`prod`, `staging`, `dev` …).

/// The environment named by the deepest path component (or file-name part)
/// that names one, normalised: `production`/`prd` → `prod`, `stage`/`stg` →
/// `staging`, `development` → `dev`. `""` when the path names none.
pub fn from_path(path: &str) -> &'static str {
    let mut found = "";
    for token in path.split(['/', '\\', '.', '-', '_']) {
        let env = match token.to_ascii_lowercase().as_str() {
            "prod" | "production" | "prd" => "prod",
            "staging" | "stage" | "stg" => "staging",
            "dev" | "development" => "dev",
            "qa" => "qa",
            "test" => "test",
            "uat" => "uat",
            "sandbox" => "sandbox",
            _ => continue,
        };
        found = env;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::from_path;

    #[test]
    fn environments() {
        assert_eq!(from_path("terraform/envs/prod/providers.tf"), "prod");
        assert_eq!(from_path(".env.production"), "prod");
        assert_eq!(from_path("charts/api/values-prod.yaml"), "prod");
        assert_eq!(from_path("prod.tfvars"), "prod");
        assert_eq!(from_path("live/prod/terragrunt.hcl"), "prod");
        assert_eq!(from_path("envs/stage/main.tf"), "staging");
        assert_eq!(from_path(".env.staging"), "staging");
        assert_eq!(from_path("dev/app.env"), "dev");
        assert_eq!(from_path("prod/overrides/qa/x.yaml"), "qa");
        assert_eq!(from_path("src/product/main.rs"), "");
        assert_eq!(from_path("tests/unit.py"), "");
    }
}
