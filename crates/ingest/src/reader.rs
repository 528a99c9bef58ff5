//! Reading one input file: format detection, gzip, the EVTX and JSON-lines
//! loops, and batching rows for the sink.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use arrow::array::RecordBatch;
use evtx::EvtxParser;
use flate2::read::MultiGzDecoder;
use meshhunt_model::rows::{Row, Table, TableBatch};

use crate::fields::EventFields;
use crate::json_event::{parse_event_json, JsonShape};
use crate::normalize::{normalize, Channel, Outcome, Provenance};
use crate::report::FileReport;
use crate::InputError;

/// Input formats meshhunt reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Evtx,
    /// JSON lines of Windows events (flat, Winlogbeat/ECS, Azure Event).
    JsonLines,
}

impl Format {
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "evtx" => Some(Format::Evtx),
            "json" | "jsonl" | "sysmon-json" => Some(Format::JsonLines),
            _ => None,
        }
    }
}

const EVTX_MAGIC: &[u8] = b"ElfFile\0";

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];

/// Where rows go: a record batch of one table at a time.
pub type Sink<'a> = dyn FnMut(Table, RecordBatch) -> io::Result<()> + 'a;

/// Reads one file, detecting its format from content unless `forced`,
/// and hands batches of at most `batch_rows` rows to `sink`.
pub fn read_file(
    path: &Path,
    forced: Option<Format>,
    batch_rows: usize,
    sink: &mut Sink,
) -> Result<FileReport, InputError> {
    let open_err = |e: io::Error| InputError::new(path, format!("cannot open: {e}"));
    let file = File::open(path).map_err(open_err)?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut report = FileReport::new(path.to_path_buf(), bytes);
    let mut head = BufReader::with_capacity(256 * 1024, file);
    let gzipped = head.fill_buf().map_err(open_err)?.starts_with(GZIP_MAGIC);
    let mut rows = RowBuffers::new(batch_rows);
    let source_file = path.display().to_string();

    if gzipped {
        let mut inner = BufReader::with_capacity(256 * 1024, MultiGzDecoder::new(head));
        let format = detect(&mut inner, forced, path)?;
        match format {
            Format::JsonLines => {
                read_json_lines(inner, &source_file, &mut report, &mut rows, sink)?
            }
            Format::Evtx => {
                // The EVTX parser seeks, so a compressed EVTX is spooled to disk.
                let mut spool = tempfile::tempfile()
                    .map_err(|e| InputError::new(path, format!("cannot spool gzip: {e}")))?;
                io::copy(&mut inner, &mut spool)
                    .and_then(|_| spool.rewind())
                    .map_err(|e| InputError::new(path, format!("gzip: {e}")))?;
                read_evtx(spool, &source_file, &mut report, &mut rows, sink)?;
            }
        }
    } else {
        match detect(&mut head, forced, path)? {
            Format::JsonLines => read_json_lines(head, &source_file, &mut report, &mut rows, sink)?,
            Format::Evtx => {
                let mut file = head.into_inner();
                file.rewind().map_err(open_err)?;
                read_evtx(file, &source_file, &mut report, &mut rows, sink)?;
            }
        }
    }
    rows.flush_all(sink)
        .map_err(|e| InputError::new(path, format!("cannot write rows: {e}")))?;
    report.rows = rows.rows_out.into_iter().collect();
    Ok(report)
}

fn detect(
    head: &mut impl BufRead,
    forced: Option<Format>,
    path: &Path,
) -> Result<Format, InputError> {
    if let Some(format) = forced {
        return Ok(format);
    }
    let buf = head
        .fill_buf()
        .map_err(|e| InputError::new(path, format!("cannot read: {e}")))?;
    if buf.starts_with(EVTX_MAGIC) {
        return Ok(Format::Evtx);
    }
    let text = buf.strip_prefix(b"\xef\xbb\xbf".as_slice()).unwrap_or(buf);
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line);
    let first_line = first_line.trim();
    if first_line.starts_with('{') && first_line.ends_with('}') {
        return Ok(Format::JsonLines);
    }
    Err(InputError::unsupported(path))
}

/// Per-file tallies shared by both loops.
struct Tally {
    events: HashMap<(Channel, u32), u64>,
}

impl Tally {
    fn new() -> Self {
        Tally {
            events: HashMap::new(),
        }
    }

    fn count(&mut self, ev: &EventFields, outcome: &Outcome, report: &mut FileReport) {
        if let Some(id) = ev.event_id {
            *self
                .events
                .entry((Channel::of(&ev.channel), id))
                .or_default() += 1;
        }
        if outcome.relevant {
            report.kept += 1;
        }
        report.zeroed_timestamps += outcome.zeroed_timestamp as u64;
        report.clock_disagreements += outcome.clocks_disagree as u64;
    }

    fn finish(self, report: &mut FileReport) {
        for ((channel, id), n) in self.events {
            *report
                .events
                .entry(format!("{}_{id}", channel.label()))
                .or_default() += n;
        }
    }
}

