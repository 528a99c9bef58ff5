//! The demo estate: Sysmon JSON lines (flat Mordor/NXLog shape) for a
//! Windows estate with benign background traffic and a planted Kazuar-like
//! P2P mesh, plus the ground truth as JSON.
//!
//! Benign: browsers, Teams, OneDrive, Office, Defender and Windows Update
//! resolving names and reaching many CDN addresses; domain traffic to the DC;
//! an admin's PowerShell remoting; printing to an internal print server.
//! Planted: a leader whose implant holds HTTPS to external peers it never
//! resolved; workers that only talk inside (named pipes, HTTP on an odd
//! port, both directions); a dropper whose child reaches a new address on an
//! odd port seconds after it was spawned; the .NET runtime in a native
//! process.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{json, Value};

/// 2026-11-02T08:00:00Z, a Monday morning.
const START_US: i64 = 1_793_606_400_000_000;
const HOUR_US: i64 = 3_600_000_000;
const DOMAIN: &str = "corp.example";
const SYSMON: &str = "Microsoft-Windows-Sysmon/Operational";

const IMPLANT: &str = "C:\\ProgramData\\Microsoft\\Windows\\Caches\\wuacache.exe";
const DROPPER: &str = "C:\\Users\\jdoe\\Downloads\\Invoice_2026-11.pdf.exe";
const DROPPED: &str = "C:\\Users\\jdoe\\AppData\\Local\\Temp\\msedge_update.exe";
const MESH_PORT: u16 = 8081;

#[derive(Clone, Debug)]
pub struct SimOptions {
    pub hosts: usize,
    pub hours: u32,
    pub seed: u64,
}

