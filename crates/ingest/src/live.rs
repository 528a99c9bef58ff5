//! Live collector (Linux): the host's sockets from `/proc/net/{tcp,tcp6,udp,udp6}`
//! mapped to their owning processes through socket inodes in `/proc/<pid>/fd`,
//! with process facts from `/proc/<pid>`. Rows go into the same `process`
//! and `network` tables the log readers fill, with `source = "live"`.
//!
//! `/proc/net` shows the network namespace of the reading process, so a
//! collector started inside a namespace sees that namespace's sockets.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use meshhunt_model::canonical_ip;
use meshhunt_model::rows::{NetworkRow, ProcessRow};
use procfs::net::{TcpNetEntry, TcpState, UdpNetEntry, UdpState};
use procfs::process::Process;
use procfs::ProcError;
use rayon::prelude::*;

/// One look at the host.
#[derive(Debug, Default)]
pub struct LiveSnapshot {
    /// UTC µs when the look started.
    pub taken_us: i64,
    pub host: String,
    /// Processes owning at least one connection.
    pub processes: Vec<ProcessRow>,
    pub connections: Vec<NetworkRow>,
    pub stats: LiveStats,
}

/// What the look saw and what it could not.
#[derive(Clone, Debug, Default)]
pub struct LiveStats {
    pub sockets: u64,
    pub connections: u64,
    pub listening: u64,
    /// Connections whose owning process could not be seen (permissions, or
    /// the process lives in another PID namespace).
    pub unowned: u64,
    pub processes_scanned: u64,
    /// Processes that exited while being read.
    pub vanished: u64,
    /// Processes whose fds or executable could not be read.
    pub denied: u64,
    pub collect_us: u64,
    /// Of `collect_us`: reading the socket tables, and finding their owners.
    pub tables_us: u64,
    pub owners_us: u64,
}

struct Owner {
    pid: i32,
}

/// Takes one snapshot. `seq` numbers looks for provenance (`record_id`).
pub fn snapshot(seq: i64) -> Result<LiveSnapshot, String> {
    let started = Instant::now();
    let taken_us = now_us();
    let mut stats = LiveStats::default();

    let tcp = table(procfs::net::tcp(), "/proc/net/tcp")?;
    let tcp6 = table(procfs::net::tcp6(), "/proc/net/tcp6")?;
    let udp = table(procfs::net::udp(), "/proc/net/udp")?;
    let udp6 = table(procfs::net::udp6(), "/proc/net/udp6")?;
    stats.sockets = (tcp.len() + tcp6.len() + udp.len() + udp6.len()) as u64;
    stats.tables_us = started.elapsed().as_micros() as u64;

    // A connection whose local port has a listener is one this host accepted.
    let listening: HashSet<(IpAddr, u16)> = tcp
        .iter()
        .chain(&tcp6)
        .filter(|e| e.state == TcpState::Listen)
        .map(|e| (e.local_address.ip(), e.local_address.port()))
        .collect();
    stats.listening = listening.len() as u64;
    let any_v4 = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
    let any_v6 = IpAddr::V6(Ipv6Addr::UNSPECIFIED);
    let listens_on = |local: &SocketAddr| {
        let port = local.port();
        listening.contains(&(local.ip(), port))
            || listening.contains(&(any_v4, port))
            || listening.contains(&(any_v6, port))
    };

    let mut conns: Vec<Conn> = Vec::new();
    for e in tcp.iter().chain(&tcp6).filter(|e| is_tcp_connection(e)) {
        conns.push(Conn {
            protocol: "tcp",
            local: e.local_address,
            remote: e.remote_address,
            state: tcp_state(&e.state),
            inbound: listens_on(&e.local_address),
            inode: e.inode,
        });
    }
    for e in udp.iter().chain(&udp6).filter(|e| is_udp_connection(e)) {
        conns.push(Conn {
            protocol: "udp",
            local: e.local_address,
            remote: e.remote_address,
            state: "connected",
            inbound: false,
            inode: e.inode,
        });
    }
    stats.connections = conns.len() as u64;

    let wanted: HashSet<u64> = conns.iter().map(|c| c.inode).collect();
    let owners_started = Instant::now();
    let owners = owners_of(&wanted, &mut stats)?;
    stats.owners_us = owners_started.elapsed().as_micros() as u64;
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    let users = passwd_names();

    let mut processes: HashMap<i32, ProcessRow> = HashMap::new();
    let mut connections = Vec::with_capacity(conns.len());
    for conn in &conns {
        let Some(owner) = owners.get(&conn.inode) else {
            stats.unowned += 1;
            continue;
        };
        let process = match processes.get(&owner.pid) {
            Some(p) => p,
            None => match process_row(owner.pid, &host, &boot_id, &users, seq, &mut stats) {
                Some(row) => processes.entry(owner.pid).or_insert(row),
                None => {
                    stats.unowned += 1;
                    continue;
                }
            },
        };
        let (src, dst) = if conn.inbound {
            (conn.remote, conn.local)
        } else {
            (conn.local, conn.remote)
        };
        connections.push(NetworkRow {
            ts: Some(taken_us),
            record_ts: Some(taken_us),
            host: Some(host.clone()),
            pid: process.pid,
            process_guid: process.process_guid.clone(),
            image: process.image.clone(),
            user: process.user.clone(),
            protocol: Some(conn.protocol.to_owned()),
            initiated: Some(!conn.inbound),
            src_ip: Some(ip_text(&src)),
            src_port: Some(src.port() as i64),
            dst_ip: Some(ip_text(&dst)),
            dst_port: Some(dst.port() as i64),
            state: Some(conn.state.to_owned()),
            source: Some("live".into()),
            source_file: Some(format!("live:{host}")),
            record_id: Some(seq),
            ..Default::default()
        });
    }
    stats.collect_us = started.elapsed().as_micros() as u64;
    Ok(LiveSnapshot {
        taken_us,
        host,
        processes: processes.into_values().collect(),
        connections,
        stats,
    })
}

