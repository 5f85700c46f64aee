//! Line-based scanner for unstructured text (stub, being written).

use super::Value;

pub fn scan(_src: &str) -> Vec<Value> {
    Vec::new()
}
