//! The parts of SARIF 2.1.0 keyward writes, as types. Each type is named
//! after the specification's object (given in its comment); only the
//! properties keyward sets are here.
//!
//! Fields are declared in alphabetical order of their JSON names. The log
//! used to be built with `json!`, whose maps sort their keys (serde_json's
//! `preserve_order` is off), and serde writes struct fields in declaration
//! order: keeping them sorted keeps every log byte-for-byte what earlier
//! versions wrote, so uploads diff cleanly across versions. A field added
//! later goes where its JSON name sorts (a test in the parent module
//! checks).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::contract::Provenance;
use crate::rules::Severity;

/// `sarifLog`, the whole file.
#[derive(Debug, Serialize)]
pub(super) struct Log<'a> {
    #[serde(rename = "$schema")]
    pub(super) schema: &'static str,
    pub(super) runs: Vec<Run<'a>>,
    pub(super) version: &'static str,
}

/// `run`: one run of keyward over the scanned paths.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Run<'a> {
    pub(super) column_kind: ColumnKind,
    pub(super) invocations: Vec<Invocation<'a>>,
    /// `%SRCROOT%` and where it points, when the scan knows its root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) original_uri_base_ids: Option<BTreeMap<&'static str, ArtifactLocation>>,
    pub(super) results: Vec<SarifResult<'a>>,
    pub(super) tool: Tool<'a>,
}

/// `run.columnKind`: how `startColumn` and `endColumn` count.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum ColumnKind {
    UnicodeCodePoints,
}

/// `invocation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Invocation<'a> {
    pub(super) execution_successful: bool,
    /// Written even when empty: a viewer then shows that there were none.
    pub(super) tool_execution_notifications: Vec<Notification<'a>>,
}

/// `notification`: a file or path the scan had trouble with.
#[derive(Debug, Serialize)]
pub(super) struct Notification<'a> {
    pub(super) level: Level,
    pub(super) locations: Vec<Location<'a>>,
    pub(super) message: Message<'a>,
}

/// `tool`.
#[derive(Debug, Serialize)]
pub(super) struct Tool<'a> {
    pub(super) driver: Driver<'a>,
}

/// `toolComponent`, as the driver.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Driver<'a> {
    pub(super) information_uri: &'static str,
    pub(super) name: &'static str,
    pub(super) rules: Vec<ReportingDescriptor<'a>>,
    pub(super) semantic_version: &'static str,
    pub(super) version: &'static str,
}

/// `reportingDescriptor`: one rule's description.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ReportingDescriptor<'a> {
    pub(super) default_configuration: ReportingConfiguration,
    pub(super) full_description: MultiformatMessage<'a>,
    pub(super) help: MultiformatMessage<'a>,
    pub(super) help_uri: String,
    pub(super) id: &'a str,
    pub(super) name: &'a str,
    pub(super) properties: RuleProperties,
    pub(super) short_description: MultiformatMessage<'a>,
}

/// `reportingConfiguration`.
#[derive(Debug, Serialize)]
pub(super) struct ReportingConfiguration {
    pub(super) level: Level,
}

/// A rule's property bag: what GitHub code scanning reads beyond SARIF.
#[derive(Debug, Serialize)]
pub(super) struct RuleProperties {
    pub(super) precision: &'static str,
    #[serde(rename = "security-severity")]
    pub(super) security_severity: &'static str,
    pub(super) tags: Vec<String>,
}

/// `multiformatMessageString`.
#[derive(Debug, Serialize)]
pub(super) struct MultiformatMessage<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) markdown: Option<Cow<'a, str>>,
    pub(super) text: Cow<'a, str>,
}

/// `message`, plain text only.
#[derive(Debug, Serialize)]
pub(super) struct Message<'a> {
    pub(super) text: Cow<'a, str>,
}

/// `result.level` and `reportingConfiguration.level`.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum Level {
    Error,
    Warning,
    Note,
}

/// `result`: one finding. Not named `Result`, which would shadow the
/// standard one.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SarifResult<'a> {
    pub(super) level: Level,
    pub(super) locations: Vec<Location<'a>>,
    pub(super) message: Message<'a>,
    /// Fingerprint scheme (`keyward/v1`) to fingerprint.
    pub(super) partial_fingerprints: BTreeMap<&'static str, &'a str>,
    pub(super) properties: ResultProperties<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) related_locations: Vec<Location<'a>>,
    pub(super) rule_id: &'a str,
    /// Index into `tool.driver.rules`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) rule_index: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) suppressions: Vec<Suppression<'a>>,
}

/// A result's property bag. Its names are keyward's own, those of the JSON
/// contract (`key_id`, not `keyId`), so no `rename_all` here.
#[derive(Debug, Serialize)]
pub(super) struct ResultProperties<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) account: Option<&'a str>,
    pub(super) context: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) provenance: Option<Provenance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) secret: Option<&'a str>,
    pub(super) severity: Severity,
}

/// `suppression`.
#[derive(Debug, Serialize)]
pub(super) struct Suppression<'a> {
    pub(super) justification: &'a str,
    pub(super) kind: SuppressionKind,
    pub(super) status: SuppressionStatus,
}

/// `suppression.kind`.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum SuppressionKind {
    /// A `keyward:ignore` comment.
    InSource,
    /// A baseline or an `[[allow]]` entry.
    External,
}

/// `suppression.status`: keyward only writes suppressions it applied.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum SuppressionStatus {
    Accepted,
}

/// `location`. `id` and `message` are set on related locations only.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) message: Option<Message<'a>>,
    pub(super) physical_location: PhysicalLocation,
}

impl Location<'_> {
    /// A location that is only a place: a result's or a notification's.
    pub(super) fn at(physical_location: PhysicalLocation) -> Self {
        Location {
            id: None,
            message: None,
            physical_location,
        }
    }
}

/// `physicalLocation`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PhysicalLocation {
    pub(super) artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) region: Option<Region>,
}

/// `artifactLocation`.
#[derive(Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ArtifactLocation {
    pub(super) uri: String,
    /// `%SRCROOT%` for a relative `uri`; absent for an absolute one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) uri_base_id: Option<&'static str>,
}

/// `region`, in lines and (per the run's `columnKind`) characters.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Region {
    pub(super) end_column: usize,
    pub(super) end_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) snippet: Option<ArtifactContent>,
    pub(super) start_column: usize,
    pub(super) start_line: usize,
}

/// `artifactContent`, text only: the masked source lines of a region.
#[derive(Debug, Serialize)]
pub(super) struct ArtifactContent {
    pub(super) text: String,
}
