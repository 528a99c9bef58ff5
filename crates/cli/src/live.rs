//! `meshhunt live`: look at this host's sockets, run the live-capable hunts
//! on what was seen, and with `--watch` keep looking: connections seen at
//! different looks add up within the hunts' windows, and each finding is
//! printed once, then again only when it changes.

use std::collections::HashMap;

use meshhunt_hunt::session::RecordBatch;
use meshhunt_hunt::{Config, HuntDef, HuntRun};
use meshhunt_lake::{Lake, LedgerEntry};
use meshhunt_model::rows::{NetworkRow, ProcessRow, Row, Table, TableBatch};
use meshhunt_model::Finding;

#[cfg(target_os = "linux")]
pub use meshhunt_ingest::live::{snapshot, LiveSnapshot, LiveStats};

/// Whether a printed finding is new or an update of one printed before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    New,
    Updated,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Updated => "updated",
        }
    }
}

type ConnKey = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
);

/// What the watch remembers between looks.
#[derive(Default)]
pub struct LiveState {
    /// Connections by identity; the row keeps its first-seen time.
    connections: HashMap<ConnKey, (NetworkRow, i64)>,
    processes: HashMap<String, ProcessRow>,
    printed: HashMap<String, Finding>,
    pub looks: u64,
}

impl LiveState {
    /// Adds a look; returns the rows not seen before (for the lake).
    pub fn absorb(
        &mut self,
        connections: Vec<NetworkRow>,
        processes: Vec<ProcessRow>,
        now_us: i64,
    ) -> Vec<Row> {
        self.looks += 1;
        let mut fresh = Vec::new();
        for p in processes {
            let key = p.process_guid.clone().unwrap_or_default();
            if let std::collections::hash_map::Entry::Vacant(slot) = self.processes.entry(key) {
                fresh.push(Row::Process(p.clone()));
                slot.insert(p);
            }
        }
        for c in connections {
            let key = (
                c.process_guid.clone(),
                c.protocol.clone(),
                c.src_ip.clone(),
                c.src_port,
                c.dst_ip.clone(),
                c.dst_port,
            );
            match self.connections.get_mut(&key) {
                Some((_, last_seen)) => *last_seen = now_us,
                None => {
                    fresh.push(Row::Network(c.clone()));
                    self.connections.insert(key, (c, now_us));
                }
            }
        }
        fresh
    }

    /// Forgets connections not seen for longer than `keep_us`.
    pub fn prune(&mut self, now_us: i64, keep_us: i64) {
        self.connections
            .retain(|_, (_, last_seen)| now_us - *last_seen <= keep_us);
    }

    /// Everything remembered, as record batches for an in-memory session.
    pub fn batches(&self) -> Vec<(Table, Vec<RecordBatch>)> {
        let mut net = TableBatch::new(Table::Network);
        for (row, _) in self.connections.values() {
            net.push(Row::Network(row.clone())).expect("network row");
        }
        let mut procs = TableBatch::new(Table::Process);
        for row in self.processes.values() {
            procs.push(Row::Process(row.clone())).expect("process row");
        }
        vec![
            (Table::Network, vec![net.take_record_batch()]),
            (Table::Process, vec![procs.take_record_batch()]),
        ]
    }

    /// The findings to print now: new ones, and ones whose content changed.
    /// `hunts` says which hunts' entities are part of a finding's identity.
    pub fn changes(&mut self, findings: Vec<Finding>, hunts: &[HuntDef]) -> Vec<(Change, Finding)> {
        let mut out = Vec::new();
        for f in findings {
            let identity = hunts
                .iter()
                .find(|h| h.id == f.hunt)
                .is_none_or(|h| h.entity_is_identity);
            let key = f.key(identity);
            let change = match self.printed.get(&key) {
                None => Some(Change::New),
                Some(old)
                    if old.summary != f.summary
                        || old.score != f.score
                        || old.entity != f.entity =>
                {
                    Some(Change::Updated)
                }
                Some(_) => None,
            };
            if let Some(change) = change {
                self.printed.insert(key, f.clone());
                out.push((change, f));
            }
        }
        out
    }
}

/// The hunts that can run on live snapshots.
pub fn live_hunts(hunts: Vec<HuntDef>) -> Vec<HuntDef> {
    hunts.into_iter().filter(|h| h.live).collect()
}

/// Runs hunts over what the state remembers.
pub fn hunt_state(
    state: &LiveState,
    config: &Config,
    hunts: &[HuntDef],
) -> Result<Vec<HuntRun>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let ctx = meshhunt_hunt::session::memory_session(config, &state.batches())
            .map_err(|e| e.to_string())?;
        Ok(meshhunt_hunt::run_hunts(&ctx, hunts, config).await)
    })
}

/// Appends a look's new rows to the lake as one part.
pub fn append_to_lake(
    lake: &Lake,
    host: &str,
    taken_us: i64,
    rows: Vec<Row>,
) -> std::io::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let id = format!("live-{host}-{taken_us}");
    let mut batches: HashMap<Table, TableBatch> = HashMap::new();
    for row in rows {
        let table = row.table();
        batches
            .entry(table)
            .or_insert_with(|| TableBatch::new(table))
            .push(row)
            .expect("batch of the row's table");
    }
    let mut part = lake.begin_part(&id);
    for (table, mut batch) in batches {
        part.write(table, &batch.take_record_batch())?;
    }
    let entry = LedgerEntry::new(&id, &format!("live:{host}"), 0, "live", part.rows());
    lake.commit(part, entry)
}
