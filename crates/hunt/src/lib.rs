//! meshhunt hunts: hunt files, UDFs, the DataFusion session over the lake,
//! turning result rows into findings, and the mesh rollup.

pub mod config;
pub mod findings;
pub mod huntdef;
pub mod mesh;
pub mod session;
pub mod udf;

use std::time::{Duration, Instant};

use datafusion::prelude::SessionContext;
use meshhunt_model::Finding;

pub use config::Config;
pub use huntdef::{builtin_hunts, load_hunts, HuntDef};
pub use mesh::rollup;
pub use meshhunt_model::mesh::MeshReport;

/// What one hunt produced.
#[derive(Debug)]
pub struct HuntRun {
    pub id: String,
    pub findings: Vec<Finding>,
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// Runs hunts one after another (each is parallel inside DataFusion).
/// A hunt that fails is reported with its error; the others still run.
pub async fn run_hunts(ctx: &SessionContext, hunts: &[HuntDef], config: &Config) -> Vec<HuntRun> {
    let mut runs = Vec::with_capacity(hunts.len());
    for hunt in hunts {
        let started = Instant::now();
        let result = run_one(ctx, hunt, config).await;
        let (findings, error) = match result {
            Ok(findings) => (findings, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        runs.push(HuntRun {
            id: hunt.id.clone(),
            findings,
            error,
            elapsed: started.elapsed(),
        });
    }
    runs
}

async fn run_one(
    ctx: &SessionContext,
    hunt: &HuntDef,
    config: &Config,
) -> Result<Vec<Finding>, String> {
    let sql = hunt.render_sql(config.hunts.get(&hunt.id))?;
    let batches = session::query(ctx, &sql)
        .await
        .map_err(|e| format!("hunt {}: {e}", hunt.id))?;
    findings::to_findings(hunt, &batches)
}

/// Orders findings for a person: most severe and highest score first.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.score.total_cmp(&a.score))
            .then(a.host.cmp(&b.host))
            .then(a.ts_first.cmp(&b.ts_first))
    });
}

/// Facts about telemetry coverage a hunter must know to read the findings:
/// hosts whose connections direct-ip could not judge for lack of DNS
/// telemetry, and hosts with connections but no process creations.
pub async fn coverage_notes(ctx: &SessionContext) -> Result<Vec<String>, String> {
    const GAPS: [(&str, &str); 2] = [
        (
            "dns",
            "have network events but no DNS telemetry (Sysmon 22); direct-ip did not judge them",
        ),
        (
            "process",
            "have network events but no process creations (Sysmon 1 / 4688); spawn-then-connect cannot see them",
        ),
    ];
    let mut notes = Vec::new();
    for (table, what) in GAPS {
        let sql = format!(
            "SELECT DISTINCT n.host FROM network n LEFT JOIN (SELECT DISTINCT host FROM {table}) t \
             ON n.host = t.host WHERE t.host IS NULL AND n.host IS NOT NULL ORDER BY 1"
        );
        let missing = hosts(ctx, &sql).await?;
        if !missing.is_empty() {
            notes.push(format!(
                "{} host(s) {what}: {}",
                missing.len(),
                missing.join(", ")
            ));
        }
    }
    Ok(notes)
}

async fn hosts(ctx: &SessionContext, sql: &str) -> Result<Vec<String>, String> {
    use datafusion::arrow::array::{Array, AsArray};
    let batches = session::query(ctx, sql).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for batch in batches {
        let col = datafusion::arrow::compute::cast(
            batch.column(0),
            &datafusion::arrow::datatypes::DataType::Utf8,
        )
        .map_err(|e| e.to_string())?;
        let col = col.as_string::<i32>();
        out.extend(
            (0..col.len())
                .filter(|&i| col.is_valid(i))
                .map(|i| col.value(i).to_owned()),
        );
    }
    Ok(out)
}

/// One process the brief's naive rule flags.
#[derive(Clone, Debug, PartialEq)]
pub struct NaiveHit {
    pub host: String,
    pub image: String,
    pub distinct_ips: i64,
}

/// The source brief's PowerShell rule, as written: drop remote addresses
/// matching `^(127\.|10\.|172\.(1[6-9]|2[0-9]|3[0-1])\.|192\.168\.)` and flag
/// every process with more than 3 distinct remaining IPs, with no scoring.
/// Kept to show what it flags (browsers), not to hunt with.
pub async fn naive_brief_rule(ctx: &SessionContext) -> Result<Vec<NaiveHit>, String> {
    use datafusion::arrow::array::{Array, AsArray};
    let sql = r"SELECT host, image, count(DISTINCT dst_ip) AS n FROM network
        WHERE coalesce(initiated, true) AND dst_ip IS NOT NULL
          AND NOT regexp_like(dst_ip, '^(127\.|10\.|172\.(1[6-9]|2[0-9]|3[0-1])\.|192\.168\.)')
        GROUP BY host, coalesce(process_guid, CAST(pid AS VARCHAR)), image
        HAVING count(DISTINCT dst_ip) > 3 ORDER BY n DESC";
    let batches = session::query(ctx, sql).await.map_err(|e| e.to_string())?;
    let mut hits = Vec::new();
    for batch in batches {
        let text = |i: usize| {
            datafusion::arrow::compute::cast(
                batch.column(i),
                &datafusion::arrow::datatypes::DataType::Utf8,
            )
            .map_err(|e| e.to_string())
        };
        let (hosts, images) = (text(0)?, text(1)?);
        let counts = datafusion::arrow::compute::cast(
            batch.column(2),
            &datafusion::arrow::datatypes::DataType::Int64,
        )
        .map_err(|e| e.to_string())?;
        let (hosts, images) = (hosts.as_string::<i32>(), images.as_string::<i32>());
        let counts = counts.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        for row in 0..batch.num_rows() {
            hits.push(NaiveHit {
                host: if hosts.is_valid(row) {
                    hosts.value(row).to_owned()
                } else {
                    String::new()
                },
                image: if images.is_valid(row) {
                    images.value(row).to_owned()
                } else {
                    String::new()
                },
                distinct_ips: counts.value(row),
            });
        }
    }
    Ok(hits)
}
