//! Live mode in real network namespaces.

use std::process::Command;

use serde_json::Value;

/// A small estate of network namespaces: a "server" namespace holding
/// addresses the test's config treats as external, and a "client" namespace
/// where the processes under test and `meshhunt live` run. Torn down on
/// drop, so also when a test fails.
mod netns {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

    pub const PORT: &str = "7000";
    pub const SERVER_V4: [&str; 6] = [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.3",
        "198.51.100.4",
        "198.51.100.5",
        "198.51.100.6",
    ];
    pub const SERVER_V6: &str = "2001:db8::1";

    pub struct Estate {
        pub client_ns: String,
        server_ns: String,
        children: Vec<Child>,
    }

    fn ip(args: &[&str]) -> Result<(), String> {
        let out = Command::new("ip")
            .args(args)
            .output()
            .map_err(|e| format!("ip: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    fn script() -> String {
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/netns_peer.py").to_owned()
    }

    impl Estate {
        /// Builds the namespaces; `None` (after saying so loudly) where this
        /// machine cannot, which fails the test under CI.
        pub fn new(tag: &str) -> Option<Estate> {
            let id = format!("{}{}", tag, std::process::id() % 100_000);
            let mut estate = Estate {
                client_ns: format!("mhc{id}"),
                server_ns: format!("mhs{id}"),
                children: Vec::new(),
            };
            match estate.build(&id) {
                Ok(()) => Some(estate),
                Err(e) => {
                    let msg = format!(
                        "LIVE-MODE NAMESPACE TEST NOT RUN: cannot create network namespaces here ({e}); \
                         it needs root and iproute2"
                    );
                    if std::env::var_os("CI").is_some() {
                        panic!("{msg}");
                    }
                    eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
                    None
                }
            }
        }

        fn build(&mut self, id: &str) -> Result<(), String> {
            let (c, s) = (self.client_ns.clone(), self.server_ns.clone());
            let (vc, vs) = (format!("mhvc{id}"), format!("mhvs{id}"));
            ip(&["netns", "add", &s])?;
            ip(&["netns", "add", &c])?;
            ip(&["link", "add", &vc, "type", "veth", "peer", "name", &vs])?;
            ip(&["link", "set", &vc, "netns", &c])?;
            ip(&["link", "set", &vs, "netns", &s])?;
            for (ns, dev) in [(&c, &vc), (&s, &vs)] {
                ip(&["-n", ns, "link", "set", "lo", "up"])?;
                ip(&["-n", ns, "link", "set", dev, "up"])?;
            }
            for addr in SERVER_V4 {
                ip(&["-n", &s, "addr", "add", &format!("{addr}/24"), "dev", &vs])?;
            }
            ip(&[
                "-n",
                &s,
                "addr",
                "add",
                &format!("{SERVER_V6}/64"),
                "dev",
                &vs,
                "nodad",
            ])?;
            ip(&["-n", &c, "addr", "add", "198.51.100.100/24", "dev", &vc])?;
            ip(&[
                "-n",
                &c,
                "addr",
                "add",
                "2001:db8::100/64",
                "dev",
                &vc,
                "nodad",
            ])?;
            let mut addrs: Vec<&str> = SERVER_V4.to_vec();
            addrs.push(SERVER_V6);
            let server = self.spawn(&s, "serve", &addrs)?;
            drop(server);
            Ok(())
        }

        /// Starts the peer script in a namespace and waits for `ready`.
        fn spawn(&mut self, ns: &str, mode: &str, addrs: &[&str]) -> Result<Peer, String> {
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", ns, "python3", &script(), mode, PORT])
                .args(addrs);
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| format!("python3: {e}"))?;
            let stdin = child.stdin.take().expect("piped");
            let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
            let pid = child.id();
            self.children.push(child);
            let mut line = String::new();
            stdout.read_line(&mut line).map_err(|e| e.to_string())?;
            if line.trim() != "ready" {
                return Err(format!("peer in {ns} did not start: {line:?}"));
            }
            Ok(Peer { pid, stdin, stdout })
        }

        /// A client process in the client namespace holding connections.
        pub fn client(&mut self, addrs: &[&str]) -> Peer {
            let ns = self.client_ns.clone();
            self.spawn(&ns, "hold", addrs).expect("client starts")
        }

        /// `meshhunt` in the client namespace.
        pub fn meshhunt(&self, args: &[&str]) -> Command {
            let mut cmd = Command::new("ip");
            cmd.args([
                "netns",
                "exec",
                &self.client_ns,
                env!("CARGO_BIN_EXE_meshhunt"),
            ])
            .args(args);
            cmd
        }
    }

    impl Drop for Estate {
        fn drop(&mut self) {
            for child in &mut self.children {
                let _ = child.kill();
                let _ = child.wait();
            }
            let _ = ip(&["netns", "del", &self.client_ns]);
            let _ = ip(&["netns", "del", &self.server_ns]);
        }
    }

    pub struct Peer {
        pub pid: u32,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
    }

    impl Peer {
        pub fn command(&mut self, line: &str) {
            writeln!(self.stdin, "{line}").unwrap();
            self.stdin.flush().unwrap();
            let mut reply = String::new();
            self.stdout.read_line(&mut reply).unwrap();
            assert_eq!(reply.trim(), "ready", "peer answered {reply:?} to {line:?}");
        }
    }

    pub fn config(dir: &std::path::Path) -> String {
        let path = dir.join("live.toml");
        std::fs::write(
            &path,
            "[networks]\nexternal = [\"198.51.100.0/24\", \"2001:db8::/32\"]\n",
        )
        .unwrap();
        path.display().to_string()
    }
}

fn fanout_for(lines: &str, pid: u32) -> Vec<Value> {
    lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|f| f["hunt"] == "external-fanout" && f["pid"].as_u64() == Some(pid as u64))
        .collect()
}