fn read_evtx<R: Read + Seek>(
    input: R,
    source_file: &str,
    report: &mut FileReport,
    rows: &mut RowBuffers,
    sink: &mut Sink,
) -> Result<(), InputError> {
    report.format = "evtx".into();
    let mut parser = EvtxParser::from_read_seek(input)
        .map_err(|e| InputError::new(&report.path, format!("not a readable EVTX file: {e}")))?;
    let mut ev = EventFields::default();
    let mut tally = Tally::new();
    // The evtx crate's JSON rendering, read by the same key-picking visitor
    // as JSON lines: cheaper than scanning its XML rendering.
    for (index, record) in parser.records_json().enumerate() {
        report.records += 1;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                report.skip(
                    &format!("record #{}", index + 1),
                    "unreadable EVTX record",
                    &e.to_string(),
                );
                continue;
            }
        };
        ev.clear();
        if let Err(e) = parse_event_json(&record.data, &mut ev) {
            let place = format!("record {}", record.event_record_id);
            report.skip(&place, "malformed event", &e);
            continue;
        }
        ev.record_micros = Some(record.timestamp.as_microsecond());
        let prov = Provenance {
            source: "evtx",
            source_file,
            fallback_record_id: record.event_record_id as i64,
        };
        let outcome = rows
            .normalize(&ev, &prov, sink)
            .map_err(|e| InputError::new(&report.path, format!("cannot write rows: {e}")))?;
        tally.count(&ev, &outcome, report);
    }
    tally.finish(report);
    Ok(())
}

fn read_json_lines(
    mut input: impl BufRead,
    source_file: &str,
    report: &mut FileReport,
    rows: &mut RowBuffers,
    sink: &mut Sink,
) -> Result<(), InputError> {
    let mut line = Vec::with_capacity(4096);
    let mut ev = EventFields::default();
    let mut tally = Tally::new();
    let mut shapes: HashMap<JsonShape, u64> = HashMap::new();
    let mut line_no: i64 = 0;
    loop {
        line.clear();
        let n = input.read_until(b'\n', &mut line).map_err(|e| {
            InputError::new(
                &report.path,
                format!("read error after line {line_no}: {e}"),
            )
        })?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let bytes = line
            .strip_prefix(b"\xef\xbb\xbf".as_slice())
            .unwrap_or(&line);
        let Ok(text) = std::str::from_utf8(bytes) else {
            report.records += 1;
            report.skip(
                &format!("line {line_no}"),
                "invalid UTF-8",
                "line is not UTF-8 text",
            );
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        report.records += 1;
        ev.clear();
        match parse_event_json(text, &mut ev) {
            Ok(shape) => *shapes.entry(shape).or_default() += 1,
            Err(e) => {
                report.skip(&format!("line {line_no}"), "malformed JSON", &e);
                continue;
            }
        }
        let prov = Provenance {
            source: "json",
            source_file,
            fallback_record_id: line_no,
        };
        let outcome = rows
            .normalize(&ev, &prov, sink)
            .map_err(|e| InputError::new(&report.path, format!("cannot write rows: {e}")))?;
        tally.count(&ev, &outcome, report);
    }
    tally.finish(report);
    let shape = shapes.into_iter().max_by_key(|(_, n)| *n).map(|(s, _)| s);
    report.format = shape.unwrap_or_default().as_str().to_owned();
    Ok(())
}

/// Buffers rows per table and flushes full batches to the sink.
struct RowBuffers {
    batches: Vec<TableBatch>,
    batch_rows: usize,
    rows_out: HashMap<Table, u64>,
}

impl RowBuffers {
    fn new(batch_rows: usize) -> Self {
        RowBuffers {
            batches: Table::ALL.iter().map(|&t| TableBatch::new(t)).collect(),
            batch_rows: batch_rows.max(1),
            rows_out: HashMap::new(),
        }
    }

    fn normalize(
        &mut self,
        ev: &EventFields,
        prov: &Provenance,
        sink: &mut Sink,
    ) -> io::Result<Outcome> {
        let mut full = None;
        let outcome = normalize(ev, prov, &mut |row: Row| {
            let table = row.table();
            let batch = &mut self.batches[table as usize];
            batch.push(row).expect("batches are indexed by table");
            *self.rows_out.entry(table).or_default() += 1;
            if batch.len() >= self.batch_rows {
                full = Some(table);
            }
        });
        if let Some(table) = full {
            self.flush(table, sink)?;
        }
        Ok(outcome)
    }

    fn flush(&mut self, table: Table, sink: &mut Sink) -> io::Result<()> {
        let batch = &mut self.batches[table as usize];
        if !batch.is_empty() {
            sink(table, batch.take_record_batch())?;
        }
        Ok(())
    }

    fn flush_all(&mut self, sink: &mut Sink) -> io::Result<()> {
        for &table in Table::ALL {
            self.flush(table, sink)?;
        }
        Ok(())
    }
}
