//! Writing one input's rows as a Parquet part per table, atomically.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use meshhunt_model::Table;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use tempfile::NamedTempFile;

/// Rows per row group: small enough to bound memory on huge inputs.
const ROW_GROUP_ROWS: usize = 64 * 1024;

pub struct PartWriter {
    root: PathBuf,
    name: String,
    open: BTreeMap<Table, (ArrowWriter<File>, NamedTempFile)>,
    rows: BTreeMap<String, u64>,
}

impl PartWriter {
    pub(crate) fn new(root: &Path, hash: &str) -> Self {
        PartWriter {
            root: root.to_path_buf(),
            name: format!("part-{hash}.parquet"),
            open: BTreeMap::new(),
            rows: BTreeMap::new(),
        }
    }

    pub fn write(&mut self, table: Table, batch: &RecordBatch) -> io::Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        if !self.open.contains_key(&table) {
            let dir = self.root.join(table.name());
            let tmp = tempfile::Builder::new()
                .prefix(".tmp-")
                .suffix(".parquet.partial")
                .tempfile_in(&dir)?;
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .build();
            let writer = ArrowWriter::try_new(tmp.reopen()?, table.schema(), Some(props))
                .map_err(io::Error::other)?;
            self.open.insert(table, (writer, tmp));
        }
        let (writer, _) = self.open.get_mut(&table).expect("opened above");
        writer.write(batch).map_err(io::Error::other)?;
        *self.rows.entry(table.name().to_owned()).or_default() += batch.num_rows() as u64;
        Ok(())
    }

    /// Rows written so far, per table name.
    pub fn rows(&self) -> BTreeMap<String, u64> {
        self.rows.clone()
    }

    /// Closes each table's file and renames it into place.
    pub(crate) fn finish(self) -> io::Result<()> {
        for (table, (writer, tmp)) in self.open {
            writer.close().map_err(io::Error::other)?;
            tmp.as_file().sync_all()?;
            let dest = self.root.join(table.name()).join(&self.name);
            tmp.persist(dest).map_err(|e| e.error)?;
        }
        Ok(())
    }
}