struct Conn {
    protocol: &'static str,
    local: SocketAddr,
    remote: SocketAddr,
    state: &'static str,
    inbound: bool,
    inode: u64,
}

fn table<T>(result: procfs::ProcResult<Vec<T>>, path: &str) -> Result<Vec<T>, String> {
    match result {
        Ok(entries) => Ok(entries),
        // No IPv6 on this host: no table, no sockets.
        Err(ProcError::NotFound(_)) => Ok(Vec::new()),
        Err(e) => Err(format!("{path}: {e}")),
    }
}

/// Open TCP connections. TIME_WAIT sockets are closed ones the kernel keeps
/// for a while; no process owns them (inode 0), so they are left out.
fn is_tcp_connection(e: &TcpNetEntry) -> bool {
    !matches!(
        e.state,
        TcpState::Listen | TcpState::Close | TcpState::TimeWait
    ) && e.inode != 0
        && !e.remote_address.ip().is_unspecified()
}

fn is_udp_connection(e: &UdpNetEntry) -> bool {
    e.state == UdpState::Established && !e.remote_address.ip().is_unspecified()
}

fn tcp_state(state: &TcpState) -> &'static str {
    match state {
        TcpState::Established => "established",
        TcpState::SynSent => "syn-sent",
        TcpState::SynRecv => "syn-recv",
        TcpState::FinWait1 => "fin-wait-1",
        TcpState::FinWait2 => "fin-wait-2",
        TcpState::TimeWait => "time-wait",
        TcpState::CloseWait => "close-wait",
        TcpState::LastAck => "last-ack",
        TcpState::Closing => "closing",
        _ => "other",
    }
}

fn ip_text(addr: &SocketAddr) -> String {
    canonical_ip(&addr.ip().to_string()).map_or_else(|| addr.ip().to_string(), |ip| ip.to_string())
}

