//! The rule files shipped in `rules/`, compiled into the binary.

/// `(origin, text)` of every built-in rule. A test checks this list against
/// the `rules/` directory, so a new file cannot be forgotten here.
pub const FILES: &[(&str, &str)] = &[
    (
        "rules/KW000-unused-ignore.yaml",
        include_str!("../../rules/KW000-unused-ignore.yaml"),
    ),
    (
        "rules/KW001-hardcoded-access-key.yaml",
        include_str!("../../rules/KW001-hardcoded-access-key.yaml"),
    ),
    (
        "rules/KW002-hardcoded-secret-key.yaml",
        include_str!("../../rules/KW002-hardcoded-secret-key.yaml"),
    ),
    (
        "rules/KW003-temporary-credentials.yaml",
        include_str!("../../rules/KW003-temporary-credentials.yaml"),
    ),
    (
        "rules/KW004-malformed-key-id.yaml",
        include_str!("../../rules/KW004-malformed-key-id.yaml"),
    ),
    (
        "rules/KW005-foreign-account-key.yaml",
        include_str!("../../rules/KW005-foreign-account-key.yaml"),
    ),
    (
        "rules/KW006-inactive-key-referenced.yaml",
        include_str!("../../rules/KW006-inactive-key-referenced.yaml"),
    ),
    (
        "rules/KW007-unknown-key.yaml",
        include_str!("../../rules/KW007-unknown-key.yaml"),
    ),
    (
        "rules/KW008-stale-key.yaml",
        include_str!("../../rules/KW008-stale-key.yaml"),
    ),
    (
        "rules/KW009-unused-key.yaml",
        include_str!("../../rules/KW009-unused-key.yaml"),
    ),
    (
        "rules/KW010-key-pair-mismatch.yaml",
        include_str!("../../rules/KW010-key-pair-mismatch.yaml"),
    ),
    (
        "rules/KW011-divergent-credential.yaml",
        include_str!("../../rules/KW011-divergent-credential.yaml"),
    ),
    (
        "rules/KW012-live-credential-exposed.yaml",
        include_str!("../../rules/KW012-live-credential-exposed.yaml"),
    ),
];
