//! The closing summary: files, records, what was skipped and why, clock
//! quirks, findings by severity, coverage notes, time.

use std::collections::BTreeMap;
use std::io::{self, Write};

use meshhunt_model::sanitize::for_terminal;
use meshhunt_model::Severity;

use crate::pipeline::{HuntOutcome, IngestOutcome};

/// How many per-record problems are listed before counting the rest.
const MAX_EXAMPLES: usize = 10;

/// Totals for the run; with `per_file`, a line for every file read too.
pub fn write_ingest(out: &mut dyn Write, ingest: &IngestOutcome, per_file: bool) -> io::Result<()> {
    let records: u64 = ingest.reports.iter().map(|r| r.records).sum();
    let kept: u64 = ingest.reports.iter().map(|r| r.kept).sum();
    let bytes: u64 = ingest.reports.iter().map(|r| r.bytes).sum();
    let mut skipped: BTreeMap<&str, u64> = BTreeMap::new();
    for report in &ingest.reports {
        for (reason, n) in &report.skipped {
            *skipped.entry(reason.as_str()).or_default() += n;
        }
    }
    let skipped_total: u64 = skipped.values().sum();
    let secs = ingest.elapsed.as_secs_f64();
    writeln!(
        out,
        "meshhunt: {} file(s): {} read, {} already in the lake, {} not read; {} records ({:.1} MB) in {:.2} s ({:.0} records/s)",
        ingest.files_seen(),
        ingest.reports.len(),
        ingest.already_ingested.len(),
        ingest.failed.len(),
        records,
        bytes as f64 / 1e6,
        secs,
        records as f64 / secs.max(1e-9),
    )?;
    writeln!(
        out,
        "  kept {kept} events meshhunt hunts on; skipped {skipped_total} record(s){}",
        reasons(&skipped)
    )?;
    let zeroed: u64 = ingest.reports.iter().map(|r| r.zeroed_timestamps).sum();
    let disagree: u64 = ingest.reports.iter().map(|r| r.clock_disagreements).sum();
    if zeroed > 0 {
        writeln!(out, "  {zeroed} event(s) carried a zeroed 1601-01-01 timestamp (kept; the other clock is used)")?;
    }
    if disagree > 0 {
        writeln!(
            out,
            "  {disagree} event(s) whose own UtcTime and record time disagree by more than 2 minutes (kept; such processes are ordered by record time)"
        )?;
    }
    if per_file {
        for r in &ingest.reports {
            writeln!(
                out,
                "  {}: {}, {} records, {} kept, {} skipped{}",
                for_terminal(&r.path.display().to_string()),
                r.format,
                r.records,
                r.kept,
                r.skipped_total(),
                reasons(&r.skipped.iter().map(|(k, v)| (k.as_str(), *v)).collect())
            )?;
        }
        for path in &ingest.already_ingested {
            writeln!(
                out,
                "  {}: already in the lake",
                for_terminal(&path.display().to_string())
            )?;
        }
    }
    // Folders hold notes, metadata and archives beside the logs: count
    // those by extension; list the files that failed for any other reason.
    let (unsupported, broken): (Vec<_>, Vec<_>) = ingest.failed.iter().partition(|e| e.unsupported);
    if !unsupported.is_empty() {
        let mut by_ext: BTreeMap<String, usize> = BTreeMap::new();
        for e in &unsupported {
            let ext = e
                .path
                .extension()
                .map_or("(none)".into(), |x| format!(".{}", x.to_string_lossy()));
            *by_ext.entry(ext).or_default() += 1;
        }
        let exts: Vec<String> = by_ext.iter().map(|(x, n)| format!("{x} {n}")).collect();
        writeln!(
            out,
            "  {} file(s) of an unsupported format not read ({}){}",
            unsupported.len(),
            for_terminal(&exts.join(", ")),
            if per_file { ":" } else { "; -v lists them" }
        )?;
        if per_file {
            for e in &unsupported {
                writeln!(out, "    {}", for_terminal(&e.path.display().to_string()))?;
            }
        }
    }
    for err in broken.iter().take(MAX_EXAMPLES) {
        writeln!(out, "  not read: {}", for_terminal(&err.to_string()))?;
    }
    if broken.len() > MAX_EXAMPLES {
        writeln!(
            out,
            "  ... and {} more file(s) not read",
            broken.len() - MAX_EXAMPLES
        )?;
    }
    let examples: Vec<&String> = ingest
        .reports
        .iter()
        .flat_map(|r| r.examples.iter())
        .collect();
    for example in examples.iter().take(MAX_EXAMPLES) {
        writeln!(out, "  skipped: {}", for_terminal(example))?;
    }
    if examples.len() > MAX_EXAMPLES {
        writeln!(out, "  ... and more skipped records (counted above)")?;
    }
    Ok(())
}

fn reasons(skipped: &BTreeMap<&str, u64>) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = skipped.iter().map(|(r, n)| format!("{r}: {n}")).collect();
    format!(" ({})", parts.join(", "))
}

pub fn write_hunt(out: &mut dyn Write, hunt: &HuntOutcome) -> io::Result<()> {
    let mut by_sev: BTreeMap<Severity, usize> = BTreeMap::new();
    for f in &hunt.findings {
        *by_sev.entry(f.severity).or_default() += 1;
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| by_sev.get(s).map(|n| format!("{n} {s}")))
        .collect();
    let shown = if counts.is_empty() {
        "none".to_owned()
    } else {
        counts.join(", ")
    };
    writeln!(
        out,
        "  findings: {shown}{}; {} hunt(s) in {:.2} s",
        if hunt.hidden > 0 {
            format!(" ({} below the minimum severity not shown)", hunt.hidden)
        } else {
            String::new()
        },
        hunt.runs.len(),
        hunt.elapsed.as_secs_f64()
    )?;
    for run in &hunt.runs {
        if let Some(error) = &run.error {
            writeln!(out, "  hunt {} failed: {}", run.id, for_terminal(error))?;
        }
    }
    for note in &hunt.notes {
        writeln!(out, "  note: {}", for_terminal(note))?;
    }
    Ok(())
}
