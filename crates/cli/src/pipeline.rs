//! Inputs → lake → hunts → findings, with the counts the summary needs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use meshhunt_hunt::{Config, HuntDef, HuntRun, MeshReport};
use meshhunt_ingest::{expand_inputs, read_file, FileReport, Format, InputError};
use meshhunt_lake::{content_hash, Lake, LedgerEntry};
use meshhunt_model::{Finding, Severity};
use rayon::prelude::*;

/// Rows per record batch handed from a reader to the lake.
const BATCH_ROWS: usize = 16 * 1024;

#[derive(Debug, Default)]
pub struct IngestOutcome {
    pub reports: Vec<FileReport>,
    /// Files that could not be read at all.
    pub failed: Vec<InputError>,
    /// Files whose content the lake already holds.
    pub already_ingested: Vec<PathBuf>,
    pub elapsed: Duration,
}

impl IngestOutcome {
    pub fn files_seen(&self) -> usize {
        self.reports.len() + self.failed.len() + self.already_ingested.len()
    }
}

/// Reads every input into the lake, several files at once. `on_file` is
/// called after each file (for progress).
pub fn ingest(
    lake: &Lake,
    paths: &[PathBuf],
    format: Option<Format>,
    on_file: &(dyn Fn(&Path) + Sync),
) -> IngestOutcome {
    let started = Instant::now();
    let (files, mut failed) = expand_inputs(paths);
    let results: Vec<FileResult> = files
        .par_iter()
        .map(|path| {
            let result = ingest_one(lake, path, format);
            on_file(path);
            result
        })
        .collect();
    let mut outcome = IngestOutcome::default();
    for result in results {
        match result {
            FileResult::Read(report) => outcome.reports.push(report),
            FileResult::Already(path) => outcome.already_ingested.push(path),
            FileResult::Failed(err) => failed.push(err),
        }
    }
    outcome.failed = failed;
    outcome.elapsed = started.elapsed();
    outcome
}

enum FileResult {
    Read(FileReport),
    Already(PathBuf),
    Failed(InputError),
}

fn ingest_one(lake: &Lake, path: &Path, format: Option<Format>) -> FileResult {
    let hash = match content_hash(path) {
        Ok(hash) => hash,
        Err(e) => return FileResult::Failed(InputError::new(path, format!("cannot read: {e}"))),
    };
    if lake.ingested(&hash).is_some() {
        return FileResult::Already(path.to_path_buf());
    }
    let mut part = lake.begin_part(&hash);
    let report = match read_file(path, format, BATCH_ROWS, &mut |table, batch| {
        part.write(table, &batch)
    }) {
        Ok(report) => report,
        Err(e) => return FileResult::Failed(e),
    };
    let entry = LedgerEntry::new(
        &hash,
        &path.display().to_string(),
        report.bytes,
        &report.format,
        part.rows(),
    );
    match lake.commit(part, entry) {
        Ok(()) => FileResult::Read(report),
        Err(e) => FileResult::Failed(InputError::new(
            path,
            format!("cannot write to the lake: {e}"),
        )),
    }
}

#[derive(Debug, Default)]
pub struct HuntOutcome {
    pub runs: Vec<HuntRun>,
    /// All findings at or above the minimum severity, ranked.
    pub findings: Vec<Finding>,
    /// Findings below the minimum severity (counted, not shown).
    pub hidden: usize,
    pub notes: Vec<String>,
    pub mesh: MeshReport,
    pub elapsed: Duration,
}

/// Runs the hunts over the lake.
pub fn hunt(
    lake: &Lake,
    config: &Config,
    hunts: &[HuntDef],
    min_severity: Severity,
) -> Result<HuntOutcome, String> {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the query runtime: {e}"))?;
    runtime.block_on(async {
        let ctx = meshhunt_hunt::session::lake_session(lake, config)
            .await
            .map_err(|e| format!("cannot open the lake {}: {e}", lake.root().display()))?;
        let runs = meshhunt_hunt::run_hunts(&ctx, hunts, config).await;
        let notes = meshhunt_hunt::coverage_notes(&ctx).await?;
        Ok(finish(runs, notes, min_severity, started))
    })
}

/// Ranks, filters and rolls up what the hunts found.
pub fn finish(
    runs: Vec<HuntRun>,
    notes: Vec<String>,
    min_severity: Severity,
    started: Instant,
) -> HuntOutcome {
    let mut all: Vec<Finding> = runs
        .iter()
        .flat_map(|r| r.findings.iter().cloned())
        .collect();
    meshhunt_hunt::rank(&mut all);
    let mesh = meshhunt_hunt::rollup(&all, Severity::Medium.max(min_severity));
    let total = all.len();
    let findings: Vec<Finding> = all
        .into_iter()
        .filter(|f| f.severity >= min_severity)
        .collect();
    HuntOutcome {
        hidden: total - findings.len(),
        runs,
        findings,
        notes,
        mesh,
        elapsed: started.elapsed(),
    }
}
