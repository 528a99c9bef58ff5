//! meshhunt renderers: terminal table, JSON lines, CSV. Every untrusted
//! string passes through the sanitizer of the medium it is written to.

mod csv_out;
mod jsonl;
mod table;

use std::io::{self, Write};

use meshhunt_model::Finding;

pub use table::{render_mesh, TableStyle};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Jsonl,
    Csv,
}

impl OutputFormat {
    pub fn parse(name: &str) -> Option<OutputFormat> {
        match name.to_ascii_lowercase().as_str() {
            "table" => Some(OutputFormat::Table),
            "jsonl" | "json" => Some(OutputFormat::Jsonl),
            "csv" => Some(OutputFormat::Csv),
            _ => None,
        }
    }
}

/// Writes findings in one format.
pub fn render(
    out: &mut dyn Write,
    format: OutputFormat,
    findings: &[Finding],
    style: TableStyle,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => table::render(out, findings, style),
        OutputFormat::Jsonl => jsonl::render(out, findings),
        OutputFormat::Csv => csv_out::render(out, findings),
    }
}
