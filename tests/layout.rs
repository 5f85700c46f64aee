//! DESIGN.md's layout rule, checked: no two source files import each
//! other, directly or in a circle (a module and its own children aside,
//! tests aside). A path through a re-export (`crate::rules::RuleSet`)
//! counts as an import of the module that defines it (`rules::eval`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module path (`rules::eval`; `crate` for lib.rs) → source text without
/// its tests and line comments.
fn modules() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let mut name = rel.with_extension("").to_string_lossy().replace('/', "::");
            if let Some(parent) = name.strip_suffix("::mod") {
                name = parent.to_string();
            }
            if name == "main" {
                continue;
            }
            if name == "lib" {
                name = "crate".into();
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: Vec<&str> = text
                .lines()
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect();
            out.insert(name, code.join("\n"));
        }
    }
    out
}

/// `crate::a::b` or `super::c` paths in `code`, as segments from the crate.
fn paths(module: &str, code: &str) -> Vec<Vec<String>> {
    let parent: Vec<&str> = match module.rsplit_once("::") {
        Some((p, _)) => p.split("::").collect(),
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for (kind, rest) in [("crate::", false), ("super::", true)] {
        let mut from = 0;
        while let Some(at) = code[from..].find(kind) {
            let start = from + at;
            from = start + kind.len();
            let before = code[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let tail: String = code[from..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            let mut segments: Vec<String> = if rest {
                parent.iter().map(|s| s.to_string()).collect()
            } else {
                Vec::new()
            };
            segments.extend(
                tail.split("::")
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            );
            out.push(segments);
        }
    }
    out
}

/// `pub use child::{A, B};` in a module: (module, name) → the child defining it.
fn reexports(mods: &BTreeMap<String, String>) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for (module, code) in mods {
        for stmt in code.split("pub use ").skip(1) {
            let stmt = stmt.split(';').next().unwrap_or_default();
            let (path, names) = match stmt.split_once("::{") {
                Some((p, n)) => (p, n.trim_end_matches('}').to_string()),
                None => match stmt.rsplit_once("::") {
                    Some((p, n)) => (p, n.to_string()),
                    None => continue,
                },
            };
            let path = path
                .trim()
                .trim_start_matches("self::")
                .trim_start_matches("crate::");
            let child = if module == "crate" || mods.contains_key(path) {
                path.to_string()
            } else {
                format!("{module}::{path}")
            };
            if !mods.contains_key(&child) {
                continue;
            }
            for name in names.split(',') {
                let name = name.split(" as ").last().unwrap_or_default().trim();
                if !name.is_empty() {
                    out.insert((module.clone(), name.to_string()), child.clone());
                }
            }
        }
    }
    out
}

fn related(a: &str, b: &str) -> bool {
    a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mods = modules();
    let via = reexports(&mods);
    let mut deps = BTreeMap::new();
    for (module, code) in &mods {
        let mut to = BTreeSet::new();
        for segments in paths(module, code) {
            // The longest prefix that is a module, through a re-export.
            for len in (1..=segments.len()).rev() {
                let name = segments[..len].join("::");
                if !mods.contains_key(&name) {
                    continue;
                }
                let target = segments
                    .get(len)
                    .and_then(|next| via.get(&(name.clone(), next.clone())))
                    .cloned()
                    .unwrap_or(name);
                if !related(module, &target) {
                    to.insert(target);
                }
                break;
            }
        }
        deps.insert(module.clone(), to);
    }
    deps
}

/// A circle through `start`, if there is one.
fn circle(deps: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in deps.get(&at).into_iter().flatten() {
            if next == start {
                let mut found = path.clone();
                found.push(next.clone());
                return Some(found);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_two_files_import_each_other() {
    let deps = graph();
    assert!(deps.len() > 50, "{} modules", deps.len());
    // The checker sees through a re-export: output names `crate::rules::RuleSet`.
    assert!(
        deps["output"].contains("rules::eval"),
        "{:?}",
        deps["output"]
    );
    let circles: Vec<String> = deps
        .keys()
        .filter_map(|m| circle(&deps, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(circles.is_empty(), "{circles:#?}");
}