#[test]
fn live_snapshot_counts_distinct_external_peers_per_process() {
    let Some(mut estate) = netns::Estate::new("a") else {
        return;
    };
    let five = [
        netns::SERVER_V4[0],
        netns::SERVER_V4[1],
        netns::SERVER_V4[2],
        netns::SERVER_V4[3],
        netns::SERVER_V6,
    ];
    let first = estate.client(&five);
    let second = estate.client(&[netns::SERVER_V4[4], netns::SERVER_V4[5]]);
    let dir = tempfile::tempdir().unwrap();
    let config = netns::config(dir.path());
    let out = estate
        .meshhunt(&[
            "--config",
            &config,
            "live",
            "--format",
            "jsonl",
            "--min-severity",
            "info",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let hits = fanout_for(&stdout, first.pid);
    assert_eq!(
        hits.len(),
        1,
        "one finding for the first client: {stdout}\n{stderr}"
    );
    assert_eq!(hits[0]["evidence"]["distinct_ips"], 5, "{}", hits[0]);
    assert!(hits[0]["evidence"]["ips"]
        .as_array()
        .unwrap()
        .iter()
        .any(|ip| ip == netns::SERVER_V6));
    assert!(
        fanout_for(&stdout, second.pid).is_empty(),
        "2 peers is no finding: {stdout}"
    );

    // --lake appends what a look saw, so history builds up across runs.
    let lake = dir.path().join("lake");
    let lake_arg = lake.display().to_string();
    let out = estate
        .meshhunt(&["--config", &config, "live", "-q", "--lake", &lake_arg])
        .output()
        .unwrap();
    assert!(out.status.success());
    let ledger = std::fs::read_to_string(lake.join("ledger.jsonl")).unwrap();
    let entry: Value = serde_json::from_str(ledger.lines().next().unwrap()).unwrap();
    assert_eq!(entry["format"], "live");
    assert!(entry["rows"]["network"].as_u64().unwrap() >= 7, "{entry}");
}

#[test]
fn live_watch_adds_up_peers_across_looks_and_prints_once_then_updates() {
    use std::io::BufRead;
    let Some(mut estate) = netns::Estate::new("w") else {
        return;
    };
    let v4 = netns::SERVER_V4;
    let mut client = estate.client(&[v4[0], v4[1], v4[2]]);
    let dir = tempfile::tempdir().unwrap();
    let config = netns::config(dir.path());
    let mut watch = estate
        .meshhunt(&[
            "--config", &config, "live", "--watch", "300ms", "--format", "jsonl", "-q",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout = watch.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let wait_for = |want_ips: u64| -> Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
                if let Some(f) = fanout_for(&line, client_pid(&line)).into_iter().next() {
                    if f["evidence"]["distinct_ips"].as_u64() == Some(want_ips) {
                        return f;
                    }
                    panic!("unexpected finding while waiting for {want_ips} IPs: {f}");
                }
            }
        }
        panic!("no finding with {want_ips} distinct IPs within 30 s");
    };
    let first = wait_for(3);
    assert_eq!(first["change"], "new");
    assert_eq!(first["pid"].as_u64(), Some(client.pid as u64));
    // New peers replace the old ones: the watch counts the union, 5.
    client.command("closeall");
    client.command(&format!("connect {}", v4[3]));
    client.command(&format!("connect {}", v4[4]));
    let updated = wait_for(5);
    assert_eq!(updated["change"], "updated");
    // Nothing is repeated while nothing changes.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let repeats: Vec<String> = rx.try_iter().collect();
    assert!(repeats.is_empty(), "repeated: {repeats:?}");
    // Ctrl-C ends the watch cleanly.
    let pid = watch.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let status = watch.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    reader.join().unwrap();
}

fn client_pid(line: &str) -> u32 {
    serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v["pid"].as_u64())
        .unwrap_or(0) as u32
}
