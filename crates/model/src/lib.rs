//! meshhunt's shared vocabulary: the normalized tables, IP scopes, time
//! parsing and the findings type. No I/O lives here.

pub mod finding;
pub mod ipscope;
pub mod mesh;
pub mod rows;
pub mod sanitize;
pub mod time;

pub use finding::{Finding, Severity};
pub use ipscope::{canonical_ip, IpScope, Networks};
pub use rows::{Table, TableBatch};
