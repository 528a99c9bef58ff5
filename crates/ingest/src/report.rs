//! What a reader did with one file: counts, skip reasons, clock quirks.

use std::collections::BTreeMap;
use std::path::PathBuf;

use meshhunt_model::Table;

/// How many examples of skipped records a file keeps for the run summary.
const MAX_EXAMPLES: usize = 5;

#[derive(Clone, Debug, Default)]
pub struct FileReport {
    pub path: PathBuf,
    /// The detected (or forced) format, e.g. `evtx`, `json-flat`.
    pub format: String,
    pub bytes: u64,
    /// Records (EVTX records, JSON lines) read.
    pub records: u64,
    /// Records of a kind meshhunt keeps (Sysmon 1/3/7/17/18/22, 4688, 5156).
    pub kept: u64,
    pub rows: BTreeMap<Table, u64>,
    /// Events per channel and id, e.g. `sysmon_3`, `Security_4688`.
    pub events: BTreeMap<String, u64>,
    pub skipped: BTreeMap<String, u64>,
    /// "file: record N: reason" for the first few skipped records.
    pub examples: Vec<String>,
    pub zeroed_timestamps: u64,
    pub clock_disagreements: u64,
}

impl FileReport {
    pub fn new(path: PathBuf, bytes: u64) -> Self {
        FileReport {
            path,
            bytes,
            ..Default::default()
        }
    }

    pub fn skip(&mut self, place: &str, reason: &str, detail: &str) {
        *self.skipped.entry(reason.to_owned()).or_default() += 1;
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(format!(
                "{}: {place}: {reason}: {detail}",
                self.path.display()
            ));
        }
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    pub fn rows_in(&self, table: Table) -> u64 {
        self.rows.get(&table).copied().unwrap_or(0)
    }
}