/// What was planted, written next to the telemetry.
#[derive(Clone, Debug, Serialize)]
pub struct GroundTruth {
    pub seed: u64,
    pub hours: u32,
    pub hosts: Vec<String>,
    pub mesh_hosts: Vec<String>,
    pub leader: String,
    pub benign_hosts: Vec<String>,
    pub planted: Vec<Planted>,
    pub external_peers: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Planted {
    pub host: String,
    pub behaviour: String,
    pub image: String,
    pub entity: String,
}

struct Host {
    name: String,
    ip: String,
    user: String,
}

/// Writes one `<host>.json` per host and `ground-truth.json` into `dir`.
pub fn simulate(opts: &SimOptions, dir: &Path) -> io::Result<GroundTruth> {
    if opts.hosts < 6 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the demo estate needs at least 6 hosts (a DC, a mesh of 4, and benign ones)",
        ));
    }
    std::fs::create_dir_all(dir)?;
    let mut rng = SmallRng::seed_from_u64(opts.seed);
    let hosts: Vec<Host> = (0..opts.hosts)
        .map(|i| {
            let name = if i == 0 {
                format!("DC01.{DOMAIN}")
            } else {
                format!("WS{:02}.{DOMAIN}", i)
            };
            Host {
                name,
                ip: format!("10.20.0.{}", 10 + i),
                user: format!("CORP\\user{i:02}"),
            }
        })
        .collect();
    // Mesh: leader WS03, workers WS05 (CLR) and WS06, dropper victim WS04.
    let (leader, dropper, clr_worker, worker) = (3, 4, 5, 6);
    let mesh = [leader, dropper, clr_worker, worker];
    let peers: Vec<String> = (0..4).map(|_| public_ip(&mut rng)).collect();
    let dropper_c2 = public_ip(&mut rng);
    let mut logs: Vec<Log> = hosts.iter().map(|h| Log::new(&h.name)).collect();

    for hour in 0..opts.hours {
        let t0 = START_US + hour as i64 * HOUR_US;
        for (i, host) in hosts.iter().enumerate() {
            if i == 0 {
                domain_controller(&mut logs[i], host, t0, &mut rng);
            } else {
                workstation(&mut logs[i], host, &hosts[0], t0, &mut rng);
            }
        }
        admin_remoting(&mut logs, &hosts, t0, &mut rng);
    }

    // The planted mesh, in the first hour.
    let t = START_US + 20 * 60 * 1_000_000;
    dropper_chain(
        &mut logs[dropper],
        &hosts[dropper],
        t,
        &dropper_c2,
        &mut rng,
    );
    for &m in &mesh {
        let implant = logs[m].process(
            t + 1_000_000,
            IMPLANT,
            "C:\\Windows\\System32\\svchost.exe",
            "wuacache.exe -k netsvcs",
            "NT AUTHORITY\\SYSTEM",
            &mut rng,
        );
        logs[m].pipe(t + 2_000_000, &implant, "\\Global\\wuacache_sync", 17);
        let opposite = if m == leader { worker } else { leader };
        for k in 0..opts.hours.max(1) as i64 * 6 {
            let when = t + 5_000_000 + k * 600_000_000 + rng.gen_range(0..30_000_000);
            logs[m].connect(
                &hosts[m],
                when,
                &implant,
                &hosts[opposite].ip,
                MESH_PORT,
                &mut rng,
            );
            if m == leader {
                for &w in &[dropper, clr_worker] {
                    logs[m].connect(
                        &hosts[m],
                        when + 1_500_000,
                        &implant,
                        &hosts[w].ip,
                        MESH_PORT,
                        &mut rng,
                    );
                }
            }
        }
    }
    for (k, peer) in peers.iter().enumerate() {
        let port = if k == 3 { 8443 } else { 443 };
        let implant = logs[leader].guid_of(IMPLANT).expect("implant started");
        for r in 0..opts.hours.max(1) as i64 * 3 {
            let when = t + 30_000_000 + r * 1_200_000_000 + k as i64 * 7_000_000;
            logs[leader].connect(&hosts[leader], when, &implant, peer, port, &mut rng);
        }
    }
    let dllhost = logs[clr_worker].process(
        t + 40_000_000,
        "C:\\Windows\\System32\\dllhost.exe",
        IMPLANT,
        "C:\\Windows\\System32\\dllhost.exe /Processid:{3EB3C877-1F16-487C-9050-104DBCD66683}",
        "NT AUTHORITY\\SYSTEM",
        &mut rng,
    );
    for dll in ["mscoree.dll", "clr.dll", "clrjit.dll"] {
        let path = if dll == "mscoree.dll" {
            "C:\\Windows\\System32\\mscoree.dll".to_owned()
        } else {
            format!("C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\{dll}")
        };
        logs[clr_worker].image_load(t + 41_000_000, &dllhost, &path);
    }

    let mut names = Vec::new();
    for (host, log) in hosts.iter().zip(&logs) {
        let path = dir.join(format!(
            "{}.json",
            host.name.split('.').next().unwrap_or(&host.name)
        ));
        log.write(&path)?;
        names.push(host.name.clone());
    }
    let name = |i: usize| hosts[i].name.clone();
    let truth = GroundTruth {
        seed: opts.seed,
        hours: opts.hours,
        hosts: names.clone(),
        mesh_hosts: mesh.iter().map(|&i| name(i)).collect(),
        leader: name(leader),
        benign_hosts: (0..hosts.len())
            .filter(|i| !mesh.contains(i))
            .map(name)
            .collect(),
        planted: vec![
            Planted {
                host: name(leader),
                behaviour: "leader: implant holds HTTPS to external peers it never resolved".into(),
                image: IMPLANT.into(),
                entity: peers.join(", "),
            },
            Planted {
                host: name(leader),
                behaviour: format!("leader <-> workers over HTTP on {MESH_PORT}"),
                image: IMPLANT.into(),
                entity: format!(
                    "{}, {}, {}",
                    hosts[dropper].ip, hosts[clr_worker].ip, hosts[worker].ip
                ),
            },
            Planted {
                host: name(worker),
                behaviour: "worker: talks only inside, named pipe \\Global\\wuacache_sync".into(),
                image: IMPLANT.into(),
                entity: hosts[leader].ip.clone(),
            },
            Planted {
                host: name(dropper),
                behaviour: "dropper child reaches a new IP on an odd port within seconds".into(),
                image: DROPPED.into(),
                entity: format!("{dropper_c2}:8443"),
            },
            Planted {
                host: name(clr_worker),
                behaviour: ".NET runtime loaded into dllhost.exe".into(),
                image: "C:\\Windows\\System32\\dllhost.exe".into(),
                entity: "clr.dll".into(),
            },
        ],
        external_peers: peers,
    };
    let mut f = BufWriter::new(File::create(dir.join("ground-truth.json"))?);
    serde_json::to_writer_pretty(&mut f, &truth)?;
    f.flush()?;
    Ok(truth)
}

