//! The `live` subcommand: one look, or a watch loop until Ctrl-C.

use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use meshhunt::live::{live_hunts, Change, LiveState};
use meshhunt_hunt::Config;
use meshhunt_model::time::format_micros;
use meshhunt_model::Finding;
use meshhunt_report::{render, OutputFormat, TableStyle};

use crate::cli::{io_failure, open_lake, parse_severity, select_hunts, Failure, LiveArgs};

/// Parses `500ms`, `5s`, `2m`, `1h` (a bare number is seconds).
pub(crate) fn parse_duration(text: &str) -> Result<Duration, Failure> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| Failure::Usage(format!("not a duration: {text:?} (e.g. 5s, 500ms, 1m)")))?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(Failure::Usage(format!(
                "unknown duration unit in {text:?} (ms, s, m, h)"
            )))
        }
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(Failure::Usage(format!(
            "a duration must be positive: {text:?}"
        )));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn live_command(_: LiveArgs, _: &Config, _: bool) -> Result<ExitCode, Failure> {
    Err(Failure::Usage(
        "live mode reads /proc and runs on Linux only; on Windows collect Sysmon logs (EVTX or JSON) and run `meshhunt hunt`".into(),
    ))
}

#[cfg(target_os = "linux")]
pub(crate) fn live_command(
    args: LiveArgs,
    config: &Config,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    let format = OutputFormat::parse(&args.out.format)
        .ok_or_else(|| Failure::Usage(format!("unknown output format {:?}", args.out.format)))?;
    let watch = args.watch.as_deref().map(parse_duration).transpose()?;
    if watch.is_some() && format == OutputFormat::Csv {
        return Err(Failure::Usage(
            "--watch streams findings: use --format table or jsonl".into(),
        ));
    }
    let remember = parse_duration(&args.remember)?;
    let min = parse_severity(&args.out.min_severity)?;
    let hunts = live_hunts(select_hunts(args.hunts.as_deref(), &[])?);
    let lake = args.lake.as_deref().map(open_lake).transpose()?;
    let mut out = open_output(args.out.output.as_deref(), watch.is_some())?;
    let color = args.out.output.is_none() && io::stdout().is_terminal();
    let style = TableStyle {
        color,
        max_records: 3,
    };

    let stop = Arc::new(AtomicBool::new(false));
    if watch.is_some() {
        let flag = stop.clone();
        ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
            .map_err(|e| Failure::Internal(format!("cannot catch Ctrl-C: {e}")))?;
    }
    let mut state = LiveState::default();
    let mut printed = 0usize;
    let mut worst = None;
    loop {
        let started = Instant::now();
        let snap = meshhunt::live::snapshot(state.looks as i64 + 1).map_err(Failure::Internal)?;
        let fresh = state.absorb(snap.connections, snap.processes, snap.taken_us);
        state.prune(snap.taken_us, remember.as_micros() as i64);
        if let Some(lake) = &lake {
            meshhunt::live::append_to_lake(lake, &snap.host, snap.taken_us, fresh)
                .map_err(|e| Failure::Internal(format!("cannot append to the lake: {e}")))?;
        }
        let runs = meshhunt::live::hunt_state(&state, config, &hunts).map_err(Failure::Internal)?;
        let mut findings: Vec<Finding> = Vec::new();
        for run in &runs {
            if let Some(error) = &run.error {
                eprintln!("meshhunt: hunt {} failed: {error}", run.id);
            }
            findings.extend(run.findings.iter().filter(|f| f.severity >= min).cloned());
        }
        meshhunt_hunt::rank(&mut findings);
        worst = findings.iter().map(|f| f.severity).max().max(worst);
        if !quiet {
            let s = &snap.stats;
            eprintln!(
                "live {}: look {} at {}: {} sockets, {} connections, {} listening, {} processes scanned; collected in {:.1} ms (socket tables {:.1} ms, owners {:.1} ms), hunted in {:.1} ms{}",
                snap.host,
                state.looks,
                format_micros(snap.taken_us),
                s.sockets,
                s.connections,
                s.listening,
                s.processes_scanned,
                s.collect_us as f64 / 1000.0,
                s.tables_us as f64 / 1000.0,
                s.owners_us as f64 / 1000.0,
                started.elapsed().as_secs_f64() * 1000.0 - s.collect_us as f64 / 1000.0,
                visibility_note(s)
            );
        }
        match watch {
            None => {
                render(&mut out, format, &findings, style).map_err(io_failure)?;
                out.flush().map_err(io_failure)?;
                break;
            }
            Some(_) => {
                for (change, finding) in state.changes(findings, &hunts) {
                    write_change(&mut out, format, change, &finding, style).map_err(io_failure)?;
                    printed += 1;
                }
                out.flush().map_err(io_failure)?;
            }
        }
        let interval = watch.expect("watching");
        while started.elapsed() < interval && !stop.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50).min(interval));
        }
        if stop.load(Ordering::SeqCst) {
            if !quiet {
                eprintln!(
                    "live: stopped after {} look(s); {printed} finding(s) printed",
                    state.looks
                );
            }
            break;
        }
    }
    match (args.out.fail_on.as_deref(), worst) {
        (Some(name), Some(worst)) if worst >= parse_severity(name)? => Ok(ExitCode::from(3)),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn visibility_note(s: &meshhunt::live::LiveStats) -> String {
    if s.unowned == 0 && s.denied == 0 {
        return String::new();
    }
    format!(
        "; not visible: {} connection(s) without a visible owner, {} process(es) unreadable (run as root to see all)",
        s.unowned, s.denied
    )
}

fn open_output(path: Option<&Path>, append: bool) -> Result<Box<dyn Write>, Failure> {
    Ok(match path {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .write(true)
                .append(append)
                .truncate(!append)
                .open(path)
                .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?;
            Box::new(io::BufWriter::new(file))
        }
        None => Box::new(io::BufWriter::new(io::stdout())),
    })
}

fn write_change(
    out: &mut dyn Write,
    format: OutputFormat,
    change: Change,
    f: &Finding,
    style: TableStyle,
) -> io::Result<()> {
    match format {
        OutputFormat::Jsonl => {
            let mut value = serde_json::to_value(f)?;
            value["change"] = serde_json::Value::from(change.as_str());
            serde_json::to_writer(&mut *out, &value)?;
            out.write_all(b"\n")
        }
        _ => {
            writeln!(out, "[{}]", change.as_str())?;
            render(out, format, std::slice::from_ref(f), style)
        }
    }
}
