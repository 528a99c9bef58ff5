//! meshhunt readers: input files (EVTX, JSON lines of Windows events, gzip
//! of either) to rows of the normalized tables. Readers never panic on bad
//! input: they count what they skip, say where and why, and go on.

pub mod fields;
pub mod inputs;
pub mod json_event;
#[cfg(target_os = "linux")]
pub mod live;
pub mod normalize;
pub mod reader;
pub mod report;
pub mod xml_event;

use std::fmt;
use std::path::{Path, PathBuf};

pub use inputs::expand_inputs;
pub use reader::{read_file, Format, Sink};
pub use report::FileReport;

/// A file that could not be read at all (the rest of the run goes on).
#[derive(Debug, Clone)]
pub struct InputError {
    pub path: PathBuf,
    pub reason: String,
    /// The file is in no format meshhunt reads (notes, archives, metadata
    /// beside the logs), as opposed to a log that could not be read.
    pub unsupported: bool,
}

impl InputError {
    pub fn new(path: &Path, reason: String) -> Self {
        InputError {
            path: path.to_path_buf(),
            reason,
            unsupported: false,
        }
    }

    pub fn unsupported(path: &Path) -> Self {
        InputError {
            unsupported: true,
            ..InputError::new(
                path,
                "not a supported format (expected EVTX or JSON lines of Windows events)".into(),
            )
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl std::error::Error for InputError {}
