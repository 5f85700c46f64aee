//! keyward's own reports, recognised by their content: a SARIF log whose
//! tool is keyward, keyward's JSON, and the audit report. They name every
//! key ID keyward found, so scanning them reports each finding again
//! (`keyward.sarif` left in the workspace by the Action tripled a scan).
//! They are skipped and counted; a change that adds one is KW015, because a
//! file keyward does not read is a place a key could hide.

/// Which report a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sarif,
    Json,
    Audit,
    /// An IAM inventory (`keyward inventory pull`): key IDs with their
    /// owners and dates, never a secret.
    Inventory,
}

/// The kind of keyward report `text` is, if it is one. Cheap for anything
/// else: only text that mentions keyward near a JSON or HTML start is
/// parsed.
pub fn kind(text: &str) -> Option<Kind> {
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    let head = head(trimmed, 512);
    if head.starts_with("<!DOCTYPE html>")
        && head.contains("<meta name=\"generator\" content=\"keyward\">")
        || head.starts_with("<!-- generator: keyward -->")
    {
        return Some(Kind::Audit);
    }
    if !trimmed.starts_with('{') {
        return None;
    }
    if is_inventory(trimmed) {
        return Some(Kind::Inventory);
    }
    memchr::memmem::find(trimmed.as_bytes(), b"\"keyward\"")?;
    let doc: serde_json::Value = serde_json::from_str(trimmed).ok()?;
    let is_keyward = |v: &serde_json::Value| v.as_str() == Some("keyward");
    if let Some(runs) = doc.get("runs").and_then(|r| r.as_array()) {
        let ours = !runs.is_empty()
            && runs
                .iter()
                .all(|run| is_keyward(&run["tool"]["driver"]["name"]));
        return (ours && doc.get("version").is_some()).then_some(Kind::Sarif);
    }
    let ours = is_keyward(&doc["tool"]["name"])
        && doc.get("findings").is_some_and(serde_json::Value::is_array)
        && doc.get("summary").is_some_and(serde_json::Value::is_object);
    ours.then_some(Kind::Json)
}

/// An inventory as keyward reads it (strict: no field it does not know),
/// holding nothing a secret could hide in: every long token in it is a key
/// ID, a date or a name. One that fails either test is scanned as JSON.
fn is_inventory(text: &str) -> bool {
    let bytes = text.as_bytes();
    let has = |needle: &[u8]| memchr::memmem::find(bytes, needle).is_some();
    has(b"\"generated_at\"")
        && has(b"\"accounts\"")
        && crate::iam::inventory::Inventory::parse("", text).is_ok()
        && crate::detect::masked_for_errors(text) == text
}

/// The first `n` bytes of `s`, cut at a character boundary.
fn head(s: &str, n: usize) -> &str {
    let end = s.floor_char_boundary(n);
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_recognised_by_content() {
        let sarif = r#"{"$schema": "x", "version": "2.1.0", "runs": [{"results": [], "tool": {"driver": {"name": "keyward"}}}]}"#;
        assert_eq!(kind(sarif), Some(Kind::Sarif));
        let other = sarif.replace("\"keyward\"", "\"gitleaks\"");
        assert_eq!(kind(&other), None);
        let json = r#"{"findings": [], "summary": {}, "tool": {"name": "keyward", "version": "0.1.0"}, "version": 1}"#;
        assert_eq!(kind(json), Some(Kind::Json));
        assert_eq!(kind(r#"{"tool": {"name": "keyward"}}"#), None);
        assert_eq!(
            kind(
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"generator\" content=\"keyward\">\n"
            ),
            Some(Kind::Audit)
        );
        assert_eq!(
            kind("<!-- generator: keyward -->\n# keyward audit report\n"),
            Some(Kind::Audit)
        );
        assert_eq!(kind("# keyward audit report\nAKIA…"), None);
        assert_eq!(kind("{ broken json \"keyward\""), None);
        let inventory = r#"{"version": 1, "generated_at": "2026-11-29T06:00:00Z", "accounts": [{"account": "123456789012", "keys": [
            {"access_key_id": "AKIARZPUZDIKLGATVSKW", "user": "acme-api", "status": "Active", "created": "2026-10-12T09:14:00Z",
             "last_used": "2026-11-29T05:40:00Z", "last_used_service": "s3", "last_used_region": "eu-west-1"}]}]}"#;
        assert_eq!(kind(inventory), Some(Kind::Inventory));
        // A secret-shaped user name: scanned, not skipped.
        let hiding = inventory.replace("acme-api", "Am1dX3a5IDnOdcdbWB2dC4+DSDC6Lc1mxLpQ2yMK");
        assert_eq!(kind(&hiding), None);
        // A field keyward never writes: not an inventory.
        let extra = inventory.replace("\"user\"", "\"note\": \"x\", \"user\"");
        assert_eq!(kind(&extra), None);
    }
}
