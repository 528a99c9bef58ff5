use std::io::{self, Write};

use meshhunt_model::Finding;

/// One JSON object per finding. JSON escaping makes every string safe.
pub fn render(out: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    for finding in findings {
        serde_json::to_writer(&mut *out, finding)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
