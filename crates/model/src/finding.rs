//! The one shape every hunt returns.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The severity band a 0–100 score falls in.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 90.0 => Severity::Critical,
            s if s >= 70.0 => Severity::High,
            s if s >= 40.0 => Severity::Medium,
            s if s >= 20.0 => Severity::Low,
            _ => Severity::Info,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One finding: what a hunt says about one host/process/entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub hunt: String,
    pub severity: Severity,
    /// 0–100.
    pub score: f64,
    /// UTC µs.
    pub ts_first: Option<i64>,
    pub ts_last: Option<i64>,
    pub host: Option<String>,
    pub pid: Option<i64>,
    pub process_guid: Option<String>,
    pub image: Option<String>,
    /// The IP, domain, certificate or pipe concerned.
    pub entity: Option<String>,
    /// One sentence a person can read.
    pub summary: String,
    /// Counts, samples and record references.
    pub evidence: serde_json::Value,
    /// ATT&CK technique ids.
    pub attack: Vec<String>,
}

impl Finding {
    /// The identity of a finding across runs and `--watch` ticks: the same
    /// hunt about the same host and process, and the same entity where the
    /// entity names the finding (a peer) rather than describes it.
    pub fn key(&self, entity_is_identity: bool) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.hunt,
            self.host.as_deref().unwrap_or(""),
            self.process_guid
                .as_deref()
                .map(str::to_owned)
                .or_else(|| self.pid.map(|p| p.to_string()))
                .unwrap_or_default(),
            self.image.as_deref().unwrap_or(""),
            if entity_is_identity {
                self.entity.as_deref().unwrap_or("")
            } else {
                ""
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_bands() {
        assert_eq!(Severity::from_score(95.0), Severity::Critical);
        assert_eq!(Severity::from_score(70.0), Severity::High);
        assert_eq!(Severity::from_score(45.0), Severity::Medium);
        assert_eq!(Severity::from_score(20.0), Severity::Low);
        assert_eq!(Severity::from_score(3.0), Severity::Info);
        assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
        assert!(Severity::High > Severity::Medium);
    }
}
