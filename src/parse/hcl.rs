//! Parser stub; see the module docs in `parse/mod.rs` for the contract.

use super::{ParseFailure, Parsed};

pub fn parse(_src: &str) -> Result<Parsed, ParseFailure> {
    Err(ParseFailure::new(None, "hcl parser not implemented yet"))
}