/// A public address outside every special range, from provider-like blocks.
fn public_ip(rng: &mut SmallRng) -> String {
    const BLOCKS: [u8; 8] = [45, 62, 91, 146, 176, 185, 193, 212];
    format!(
        "{}.{}.{}.{}",
        BLOCKS[rng.gen_range(0..BLOCKS.len())],
        rng.gen_range(1..250),
        rng.gen_range(0..255),
        rng.gen_range(1..254)
    )
}

/// CDN-like address pools for benign names, stable per name.
fn cdn_ips(name: &str, n: usize) -> Vec<String> {
    let seed = name.bytes().fold(1469598103934665603u64, |h, b| {
        (h ^ b as u64).wrapping_mul(1099511628211)
    });
    let mut rng = SmallRng::seed_from_u64(seed);
    const CDN: [(u8, u8); 6] = [
        (13, 107),
        (20, 190),
        (52, 96),
        (104, 16),
        (142, 250),
        (151, 101),
    ];
    (0..n)
        .map(|_| {
            let (a, b) = CDN[rng.gen_range(0..CDN.len())];
            format!(
                "{a}.{}.{}.{}",
                b.wrapping_add(rng.gen_range(0..4)),
                rng.gen_range(0..255),
                rng.gen_range(1..254)
            )
        })
        .collect()
}

const BROWSING: [&str; 14] = [
    "www.office.com",
    "outlook.office365.com",
    "www.bing.com",
    "news.example-media.com",
    "cdn.jsdelivr.net",
    "fonts.gstatic.com",
    "www.wikipedia.org",
    "github.com",
    "static.xx.fbcdn.net",
    "ajax.googleapis.com",
    "login.microsoftonline.com",
    "www.linkedin.com",
    "docs.example-saas.io",
    "api.weather.example",
];

fn workstation(log: &mut Log, host: &Host, dc: &Host, t0: i64, rng: &mut SmallRng) {
    let first_hour = t0 == START_US;
    // The desktop shell, parent of what the user starts.
    log.running("C:\\Windows\\explorer.exe", &host.user, rng);
    let browser = if rng.gen_bool(0.5) {
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"
    } else {
        "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"
    };
    let browser_guid = if first_hour {
        log.process(
            t0 + rng.gen_range(1..60) * 1_000_000,
            browser,
            "C:\\Windows\\explorer.exe",
            browser,
            &host.user,
            rng,
        )
    } else {
        log.running(browser, &host.user, rng)
    };
    // Browsing: names resolved, then many CDN addresses on 443.
    for _ in 0..rng.gen_range(25..45) {
        let name = BROWSING[rng.gen_range(0..BROWSING.len())];
        let ips = cdn_ips(name, 6);
        let when = t0 + rng.gen_range(0..HOUR_US - 10_000_000);
        let answer = ips[rng.gen_range(0..ips.len())].clone();
        log.dns(when, &browser_guid, name, std::slice::from_ref(&answer));
        log.connect(
            host,
            when + rng.gen_range(20_000..400_000),
            &browser_guid,
            &answer,
            443,
            rng,
        );
    }
    let apps: [(&str, &str, usize); 5] = [
        (
            "C:\\Users\\Public\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe",
            "teams.microsoft.com",
            8,
        ),
        (
            "C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe",
            "onedrive.live.com",
            4,
        ),
        (
            "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
            "officecdn.microsoft.com",
            2,
        ),
        (
            "C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MsMpEng.exe",
            "wdcp.microsoft.com",
            3,
        ),
        (
            "C:\\Windows\\System32\\svchost.exe",
            "download.windowsupdate.com",
            5,
        ),
    ];
    for (image, name, n) in apps {
        let guid = log.running(image, &host.user, rng);
        let ips = cdn_ips(name, n);
        for ip in &ips {
            let when = t0 + rng.gen_range(0..HOUR_US - 10_000_000);
            log.dns(when, &guid, name, std::slice::from_ref(ip));
            log.connect(host, when + 150_000, &guid, ip, 443, rng);
        }
    }
    // Domain traffic.
    let lsass = log.running(
        "C:\\Windows\\System32\\lsass.exe",
        "NT AUTHORITY\\SYSTEM",
        rng,
    );
    for port in [88, 389, 445, 135] {
        log.connect(
            host,
            t0 + rng.gen_range(0..HOUR_US),
            &lsass,
            &dc.ip,
            port,
            rng,
        );
    }
    // Printing to the print server (an internal odd port, benign).
    if rng.gen_bool(0.3) {
        let spool = log.running(
            "C:\\Windows\\System32\\spoolsv.exe",
            "NT AUTHORITY\\SYSTEM",
            rng,
        );
        log.connect(
            host,
            t0 + rng.gen_range(0..HOUR_US),
            &spool,
            "10.20.9.20",
            9100,
            rng,
        );
    }
}

