//! The mesh rollup's result: hosts with roles, and groups of peers with
//! their likely leader. Computed by the hunt crate, rendered by report.

use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct MeshHost {
    pub host: String,
    /// 0–100: the per-hunt best scores combined as independent evidence.
    pub score: f64,
    /// Best score of outside-facing hunts.
    pub outside_score: f64,
    pub hunts: Vec<String>,
    pub peers: Vec<String>,
    /// `leader`, `worker` or `suspect` (no mesh peers seen).
    pub role: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MeshGroup {
    pub hosts: Vec<String>,
    pub leader: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct MeshReport {
    pub hosts: Vec<MeshHost>,
    pub groups: Vec<MeshGroup>,
}
