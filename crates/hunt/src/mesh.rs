//! The rollup: from findings to the mesh. Hosts are nodes; internal peer
//! findings are edges; the host carrying the most outside-facing evidence in
//! each group is its likely leader (the door to the outside).

use std::collections::{BTreeMap, BTreeSet};

use meshhunt_model::mesh::{MeshGroup, MeshHost, MeshReport};
use meshhunt_model::{Finding, Severity};

/// Hunts whose findings are about traffic leaving the estate.
const OUTSIDE_HUNTS: &[&str] = &[
    "external-fanout",
    "direct-ip",
    "tls-anomaly",
    "beacon",
    "proxy-bypass",
    "dns-tunnel",
];

/// Builds the host graph from findings of at least `min_severity`.
pub fn rollup(findings: &[Finding], min_severity: Severity) -> MeshReport {
    let mut best: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    let mut edges: BTreeSet<(String, String)> = BTreeSet::new();
    for f in findings.iter().filter(|f| f.severity >= min_severity) {
        let Some(host) = f.host.as_deref() else {
            continue;
        };
        let slot = best
            .entry(host.to_owned())
            .or_default()
            .entry(f.hunt.clone())
            .or_insert(0.0);
        *slot = slot.max(f.score);
        if let Some(peer) = f.evidence.get("peer_host").and_then(|v| v.as_str()) {
            if peer != host {
                let (a, b) = if host < peer {
                    (host, peer)
                } else {
                    (peer, host)
                };
                edges.insert((a.to_owned(), b.to_owned()));
            }
        }
    }
    // Peers named by an edge are part of the mesh even without findings of
    // their own at this severity.
    for (a, b) in &edges {
        best.entry(a.clone()).or_default();
        best.entry(b.clone()).or_default();
    }

    let names: Vec<String> = best.keys().map(|h| h.to_string()).collect();
    let index: BTreeMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let mut groups = UnionFind::new(names.len());
    let mut peers: Vec<BTreeSet<String>> = vec![BTreeSet::new(); names.len()];
    for (a, b) in &edges {
        if let (Some(&i), Some(&j)) = (index.get(a.as_str()), index.get(b.as_str())) {
            groups.union(i, j);
            peers[i].insert(b.clone());
            peers[j].insert(a.clone());
        }
    }

    let mut hosts: Vec<MeshHost> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let scores = &best[name];
            let combined =
                100.0 * (1.0 - scores.values().map(|s| 1.0 - s / 100.0).product::<f64>());
            let outside = scores
                .iter()
                .filter(|(h, _)| OUTSIDE_HUNTS.contains(&h.as_str()))
                .map(|(_, s)| *s)
                .fold(0.0, f64::max);
            MeshHost {
                host: name.clone(),
                score: combined.round(),
                outside_score: outside,
                hunts: scores.keys().map(|h| h.to_string()).collect(),
                peers: peers[i].iter().cloned().collect(),
                role: String::new(),
            }
        })
        .collect();

    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..names.len() {
        by_root.entry(groups.find(i)).or_default().push(i);
    }
    let mut mesh_groups = Vec::new();
    for members in by_root.into_values() {
        let leader = members
            .iter()
            .copied()
            .filter(|&i| hosts[i].outside_score > 0.0)
            .max_by(|&a, &b| {
                hosts[a]
                    .outside_score
                    .total_cmp(&hosts[b].outside_score)
                    .then(hosts[a].score.total_cmp(&hosts[b].score))
            });
        for &i in &members {
            hosts[i].role = if members.len() == 1 {
                "suspect"
            } else if Some(i) == leader {
                "leader"
            } else {
                "worker"
            }
            .to_owned();
        }
        if members.len() > 1 {
            let mut group_hosts: Vec<String> = members.iter().map(|&i| names[i].clone()).collect();
            group_hosts.sort();
            mesh_groups.push(MeshGroup {
                hosts: group_hosts,
                leader: leader.map(|i| names[i].clone()),
            });
        }
    }
    hosts.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.host.cmp(&b.host)));
    mesh_groups.sort_by_key(|g| std::cmp::Reverse(g.hosts.len()));
    MeshReport {
        hosts,
        groups: mesh_groups,
    }
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, i: usize) -> usize {
        let mut root = i;
        while self.parent[root] != root {
            root = self.parent[root];
        }
        let mut i = i;
        while self.parent[i] != root {
            let next = self.parent[i];
            self.parent[i] = root;
            i = next;
        }
        root
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn finding(hunt: &str, host: &str, score: f64, evidence: serde_json::Value) -> Finding {
        Finding {
            hunt: hunt.into(),
            severity: Severity::from_score(score),
            score,
            ts_first: None,
            ts_last: None,
            host: Some(host.into()),
            pid: None,
            process_guid: None,
            image: None,
            entity: None,
            summary: String::new(),
            evidence,
            attack: vec![],
        }
    }

    #[test]
    fn leader_is_the_member_with_outside_evidence() {
        let findings = vec![
            finding("external-fanout", "ws1", 80.0, json!({})),
            finding("internal-mesh", "ws1", 60.0, json!({"peer_host": "ws2"})),
            finding("internal-mesh", "ws2", 60.0, json!({"peer_host": "ws3"})),
            finding("direct-ip", "lonely", 50.0, json!({})),
            finding("external-fanout", "browser", 10.0, json!({})),
        ];
        let report = rollup(&findings, Severity::Medium);
        assert_eq!(report.groups.len(), 1);
        assert_eq!(report.groups[0].hosts, ["ws1", "ws2", "ws3"]);
        assert_eq!(report.groups[0].leader.as_deref(), Some("ws1"));
        let role = |h: &str| {
            report
                .hosts
                .iter()
                .find(|x| x.host == h)
                .unwrap()
                .role
                .clone()
        };
        assert_eq!(role("ws1"), "leader");
        assert_eq!(role("ws3"), "worker");
        assert_eq!(role("lonely"), "suspect");
        assert!(report.hosts.iter().all(|h| h.host != "browser"));
    }
}
