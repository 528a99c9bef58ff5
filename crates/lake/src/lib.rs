//! meshhunt's lake: one folder per normalized table holding Parquet parts,
//! and a ledger of ingested inputs by content hash.
//!
//! Each input becomes one part per table, named after the input's hash, so
//! ingesting the same content twice adds nothing. Parts are written to a
//! temporary file and renamed into place; the ledger line is written last.

mod ledger;
mod part;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use meshhunt_model::Table;

pub use ledger::{content_hash, LedgerEntry};
pub use part::PartWriter;

pub struct Lake {
    root: PathBuf,
    ledger: Mutex<ledger::Ledger>,
}

impl Lake {
    /// Opens (creating if needed) a lake folder.
    pub fn open(root: impl AsRef<Path>) -> io::Result<Lake> {
        let root = root.as_ref().to_path_buf();
        for table in Table::ALL {
            std::fs::create_dir_all(root.join(table.name()))?;
        }
        let ledger = ledger::Ledger::load(&root)?;
        Ok(Lake {
            root,
            ledger: Mutex::new(ledger),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn table_dir(&self, table: Table) -> PathBuf {
        self.root.join(table.name())
    }

    /// The committed Parquet parts of a table.
    pub fn table_parts(&self, table: Table) -> io::Result<Vec<PathBuf>> {
        let mut parts: Vec<PathBuf> = std::fs::read_dir(self.table_dir(table))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect();
        parts.sort();
        Ok(parts)
    }

    /// The ledger entry of content already ingested, if any.
    pub fn ingested(&self, hash: &str) -> Option<LedgerEntry> {
        self.ledger.lock().expect("ledger lock").get(hash).cloned()
    }

    /// All ledger entries, oldest first.
    pub fn entries(&self) -> Vec<LedgerEntry> {
        self.ledger.lock().expect("ledger lock").entries().to_vec()
    }

    /// Starts writing the parts of one input, identified by its hash.
    pub fn begin_part(&self, hash: &str) -> PartWriter {
        PartWriter::new(&self.root, hash)
    }

    /// Renames the parts into place, then records the input in the ledger.
    pub fn commit(&self, part: PartWriter, entry: LedgerEntry) -> io::Result<()> {
        part.finish()?;
        self.ledger
            .lock()
            .expect("ledger lock")
            .append(&self.root, entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshhunt_model::rows::{PipeRow, TableBatch};

    fn pipe_batch() -> arrow::array::RecordBatch {
        let mut batch = TableBatch::new(Table::Pipe);
        batch
            .push(
                PipeRow {
                    pipe_name: Some("\\x".into()),
                    ..Default::default()
                }
                .into(),
            )
            .unwrap();
        batch.take_record_batch()
    }

    #[test]
    fn parts_are_atomic_and_reingest_adds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(dir.path()).unwrap();
        let mut part = lake.begin_part("abc123");
        part.write(Table::Pipe, &pipe_batch()).unwrap();
        // Nothing is visible before commit.
        assert!(lake.table_parts(Table::Pipe).unwrap().is_empty());
        let entry = LedgerEntry::new("abc123", "x.json", 10, "json-flat", part.rows());
        lake.commit(part, entry).unwrap();
        assert_eq!(lake.table_parts(Table::Pipe).unwrap().len(), 1);

        let reopened = Lake::open(dir.path()).unwrap();
        assert!(reopened.ingested("abc123").is_some());
        assert_eq!(reopened.entries()[0].rows.get("pipe"), Some(&1));
        let mut again = reopened.begin_part("abc123");
        again.write(Table::Pipe, &pipe_batch()).unwrap();
        reopened
            .commit(
                again,
                LedgerEntry::new("abc123", "x.json", 10, "json-flat", Default::default()),
            )
            .unwrap();
        assert_eq!(reopened.table_parts(Table::Pipe).unwrap().len(), 1);
        assert_eq!(Lake::open(dir.path()).unwrap().entries().len(), 1);
    }
}
