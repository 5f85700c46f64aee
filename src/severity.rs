//! How bad a finding is. A leaf: the configuration, the rules and every
//! report speak of it.

use serde::{Deserialize, Serialize};

/// A finding's severity, least to most; each rule file gives its rule's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, nothing to do now.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High: a usable credential in the open.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// Its name in the configuration, the rule files and the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The severity `s` names (`high`), if any.
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// The gate: the least severity that fails a run, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailOn {
    /// Nothing fails the run (`never`).
    Never,
    /// A finding at this severity or above fails the run.
    At(Severity),
}

/// `never` or a severity, as the configuration and the JSON write it.
impl Serialize for FailOn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FailOn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        FailOn::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is not a gate (critical, high, medium, low, info, never)"
            ))
        })
    }
}

impl FailOn {
    /// `critical|high|medium|low|info` or `never`.
    pub fn parse(s: &str) -> Option<FailOn> {
        match s {
            "never" => Some(FailOn::Never),
            s => Severity::parse(s).map(FailOn::At),
        }
    }

    /// `never` or the severity's name.
    pub fn as_str(self) -> &'static str {
        match self {
            FailOn::Never => "never",
            FailOn::At(s) => s.as_str(),
        }
    }

    /// The least severity that fails the run; `None`: nothing does.
    pub fn least(self) -> Option<Severity> {
        match self {
            FailOn::Never => None,
            FailOn::At(s) => Some(s),
        }
    }

    /// The stricter of two gates.
    pub fn stricter(self, other: FailOn) -> FailOn {
        if self.looser_than(other) { other } else { self }
    }

    /// Whether a finding of `severity` fails the run.
    pub fn fails(self, severity: Severity) -> bool {
        match self {
            FailOn::Never => false,
            FailOn::At(least) => severity >= least,
        }
    }

    /// Whether this gate lets through something `other` would fail.
    pub fn looser_than(self, other: FailOn) -> bool {
        match (self, other) {
            (FailOn::Never, FailOn::At(_)) => true,
            (FailOn::At(mine), FailOn::At(theirs)) => mine > theirs,
            (_, FailOn::Never) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gate_fails_at_its_severity_and_above() {
        let high = FailOn::parse("high").expect("high");
        assert!(high.fails(Severity::Critical) && high.fails(Severity::High));
        assert!(!high.fails(Severity::Medium));
        assert!(!FailOn::Never.fails(Severity::Critical));
        assert_eq!(FailOn::parse("never"), Some(FailOn::Never));
        assert_eq!(FailOn::parse("dire"), None);
        assert!(FailOn::Never.looser_than(high));
        assert!(FailOn::At(Severity::Critical).looser_than(high));
        // A gate at high lets a medium finding through that low would fail.
        assert!(high.looser_than(FailOn::At(Severity::Low)));
        assert!(!FailOn::At(Severity::Low).looser_than(high));
        assert!(!high.looser_than(FailOn::Never));
        assert_eq!(
            high.stricter(FailOn::At(Severity::Low)),
            FailOn::At(Severity::Low)
        );
        assert_eq!(FailOn::Never.stricter(high), high);
    }
}
