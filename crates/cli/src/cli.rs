//! Argument parsing and wiring of the subcommands.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use meshhunt::pipeline::{self, HuntOutcome, IngestOutcome};
use meshhunt::simulate::{simulate, GroundTruth, SimOptions};
use meshhunt::summary;
use meshhunt_hunt::{load_hunts, Config, HuntDef};
use meshhunt_ingest::Format;
use meshhunt_lake::Lake;
use meshhunt_model::Severity;
use meshhunt_report::{render, render_mesh, OutputFormat, TableStyle};

/// Exit code when --fail-on matched.
const EXIT_FINDINGS: u8 = 3;

pub(crate) enum Failure {
    /// Bad usage or input that stopped the run (exit 1).
    Usage(String),
    /// A bug or an environment failure (exit 2).
    Internal(String),
}

#[derive(Parser)]
#[command(
    name = "meshhunt",
    version,
    about = "Hunt peer-to-peer C2 meshes (the Kazuar 2.0 pattern) in endpoint and network telemetry"
)]
struct Cli {
    /// TOML config (see `meshhunt config --print-default`).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// No progress bars and no run summary.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// A summary line for every input file.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest inputs (files or folders) and hunt; a temporary lake unless --lake.
    Hunt(HuntArgs),
    /// Ingest inputs into the lake without hunting.
    Ingest(IngestArgs),
    /// List or show the hunts.
    Hunts {
        #[command(subcommand)]
        action: HuntsAction,
        /// Folder of extra hunt files (*.toml).
        #[arg(long)]
        hunts: Option<PathBuf>,
    },
    /// Configuration.
    Config {
        /// Print the default configuration, commented.
        #[arg(long)]
        print_default: bool,
    },
    /// Write a demo estate (Sysmon JSON lines + ground truth) to a folder.
    Simulate(SimArgs),
    /// Hunt this host's live sockets (Linux); --watch keeps looking.
    Live(LiveArgs),
    /// Simulate an estate with a planted mesh, hunt it, compare with the truth.
    Demo {
        #[command(flatten)]
        sim: EstateArgs,
        #[command(flatten)]
        out: OutputArgs,
    },
}

#[derive(Args)]
pub(crate) struct LiveArgs {
    /// Look again every DURATION (e.g. 5s, 500ms, 1m) until Ctrl-C; print
    /// each finding once, then again only when it changes.
    #[arg(long)]
    pub(crate) watch: Option<String>,
    /// Append what each look sees to this lake (history for first-seen IPs).
    #[arg(long)]
    pub(crate) lake: Option<PathBuf>,
    /// How long --watch remembers a connection after it was last seen.
    #[arg(long, default_value = "1h")]
    pub(crate) remember: String,
    /// Folder of extra hunt files (*.toml); only those marked live run.
    #[arg(long)]
    pub(crate) hunts: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) out: OutputArgs,
}

#[derive(Subcommand)]
enum HuntsAction {
    List,
    Show { id: String },
}

#[derive(Args)]
struct IngestArgs {
    /// Files or folders (EVTX, JSON lines, gzip of either).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Lake folder.
    #[arg(long, default_value = "./meshhunt-lake")]
    lake: PathBuf,
    /// Input format, instead of detecting it from content: evtx | jsonl.
    #[arg(long)]
    input_format: Option<String>,
}

