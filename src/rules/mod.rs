//! Declarative rules: YAML files in `rules/`, compiled into the binary, with
//! a CEL `when:` condition over the fact model.

pub mod builtin;
mod condition;
pub mod docs;
pub mod eval;
pub mod facts;
pub mod load;
pub mod says;
pub mod select;
pub mod starter;

pub use eval::RuleSet;
pub use load::{Rule, Severity};
