//! The ledger: which inputs (by content hash) the lake already holds.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

const LEDGER_FILE: &str = "ledger.jsonl";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub hash: String,
    pub path: String,
    pub bytes: u64,
    pub format: String,
    /// Rows written per table name.
    pub rows: BTreeMap<String, u64>,
    /// Seconds since the epoch.
    pub ingested_at: u64,
}

impl LedgerEntry {
    pub fn new(
        hash: &str,
        path: &str,
        bytes: u64,
        format: &str,
        rows: BTreeMap<String, u64>,
    ) -> Self {
        let ingested_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        LedgerEntry {
            hash: hash.to_owned(),
            path: path.to_owned(),
            bytes,
            format: format.to_owned(),
            rows,
            ingested_at,
        }
    }
}

#[derive(Default)]
pub(crate) struct Ledger {
    entries: Vec<LedgerEntry>,
    by_hash: HashMap<String, usize>,
}

impl Ledger {
    pub(crate) fn load(root: &Path) -> io::Result<Ledger> {
        let mut ledger = Ledger::default();
        let file = match File::open(root.join(LEDGER_FILE)) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(ledger),
            Err(e) => return Err(e),
        };
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let entry: LedgerEntry = serde_json::from_str(&line).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: line {}: {e}", root.join(LEDGER_FILE).display(), n + 1),
                )
            })?;
            ledger.insert(entry);
        }
        Ok(ledger)
    }

    fn insert(&mut self, entry: LedgerEntry) {
        match self.by_hash.get(&entry.hash) {
            Some(&i) => self.entries[i] = entry,
            None => {
                self.by_hash.insert(entry.hash.clone(), self.entries.len());
                self.entries.push(entry);
            }
        }
    }

    pub(crate) fn get(&self, hash: &str) -> Option<&LedgerEntry> {
        self.by_hash.get(hash).map(|&i| &self.entries[i])
    }

    pub(crate) fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// Adds an entry and rewrites the ledger atomically (temp + rename).
    pub(crate) fn append(&mut self, root: &Path, entry: LedgerEntry) -> io::Result<()> {
        self.insert(entry);
        let mut tmp = tempfile::NamedTempFile::new_in(root)?;
        {
            let mut out = io::BufWriter::new(tmp.as_file_mut());
            for entry in &self.entries {
                serde_json::to_writer(&mut out, entry)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(root.join(LEDGER_FILE)).map_err(|e| e.error)?;
        Ok(())
    }
}

/// BLAKE3 of a file's bytes, hex: a cryptographic content hash that runs
/// at several GB/s, so deduplication costs little beside parsing.
pub fn content_hash(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}