#[derive(Args)]
struct HuntArgs {
    /// Files or folders; none to hunt what --lake already holds.
    paths: Vec<PathBuf>,
    /// Lake folder to ingest into and hunt over (default: a temporary lake).
    #[arg(long)]
    lake: Option<PathBuf>,
    /// Input format, instead of detecting it from content: evtx | jsonl.
    #[arg(long)]
    input_format: Option<String>,
    /// Folder of extra hunt files (*.toml).
    #[arg(long)]
    hunts: Option<PathBuf>,
    /// Run only these hunts (comma-separated ids).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Args)]
pub(crate) struct OutputArgs {
    /// Output format: table | jsonl | csv.
    #[arg(long, default_value = "table")]
    pub(crate) format: String,
    /// Write findings to this file instead of stdout.
    #[arg(long, short)]
    pub(crate) output: Option<PathBuf>,
    /// Hide findings below this severity: info | low | medium | high | critical.
    #[arg(long, default_value = "low")]
    pub(crate) min_severity: String,
    /// Exit with code 3 when a finding reaches this severity (for CI).
    #[arg(long)]
    pub(crate) fail_on: Option<String>,
}

/// The shape of a simulated estate.
#[derive(Args)]
struct EstateArgs {
    #[arg(long, default_value_t = 10)]
    hosts: usize,
    #[arg(long, default_value_t = 2)]
    hours: u32,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

impl EstateArgs {
    fn options(&self) -> SimOptions {
        SimOptions {
            hosts: self.hosts,
            hours: self.hours,
            seed: self.seed,
        }
    }
}

#[derive(Args)]
struct SimArgs {
    #[command(flatten)]
    estate: EstateArgs,
    /// Output folder.
    #[arg(long, short)]
    output: PathBuf,
}

pub fn run() -> Result<ExitCode, Failure> {
    let cli = Cli::parse();
    let verbose = cli.verbose;
    let config = match &cli.config {
        Some(path) => Config::load(path).map_err(Failure::Usage)?,
        None => Config::default(),
    };
    match cli.command {
        Command::Hunt(args) => hunt_command(args, &config, cli.quiet, verbose),
        Command::Ingest(args) => {
            let format = input_format(args.input_format.as_deref())?;
            let lake = open_lake(&args.lake)?;
            let ingest = ingest_with_progress(&lake, &args.paths, format, cli.quiet);
            if !cli.quiet {
                summary::write_ingest(&mut io::stderr(), &ingest, verbose).map_err(io_failure)?;
            }
            if ingest.reports.is_empty() && ingest.already_ingested.is_empty() {
                return Err(Failure::Usage("no input could be read".into()));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Hunts { action, hunts } => {
            let defs = load_hunts(hunts.as_deref()).map_err(Failure::Usage)?;
            hunts_command(action, &defs).map_err(io_failure)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { print_default } => {
            if !print_default {
                return Err(Failure::Usage(
                    "say what to do: `meshhunt config --print-default`".into(),
                ));
            }
            print!("{}", meshhunt_hunt::config::DEFAULT_CONFIG_TOML);
            Ok(ExitCode::SUCCESS)
        }
        Command::Simulate(args) => {
            let truth = simulate(&args.estate.options(), &args.output)
                .map_err(|e| Failure::Usage(format!("{}: {e}", args.output.display())))?;
            eprintln!(
                "meshhunt: wrote {} hosts' Sysmon JSON lines and ground-truth.json to {} (mesh: {}; leader {})",
                truth.hosts.len(),
                args.output.display(),
                truth.mesh_hosts.join(", "),
                truth.leader
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { sim, out } => demo_command(sim, out, &config, cli.quiet, verbose),
        Command::Live(args) => crate::live_cmd::live_command(args, &config, cli.quiet),
    }
}

pub(crate) fn io_failure(e: io::Error) -> Failure {
    Failure::Internal(e.to_string())
}

fn input_format(name: Option<&str>) -> Result<Option<Format>, Failure> {
    name.map(|n| {
        Format::parse(n)
            .ok_or_else(|| Failure::Usage(format!("unknown input format {n:?} (evtx | jsonl)")))
    })
    .transpose()
}

pub(crate) fn open_lake(path: &Path) -> Result<Lake, Failure> {
    Lake::open(path)
        .map_err(|e| Failure::Usage(format!("{}: cannot open the lake: {e}", path.display())))
}

fn ingest_with_progress(
    lake: &Lake,
    paths: &[PathBuf],
    format: Option<Format>,
    quiet: bool,
) -> IngestOutcome {
    let bar = if quiet || !io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed} ingesting: {pos} file(s) read {msg}")
                .expect("valid template"),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        bar
    };
    let outcome = pipeline::ingest(lake, paths, format, &|_| bar.inc(1));
    bar.finish_and_clear();
    outcome
}

pub(crate) fn select_hunts(dir: Option<&Path>, only: &[String]) -> Result<Vec<HuntDef>, Failure> {
    let defs = load_hunts(dir).map_err(Failure::Usage)?;
    if only.is_empty() {
        return Ok(defs);
    }
    for id in only {
        if !defs.iter().any(|d| &d.id == id) {
            return Err(Failure::Usage(format!(
                "no hunt named {id:?} (see `meshhunt hunts list`)"
            )));
        }
    }
    Ok(defs.into_iter().filter(|d| only.contains(&d.id)).collect())
}

fn hunt_command(
    args: HuntArgs,
    config: &Config,
    quiet: bool,
    verbose: bool,
) -> Result<ExitCode, Failure> {
    let format = input_format(args.input_format.as_deref())?;
    let hunts = select_hunts(args.hunts.as_deref(), &args.only)?;
    let temp;
    let lake_path = match &args.lake {
        Some(path) => path.clone(),
        None => {
            if args.paths.is_empty() {
                return Err(Failure::Usage(
                    "give inputs to hunt, or --lake DIR to hunt a lake".into(),
                ));
            }
            temp = tempfile::tempdir().map_err(io_failure)?;
            temp.path().to_path_buf()
        }
    };
    let lake = open_lake(&lake_path)?;
    let ingest = if args.paths.is_empty() {
        None
    } else {
        let ingest = ingest_with_progress(&lake, &args.paths, format, quiet);
        if ingest.reports.is_empty() && ingest.already_ingested.is_empty() {
            if !quiet {
                summary::write_ingest(&mut io::stderr(), &ingest, verbose).map_err(io_failure)?;
            }
            return Err(Failure::Usage("no input could be read".into()));
        }
        Some(ingest)
    };
    let outcome = run_and_report(&lake, config, &hunts, &args.out)?;
    if !quiet {
        let mut err = io::stderr();
        if let Some(ingest) = &ingest {
            summary::write_ingest(&mut err, ingest, verbose).map_err(io_failure)?;
        }
        summary::write_hunt(&mut err, &outcome).map_err(io_failure)?;
    }
    fail_on(&args.out, &outcome)
}

fn run_and_report(
    lake: &Lake,
    config: &Config,
    hunts: &[HuntDef],
    out: &OutputArgs,
) -> Result<HuntOutcome, Failure> {
    let output = OutputFormat::parse(&out.format).ok_or_else(|| {
        Failure::Usage(format!(
            "unknown output format {:?} (table | jsonl | csv)",
            out.format
        ))
    })?;
    let min = parse_severity(&out.min_severity)?;
    let outcome = pipeline::hunt(lake, config, hunts, min).map_err(Failure::Internal)?;
    write_findings(output, out.output.as_deref(), &outcome)?;
    Ok(outcome)
}

fn write_findings(
    format: OutputFormat,
    path: Option<&Path>,
    outcome: &HuntOutcome,
) -> Result<(), Failure> {
    let color = path.is_none() && io::stdout().is_terminal();
    let style = TableStyle {
        color,
        max_records: 4,
    };
    let mut sink: Box<dyn Write> = match path {
        Some(path) => Box::new(io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?,
        )),
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    render(&mut sink, format, &outcome.findings, style).map_err(io_failure)?;
    if format == OutputFormat::Table {
        render_mesh(&mut sink, &outcome.mesh).map_err(io_failure)?;
    }
    sink.flush().map_err(io_failure)
}

pub(crate) fn parse_severity(name: &str) -> Result<Severity, Failure> {
    Severity::parse(name).ok_or_else(|| {
        Failure::Usage(format!(
            "unknown severity {name:?} (info | low | medium | high | critical)"
        ))
    })
}

fn fail_on(out: &OutputArgs, outcome: &HuntOutcome) -> Result<ExitCode, Failure> {
    if let Some(name) = &out.fail_on {
        let threshold = parse_severity(name)?;
        if outcome.findings.iter().any(|f| f.severity >= threshold) {
            return Ok(ExitCode::from(EXIT_FINDINGS));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn hunts_command(action: HuntsAction, defs: &[HuntDef]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match action {
        HuntsAction::List => {
            writeln!(
                out,
                "{:<20} {:<9} {:<5} {:<34} TITLE",
                "ID", "SEVERITY", "LIVE", "TABLES"
            )?;
            for d in defs {
                writeln!(
                    out,
                    "{:<20} {:<9} {:<5} {:<34} {}",
                    d.id,
                    d.severity.as_str(),
                    if d.live { "yes" } else { "no" },
                    d.tables.join(","),
                    d.title
                )?;
            }
        }
        HuntsAction::Show { id } => {
            let Some(d) = defs.iter().find(|d| d.id == id) else {
                writeln!(out, "no hunt named {id:?}")?;
                return Ok(());
            };
            writeln!(out, "{} ({})\n\n{}\n", d.title, d.id, d.description.trim())?;
            writeln!(
                out,
                "severity: {}   ATT&CK: {}   tables: {}   origin: {}",
                d.severity,
                d.attack.join(", "),
                d.tables.join(", "),
                d.origin
            )?;
            writeln!(
                out,
                "\nparameters (override in the config under [hunts.{}]):",
                d.id
            )?;
            for p in &d.params {
                writeln!(out, "  {} = {}    # {}", p.name, p.default, p.help)?;
            }
            writeln!(out, "\nSQL:\n{}", d.sql.trim())?;
        }
    }
    Ok(())
}

fn demo_command(
    sim: EstateArgs,
    out: OutputArgs,
    config: &Config,
    quiet: bool,
    verbose: bool,
) -> Result<ExitCode, Failure> {
    let started = Instant::now();
    let dir = tempfile::tempdir().map_err(io_failure)?;
    let estate = dir.path().join("estate");
    let truth = simulate(&sim.options(), &estate).map_err(|e| Failure::Usage(e.to_string()))?;
    let lake = open_lake(&dir.path().join("lake"))?;
    // The host logs only: ground-truth.json is the answer, not telemetry.
    let logs: Vec<PathBuf> = truth
        .hosts
        .iter()
        .map(|h| estate.join(format!("{}.json", h.split('.').next().unwrap_or(h))))
        .collect();
    let ingest = ingest_with_progress(&lake, &logs, None, quiet);
    let hunts = load_hunts(None).map_err(Failure::Usage)?;
    let outcome = run_and_report(&lake, config, &hunts, &out)?;
    let naive = naive_rule(&lake, config)?;
    let mut err = io::stderr();
    if !quiet {
        summary::write_ingest(&mut err, &ingest, verbose).map_err(io_failure)?;
        summary::write_hunt(&mut err, &outcome).map_err(io_failure)?;
    }
    let line = compare(&truth, &outcome, &naive);
    writeln!(err, "{line}").map_err(io_failure)?;
    writeln!(
        err,
        "demo finished in {:.1} s",
        started.elapsed().as_secs_f64()
    )
    .map_err(io_failure)?;
    fail_on(&out, &outcome)
}

fn naive_rule(lake: &Lake, config: &Config) -> Result<Vec<meshhunt_hunt::NaiveHit>, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(io_failure)?;
    runtime.block_on(async {
        let ctx = meshhunt_hunt::session::lake_session(lake, config)
            .await
            .map_err(|e| Failure::Internal(e.to_string()))?;
        meshhunt_hunt::naive_brief_rule(&ctx)
            .await
            .map_err(Failure::Internal)
    })
}

/// One line: planted vs found, the leader, benign hosts flagged, and what
/// the brief's naive rule would have flagged.
pub fn compare(
    truth: &GroundTruth,
    outcome: &HuntOutcome,
    naive: &[meshhunt_hunt::NaiveHit],
) -> String {
    let found = |h: &str| {
        outcome
            .findings
            .iter()
            .any(|f| f.host.as_deref() == Some(h) && f.severity >= Severity::Medium)
    };
    let found_mesh = truth.mesh_hosts.iter().filter(|h| found(h)).count();
    let benign_over_medium = truth
        .benign_hosts
        .iter()
        .filter(|h| {
            outcome
                .findings
                .iter()
                .any(|f| f.host.as_deref() == Some(h.as_str()) && f.severity > Severity::Medium)
        })
        .count();
    let leader_named = outcome
        .mesh
        .groups
        .iter()
        .any(|g| g.leader.as_deref() == Some(truth.leader.as_str()));
    let naive_benign = naive
        .iter()
        .filter(|h| truth.benign_hosts.contains(&h.host))
        .count();
    let mut naive_images: Vec<String> = naive
        .iter()
        .filter(|h| truth.benign_hosts.contains(&h.host))
        .map(|h| h.image.rsplit('\\').next().unwrap_or(&h.image).to_owned())
        .collect();
    naive_images.sort();
    naive_images.dedup();
    format!(
        "demo: planted a mesh of {} hosts (leader {}); found {} of {} at medium or above; leader named: {}; benign hosts above medium: {}; the brief's naive rule (>3 IPs, no scoring) flags {} benign process(es) ({})",
        truth.mesh_hosts.len(),
        truth.leader,
        found_mesh,
        truth.mesh_hosts.len(),
        if leader_named { "yes" } else { "no" },
        benign_over_medium,
        naive_benign,
        naive_images.join(", ")
    )
}
