//! The normalized tables: one row type per event kind, its Arrow schema, and
//! the buffer that turns rows into record batches.
//!
//! Every table starts with `ts` (the event's own clock, UTC µs) and
//! `record_ts` (the clock of the record that carried it: EVTX TimeCreated,
//! a shipper's @timestamp), and ends with provenance: `source` (reader),
//! `source_file` and `record_id`, so a finding can point back to its record.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

macro_rules! arrow_type {
    (i64) => {
        DataType::Int64
    };
    (str) => {
        DataType::Utf8
    };
    (bool) => {
        DataType::Boolean
    };
}

macro_rules! rust_type {
    (i64) => { Option<i64> };
    (str) => { Option<String> };
    (bool) => { Option<bool> };
}

macro_rules! column {
    ($rows:expr, $field:ident, i64) => {
        Arc::new(Int64Array::from_iter($rows.iter().map(|r| r.$field))) as ArrayRef
    };
    ($rows:expr, $field:ident, str) => {
        Arc::new(StringArray::from_iter(
            $rows.iter().map(|r| r.$field.as_deref()),
        )) as ArrayRef
    };
    ($rows:expr, $field:ident, bool) => {
        Arc::new(BooleanArray::from_iter($rows.iter().map(|r| r.$field))) as ArrayRef
    };
}

macro_rules! tables {
    ($( $variant:ident $name:literal $row:ident { $( $field:ident : $kind:ident ),* $(,)? } )*) => {
        /// The normalized tables, in the order they are listed.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Table { $( $variant ),* }

        impl Table {
            pub const ALL: &'static [Table] = &[ $( Table::$variant ),* ];

            pub fn name(self) -> &'static str {
                match self { $( Table::$variant => $name ),* }
            }

            pub fn from_name(name: &str) -> Option<Table> {
                match name { $( $name => Some(Table::$variant), )* _ => None }
            }

            pub fn schema(self) -> SchemaRef {
                match self {
                    $( Table::$variant => Arc::new(Schema::new(vec![
                        $( Field::new(stringify!($field), arrow_type!($kind), true) ),*
                    ])) ),*
                }
            }
        }

        $(
            #[derive(Clone, Debug, Default, PartialEq)]
            pub struct $row { $( pub $field: rust_type!($kind) ),* }

            impl From<$row> for Row {
                fn from(row: $row) -> Row { Row::$variant(row) }
            }
        )*

        /// One row of any table.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Row { $( $variant($row) ),* }

        impl Row {
            pub fn table(&self) -> Table {
                match self { $( Row::$variant(_) => Table::$variant ),* }
            }
        }

        /// Rows of one table waiting to become a record batch.
        #[derive(Clone, Debug)]
        pub enum TableBatch { $( $variant(Vec<$row>) ),* }

        impl TableBatch {
            pub fn new(table: Table) -> Self {
                match table { $( Table::$variant => TableBatch::$variant(Vec::new()) ),* }
            }

            pub fn table(&self) -> Table {
                match self { $( TableBatch::$variant(_) => Table::$variant ),* }
            }

            pub fn len(&self) -> usize {
                match self { $( TableBatch::$variant(rows) => rows.len() ),* }
            }

            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Appends a row; a row of another table is refused, naming its table.
            pub fn push(&mut self, row: Row) -> Result<(), Table> {
                match (self, row) {
                    $( (TableBatch::$variant(rows), Row::$variant(row)) => { rows.push(row); Ok(()) } )*
                    #[allow(unreachable_patterns)]
                    (_, row) => Err(row.table()),
                }
            }

            /// Builds the record batch and empties the buffer.
            pub fn take_record_batch(&mut self) -> RecordBatch {
                let table = self.table();
                let columns: Vec<ArrayRef> = match self {
                    $( TableBatch::$variant(rows) => {
                        let columns = vec![ $( column!(rows, $field, $kind) ),* ];
                        rows.clear();
                        columns
                    } )*
                };
                RecordBatch::try_new(table.schema(), columns)
                    .expect("columns are built from the table's own schema")
            }
        }
    };
}

tables! {
    Process "process" ProcessRow {
        ts: i64, record_ts: i64, host: str, pid: i64, process_guid: str, image: str,
        command_line: str, user: str, parent_pid: i64, parent_guid: str, parent_image: str,
        parent_command_line: str, hashes: str, integrity_level: str,
        source: str, source_file: str, record_id: i64,
    }
    Network "network" NetworkRow {
        ts: i64, record_ts: i64, host: str, pid: i64, process_guid: str, image: str, user: str,
        protocol: str, initiated: bool, src_ip: str, src_port: i64, dst_ip: str, dst_port: i64,
        dst_hostname: str, bytes_out: i64, bytes_in: i64, duration_ms: i64, state: str,
        source: str, source_file: str, record_id: i64,
    }
    Dns "dns" DnsRow {
        ts: i64, record_ts: i64, host: str, pid: i64, process_guid: str, image: str,
        query: str, qtype: str, answers: str, rcode: str,
        source: str, source_file: str, record_id: i64,
    }
    DnsAnswer "dns_answer" DnsAnswerRow {
        ts: i64, record_ts: i64, host: str, pid: i64, process_guid: str, image: str,
        query: str, answer_ip: str,
        source: str, source_file: str, record_id: i64,
    }
    Pipe "pipe" PipeRow {
        ts: i64, record_ts: i64, host: str, pid: i64, process_guid: str, image: str,
        pipe_name: str, action: str, user: str,
        source: str, source_file: str, record_id: i64,
    }
    ImageLoad "image_load" ImageLoadRow {
        ts: i64, record_ts: i64, host: str, pid: i64, process_guid: str, image: str,
        loaded_image: str, signed: bool, signature: str, user: str,
        source: str, source_file: str, record_id: i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_batches_with_the_table_schema() {
        let mut batch = TableBatch::new(Table::Pipe);
        let row = PipeRow {
            host: Some("ws1".into()),
            pipe_name: Some("\\msagent_fe".into()),
            record_id: Some(7),
            ..Default::default()
        };
        batch.push(row.into()).unwrap();
        assert!(batch.push(ProcessRow::default().into()).is_err());
        let rb = batch.take_record_batch();
        assert_eq!(rb.num_rows(), 1);
        assert_eq!(rb.schema(), Table::Pipe.schema());
        assert!(batch.is_empty());
        assert_eq!(Table::from_name("image_load"), Some(Table::ImageLoad));
    }
}