fn domain_controller(log: &mut Log, host: &Host, t0: i64, rng: &mut SmallRng) {
    let dns = log.running(
        "C:\\Windows\\System32\\dns.exe",
        "NT AUTHORITY\\SYSTEM",
        rng,
    );
    for name in ["root-servers.net", "download.windowsupdate.com"] {
        for ip in cdn_ips(name, 2) {
            log.connect(host, t0 + rng.gen_range(0..HOUR_US), &dns, &ip, 53, rng);
        }
    }
}

fn admin_remoting(logs: &mut [Log], hosts: &[Host], t0: i64, rng: &mut SmallRng) {
    // The admin on WS01 manages a random workstation over WinRM.
    let target = rng.gen_range(2..hosts.len());
    let when = t0 + rng.gen_range(0..HOUR_US - 60_000_000);
    let ps = logs[1].process(
        when,
        "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
        "C:\\Windows\\explorer.exe",
        &format!(
            "powershell.exe -NoLogo -Command Enter-PSSession -ComputerName WS{:02}",
            target
        ),
        "CORP\\admin01",
        rng,
    );
    logs[1].connect(
        &hosts[1],
        when + 2_500_000,
        &ps,
        &hosts[target].ip,
        5985,
        rng,
    );
}

fn dropper_chain(log: &mut Log, host: &Host, t: i64, c2: &str, rng: &mut SmallRng) {
    log.process(
        t - 30_000_000,
        DROPPER,
        "C:\\Windows\\explorer.exe",
        &format!("\"{DROPPER}\""),
        &host.user,
        rng,
    );
    let child = log.process(
        t - 20_000_000,
        DROPPED,
        DROPPER,
        &format!("\"{DROPPED}\" /silent"),
        &host.user,
        rng,
    );
    log.connect(host, t - 17_200_000, &child, c2, 8443, rng);
}

#[derive(Clone)]
struct Proc {
    guid: String,
    pid: u32,
    image: String,
    user: String,
}

struct Log {
    host: String,
    lines: Vec<(i64, Value)>,
    running: BTreeMap<String, Proc>,
    first_record: u64,
}

impl Log {
    fn new(host: &str) -> Self {
        Log {
            host: host.to_owned(),
            lines: Vec::new(),
            running: BTreeMap::new(),
            first_record: 1000,
        }
    }

    fn guid_of(&self, image: &str) -> Option<Proc> {
        self.running.get(image).cloned()
    }

    /// A long-running process, created before the window (no Sysmon 1).
    fn running(&mut self, image: &str, user: &str, rng: &mut SmallRng) -> Proc {
        if let Some(p) = self.running.get(image) {
            return p.clone();
        }
        self.start(image, user, rng)
    }

    /// A new process instance, which later events of `image` belong to.
    fn start(&mut self, image: &str, user: &str, rng: &mut SmallRng) -> Proc {
        let p = Proc {
            guid: guid(rng),
            pid: rng.gen_range(400..9000) * 4,
            image: image.to_owned(),
            user: user.to_owned(),
        };
        self.running.insert(image.to_owned(), p.clone());
        p
    }

