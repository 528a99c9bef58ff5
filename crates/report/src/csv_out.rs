use std::io::{self, Write};

use meshhunt_model::sanitize::for_csv_cell;
use meshhunt_model::time::format_micros;
use meshhunt_model::Finding;

const HEADER: [&str; 13] = [
    "hunt",
    "severity",
    "score",
    "ts_first",
    "ts_last",
    "host",
    "pid",
    "process_guid",
    "image",
    "entity",
    "summary",
    "attack",
    "evidence",
];

/// CSV with a header row; cells that a spreadsheet would evaluate as a
/// formula are prefixed with an apostrophe.
pub fn render(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
    for f in findings {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let cells = [
            f.hunt.clone(),
            f.severity.to_string(),
            f.score.to_string(),
            f.ts_first.map(format_micros).unwrap_or_default(),
            f.ts_last.map(format_micros).unwrap_or_default(),
            opt(&f.host),
            f.pid.map(|p| p.to_string()).unwrap_or_default(),
            opt(&f.process_guid),
            opt(&f.image),
            opt(&f.entity),
            f.summary.clone(),
            f.attack.join(" "),
            f.evidence.to_string(),
        ];
        writer.write_record(cells.iter().map(|c| for_csv_cell(c).into_owned()))?;
    }
    writer.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshhunt_model::Severity;

    #[test]
    fn formula_cells_are_defused() {
        let f = Finding {
            hunt: "h".into(),
            severity: Severity::High,
            score: 80.0,
            ts_first: None,
            ts_last: None,
            host: Some("=cmd|' /C calc'!A0".into()),
            pid: None,
            process_guid: None,
            image: Some("+x.exe".into()),
            entity: None,
            summary: "s".into(),
            evidence: serde_json::json!({}),
            attack: vec![],
        };
        let mut out = Vec::new();
        render(&mut out, &[f]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("'=cmd|"), "{text}");
        assert!(text.contains("'+x.exe"), "{text}");
    }
}
