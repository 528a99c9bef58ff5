use std::io::{self, Write};

use meshhunt_model::mesh::MeshReport;
use meshhunt_model::sanitize::for_terminal;
use meshhunt_model::time::format_micros;
use meshhunt_model::{Finding, Severity};

/// How the terminal table looks.
#[derive(Clone, Copy, Debug, Default)]
pub struct TableStyle {
    /// ANSI colours for severities (only when writing to a terminal).
    pub color: bool,
    /// Record references listed per finding.
    pub max_records: usize,
}

fn paint(sev: Severity, color: bool) -> String {
    let label = format!("{:<8}", sev.as_str().to_uppercase());
    if !color {
        return label;
    }
    let code = match sev {
        Severity::Critical => "1;97;41",
        Severity::High => "1;91",
        Severity::Medium => "1;93",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\u{1b}[{code}m{label}\u{1b}[0m")
}

/// A block per finding: a headline, the summary, and where the evidence is.
pub fn render(out: &mut dyn Write, findings: &[Finding], style: TableStyle) -> io::Result<()> {
    if findings.is_empty() {
        writeln!(out, "No findings.")?;
        return Ok(());
    }
    for f in findings {
        let process = match (&f.image, f.pid) {
            (Some(image), Some(pid)) => format!("{} (pid {pid})", for_terminal(image)),
            (Some(image), None) => for_terminal(image),
            (None, Some(pid)) => format!("pid {pid}"),
            (None, None) => "-".into(),
        };
        writeln!(
            out,
            "{} {:>3}  {:<19} {}  {}",
            paint(f.severity, style.color),
            f.score,
            f.hunt,
            for_terminal(f.host.as_deref().unwrap_or("-")),
            process
        )?;
        writeln!(out, "             {}", for_terminal(&f.summary))?;
        if let Some(entity) = &f.entity {
            writeln!(out, "             entity: {}", for_terminal(entity))?;
        }
        let when = match (f.ts_first, f.ts_last) {
            (Some(a), Some(b)) if a != b => format!("{} .. {}", format_micros(a), format_micros(b)),
            (Some(a), _) => format_micros(a),
            _ => "-".into(),
        };
        writeln!(
            out,
            "             when: {when}   ATT&CK: {}",
            f.attack.join(", ")
        )?;
        let records = record_refs(f);
        if !records.is_empty() {
            let shown: Vec<String> = records
                .iter()
                .take(style.max_records.max(1))
                .map(|r| for_terminal(r))
                .collect();
            let more = records.len().saturating_sub(shown.len());
            let tail = if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            };
            writeln!(out, "             records: {}{tail}", shown.join(", "))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Record references found in the evidence (`records`, `*_record(s)`).
fn record_refs(f: &Finding) -> Vec<String> {
    let mut refs = Vec::new();
    if let Some(obj) = f.evidence.as_object() {
        for (key, value) in obj {
            if !key.ends_with("record") && !key.ends_with("records") {
                continue;
            }
            match value {
                serde_json::Value::String(s) => refs.push(s.clone()),
                serde_json::Value::Array(items) => {
                    refs.extend(items.iter().filter_map(|v| v.as_str().map(str::to_owned)))
                }
                _ => {}
            }
        }
    }
    refs
}

/// The mesh rollup as text: groups with their leader, then lone suspects.
pub fn render_mesh(out: &mut dyn Write, mesh: &MeshReport) -> io::Result<()> {
    if mesh.hosts.is_empty() {
        return Ok(());
    }
    writeln!(out, "Mesh rollup")?;
    for (n, group) in mesh.groups.iter().enumerate() {
        let leader = group
            .leader
            .as_deref()
            .map(for_terminal)
            .unwrap_or_else(|| "none seen".into());
        writeln!(
            out,
            "  group {}: {} hosts, likely leader (door to the outside): {}",
            n + 1,
            group.hosts.len(),
            leader
        )?;
        for host in mesh.hosts.iter().filter(|h| group.hosts.contains(&h.host)) {
            writeln!(
                out,
                "    {:<7} {:<24} score {:>3}  peers: {}  hunts: {}",
                host.role,
                for_terminal(&host.host),
                host.score,
                if host.peers.is_empty() {
                    "-".into()
                } else {
                    for_terminal(&host.peers.join(", "))
                },
                host.hunts.join(", ")
            )?;
        }
    }
    let loners: Vec<_> = mesh.hosts.iter().filter(|h| h.role == "suspect").collect();
    if !loners.is_empty() {
        writeln!(out, "  hosts with findings but no mesh peers seen:")?;
        for host in loners {
            writeln!(
                out,
                "    {:<24} score {:>3}  hunts: {}",
                for_terminal(&host.host),
                host.score,
                host.hunts.join(", ")
            )?;
        }
    }
    writeln!(out)
}