    fn process(
        &mut self,
        ts: i64,
        image: &str,
        parent_image: &str,
        command_line: &str,
        user: &str,
        rng: &mut SmallRng,
    ) -> Proc {
        let parent = self.running(parent_image, user, rng);
        let p = self.start(image, user, rng);
        self.emit(
            ts,
            1,
            json!({
                "ProcessGuid": p.guid, "ProcessId": p.pid.to_string(), "Image": image,
                "CommandLine": command_line, "User": user, "IntegrityLevel": "Medium",
                "ParentProcessGuid": parent.guid, "ParentProcessId": parent.pid.to_string(),
                "ParentImage": parent.image, "Hashes": format!("SHA256={:064X}", rng.gen::<u128>()),
            }),
        );
        p
    }

    fn connect(
        &mut self,
        host: &Host,
        ts: i64,
        p: &Proc,
        dst: &str,
        port: u16,
        rng: &mut SmallRng,
    ) {
        self.emit(ts, 3, json!({
            "ProcessGuid": p.guid, "ProcessId": p.pid.to_string(), "Image": p.image, "User": p.user,
            "Protocol": "tcp", "Initiated": "true", "SourceIsIpv6": "false", "SourceIp": host.ip,
            "SourceHostname": host.name, "SourcePort": rng.gen_range(49152..65535u16).to_string(),
            "DestinationIsIpv6": "false", "DestinationIp": dst, "DestinationHostname": "-",
            "DestinationPort": port.to_string(),
        }));
    }

    fn dns(&mut self, ts: i64, p: &Proc, name: &str, answers: &[String]) {
        let results: String = answers.iter().map(|a| format!("::ffff:{a};")).collect();
        self.emit(ts, 22, json!({
            "ProcessGuid": p.guid, "ProcessId": p.pid.to_string(), "Image": p.image, "User": p.user,
            "QueryName": name, "QueryStatus": "0", "QueryResults": results,
        }));
    }

    fn pipe(&mut self, ts: i64, p: &Proc, name: &str, event_id: u32) {
        let kind = if event_id == 17 {
            "CreatePipe"
        } else {
            "ConnectPipe"
        };
        self.emit(
            ts,
            event_id,
            json!({
                "EventType": kind, "ProcessGuid": p.guid, "ProcessId": p.pid.to_string(),
                "PipeName": name, "Image": p.image, "User": p.user,
            }),
        );
    }

    fn image_load(&mut self, ts: i64, p: &Proc, loaded: &str) {
        self.emit(
            ts,
            7,
            json!({
                "ProcessGuid": p.guid, "ProcessId": p.pid.to_string(), "Image": p.image,
                "ImageLoaded": loaded, "Signed": "true", "Signature": "Microsoft Corporation",
                "SignatureStatus": "Valid", "User": p.user,
            }),
        );
    }

    fn emit(&mut self, ts: i64, event_id: u32, mut data: Value) {
        let utc = chrono::DateTime::from_timestamp_micros(ts).expect("valid demo time");
        // The shipper sees the event a moment later, as real pipelines do.
        let shipped =
            chrono::DateTime::from_timestamp_micros(ts + 900_000).expect("valid demo time");
        let obj = data.as_object_mut().expect("event data is an object");
        obj.insert("EventID".into(), json!(event_id));
        obj.insert("Channel".into(), json!(SYSMON));
        obj.insert("Hostname".into(), json!(self.host));
        obj.insert(
            "UtcTime".into(),
            json!(utc.format("%Y-%m-%d %H:%M:%S%.3f").to_string()),
        );
        obj.insert(
            "@timestamp".into(),
            json!(shipped.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
        );
        self.lines.push((ts, data));
    }

    fn write(&self, path: &Path) -> io::Result<()> {
        let mut lines: Vec<&(i64, Value)> = self.lines.iter().collect();
        lines.sort_by_key(|(ts, _)| *ts);
        let mut out = BufWriter::new(File::create(path)?);
        for (n, (_, line)) in lines.into_iter().enumerate() {
            let mut line = line.clone();
            line["RecordNumber"] = json!(self.first_record + n as u64);
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        out.flush()
    }
}

fn guid(rng: &mut SmallRng) -> String {
    let b: u128 = rng.gen();
    let h = format!("{b:032x}");
    format!(
        "{{{}-{}-{}-{}-{}}}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}