/// Socket inode → owning process, for the inodes we care about.
///
/// Reading every fd link is the collector's main cost (one readlink per open
/// file of every process), so the links are read in parallel: first each
/// process's fd list, then the links themselves, so one process holding
/// thousands of sockets is split across threads too.
fn owners_of(wanted: &HashSet<u64>, stats: &mut LiveStats) -> Result<HashMap<u64, Owner>, String> {
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let pids: Vec<i32> = std::fs::read_dir("/proc")
        .map_err(|e| format!("/proc: {e}"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    stats.processes_scanned = pids.len() as u64;
    let vanished = AtomicU64::new(0);
    let denied = AtomicU64::new(0);
    let fds: Vec<(i32, PathBuf)> = pids
        .par_iter()
        .flat_map_iter(|&pid| {
            let listing = match std::fs::read_dir(format!("/proc/{pid}/fd")) {
                Ok(listing) => Some(listing),
                Err(e) => {
                    let counter = if e.kind() == io::ErrorKind::PermissionDenied {
                        &denied
                    } else {
                        &vanished
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                    None
                }
            };
            listing
                .into_iter()
                .flatten()
                .filter_map(move |entry| Some((pid, entry.ok()?.path())))
        })
        .collect();
    let owners: HashMap<u64, Owner> = fds
        .par_iter()
        .filter_map(|(pid, path)| {
            let target = std::fs::read_link(path).ok()?;
            let inode = socket_inode(target.to_str()?)?;
            wanted
                .contains(&inode)
                .then_some((inode, Owner { pid: *pid }))
        })
        .collect();
    stats.vanished += vanished.into_inner();
    stats.denied += denied.into_inner();
    Ok(owners)
}

/// The inode of an fd link such as `socket:[123456]`.
fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

fn process_row(
    pid: i32,
    host: &str,
    boot_id: &str,
    users: &HashMap<u32, String>,
    seq: i64,
    stats: &mut LiveStats,
) -> Option<ProcessRow> {
    let process = Process::new(pid).ok()?;
    let stat = match process.stat() {
        Ok(stat) => stat,
        Err(_) => {
            stats.vanished += 1;
            return None;
        }
    };
    let image = match process.exe() {
        Ok(path) => path.display().to_string(),
        Err(_) => {
            stats.denied += 1;
            stat.comm.clone()
        }
    };
    let command_line = process.cmdline().ok().map(|args| args.join(" "));
    let user = process
        .uid()
        .ok()
        .map(|uid| users.get(&uid).cloned().unwrap_or_else(|| uid.to_string()));
    let started_us = start_time_us(stat.starttime);
    let parent_image = Process::new(stat.ppid)
        .ok()
        .and_then(|p| p.exe().ok())
        .map(|p| p.display().to_string());
    Some(ProcessRow {
        ts: started_us,
        record_ts: started_us,
        host: Some(host.to_owned()),
        pid: Some(pid as i64),
        // Stable across looks and unique despite pid reuse.
        process_guid: Some(format!("{boot_id}:{pid}:{}", stat.starttime)),
        image: Some(image),
        command_line,
        user,
        parent_pid: Some(stat.ppid as i64),
        parent_image,
        source: Some("live".into()),
        source_file: Some(format!("live:{host}")),
        record_id: Some(seq),
        ..Default::default()
    })
}

fn start_time_us(ticks_since_boot: u64) -> Option<i64> {
    let boot = procfs::boot_time_secs().ok()? as i64;
    let ticks = procfs::ticks_per_second().max(1) as i64;
    Some(boot * 1_000_000 + ticks_since_boot as i64 * 1_000_000 / ticks)
}

fn passwd_names() -> HashMap<u32, String> {
    let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split(':');
            let name = parts.next()?;
            let uid = parts.nth(1)?.parse().ok()?;
            Some((uid, name.to_owned()))
        })
        .collect()
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_links_name_socket_inodes() {
        assert_eq!(socket_inode("socket:[123456]"), Some(123456));
        assert_eq!(socket_inode("pipe:[42]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn sees_its_own_loopback_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let _client = std::net::TcpStream::connect(addr).unwrap();
        let _server = listener.accept().unwrap();
        let snap = snapshot(1).unwrap();
        let me = std::process::id() as i64;
        let out: Vec<_> = snap
            .connections
            .iter()
            .filter(|c| c.pid == Some(me) && c.dst_port == Some(addr.port() as i64))
            .collect();
        assert_eq!(out.len(), 2, "both ends are ours: {out:?}");
        assert!(out.iter().any(|c| c.initiated == Some(true)));
        assert!(out.iter().any(|c| c.initiated == Some(false)));
        let proc_row = snap.processes.iter().find(|p| p.pid == Some(me)).unwrap();
        assert!(proc_row.process_guid.is_some() && proc_row.image.is_some());
    }
}
