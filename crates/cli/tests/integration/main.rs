//! meshhunt against real public telemetry (`../shared/fixtures`, read at run
//! time) and against its own demo estate. One test crate, one binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use meshhunt::pipeline::{self, HuntOutcome};
use meshhunt::simulate::{simulate, SimOptions};
use meshhunt_hunt::{builtin_hunts, Config};
use meshhunt_ingest::{read_file, FileReport};
use meshhunt_lake::Lake;
use meshhunt_model::{Severity, Table};
use serde_json::Value;

mod live;

fn fixtures() -> PathBuf {
    if let Ok(dir) = std::env::var("MESHHUNT_FIXTURES") {
        return PathBuf::from(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    assert!(
        dir.is_dir(),
        "fixtures not found at {} (set MESHHUNT_FIXTURES)",
        dir.display()
    );
    dir
}

fn read_counting(path: &Path) -> FileReport {
    read_file(path, None, 4096, &mut |_, _| Ok(())).unwrap_or_else(|e| panic!("{e}"))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Ingests into a fresh lake and runs every built-in hunt.
fn hunt(paths: &[PathBuf], min: Severity) -> HuntOutcome {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(dir.path()).unwrap();
    let ingest = pipeline::ingest(&lake, paths, None, &|_| {});
    assert!(ingest.failed.is_empty(), "{:?}", ingest.failed);
    pipeline::hunt(&lake, &Config::default(), &builtin_hunts(), min).unwrap()
}

#[test]
fn evtx_event_counts_match_facts_for_every_file() {
    let root = fixtures().join("evtx-attack-samples");
    let facts = json(&root.join("FACTS.json"));
    let facts = facts.as_object().unwrap();
    assert!(facts.len() > 50);
    for (file, fact) in facts {
        let report = read_counting(&root.join(file));
        assert_eq!(report.format, "evtx");
        assert_eq!(
            report.records,
            fact["n"].as_u64().unwrap(),
            "{file}: records"
        );
        let counts = fact["counts"].as_object().unwrap();
        for (key, n) in counts {
            if key.starts_with("sysmon_") || key.starts_with("Security_") {
                let ours = report.events.get(key).copied().unwrap_or(0);
                assert_eq!(ours, n.as_u64().unwrap(), "{file}: {key}");
            }
        }
        let count = |k: &str| counts.get(k).and_then(Value::as_u64).unwrap_or(0);
        let expected_rows = [
            (Table::Process, count("sysmon_1") + count("Security_4688")),
            (Table::Network, count("sysmon_3") + count("Security_5156")),
            (Table::ImageLoad, count("sysmon_7")),
            (Table::Pipe, count("sysmon_17") + count("sysmon_18")),
            (Table::Dns, count("sysmon_22")),
        ];
        for (table, want) in expected_rows {
            assert_eq!(report.rows_in(table), want, "{file}: {} rows", table.name());
        }
        assert_eq!(report.skipped_total(), 0, "{file}: {:?}", report.examples);
    }
}

#[test]
fn evtx_zeroed_timestamps_are_counted_not_fatal() {
    let file = fixtures()
        .join("evtx-attack-samples/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx");
    let report = read_counting(&file);
    assert!(
        report.zeroed_timestamps >= 1,
        "the last record carries 1601-01-01"
    );
    assert_eq!(report.events["sysmon_1"], 511);
}

#[test]
fn mordor_json_sets_match_facts() {
    let root = fixtures().join("otrf-security-datasets/sysmon");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let facts = json(&dir.join("FACTS.json"));
        let member = facts["member"].as_str().unwrap();
        // Filtered sets are stored under a longer name; take the .json there.
        let file = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.extension().is_some_and(|x| x == "json") && p.file_name().unwrap() != "FACTS.json"
            })
            .unwrap_or_else(|| dir.join(member));
        let report = read_counting(&file);
        let expected = facts["facts"]["sysmon_eventid_counts"].as_object().unwrap();
        // Filtered sets keep EventIDs 1, 3, 5, 17, 18, 22 only; FACTS counts the original.
        let filtered = facts["stored"].as_str().unwrap().contains("filtered");
        let ids: &[&str] = if filtered {
            &["1", "3", "17", "18", "22"]
        } else {
            &["1", "3", "7", "17", "18", "22"]
        };
        for &id in ids {
            let want = expected.get(id).and_then(Value::as_u64).unwrap_or(0);
            let got = report
                .events
                .get(&format!("sysmon_{id}"))
                .copied()
                .unwrap_or(0);
            assert_eq!(got, want, "{}: sysmon {id}", file.display());
        }
        let want = |id: &str| expected.get(id).and_then(Value::as_u64).unwrap_or(0);
        assert!(
            report.rows_in(Table::Process) >= want("1"),
            "{}",
            file.display()
        );
        assert_eq!(
            report.rows_in(Table::Network),
            want("3") + report.events.get("Security_5156").copied().unwrap_or(0)
        );
        assert_eq!(report.rows_in(Table::Pipe), want("17") + want("18"));
        assert_eq!(
            report.skipped_total(),
            0,
            "{}: {:?}",
            file.display(),
            report.examples
        );
        if dir.ends_with("sysmon_log4shell_cve2021_44228_java_serialized_object") {
            assert_eq!(report.format, "json-azure-event");
        } else {
            assert_eq!(report.format, "json-flat", "{}", file.display());
        }
        seen += 1;
    }
    assert_eq!(seen, 9);
}

#[test]
fn spawn_then_connect_finds_the_empire_stagers() {
    let root = fixtures().join("otrf-security-datasets/sysmon");
    for set in [
        "empire_launcher_vbs",
        "empire_psremoting_stager",
        "empire_dcom_shellwindows_stager",
    ] {
        let dir = root.join(set);
        let files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension().is_some_and(|x| x == "json") && p.file_name().unwrap() != "FACTS.json"
            })
            .collect();
        let outcome = hunt(&files, Severity::Info);
        let hit = outcome.findings.iter().find(|f| {
            f.hunt == "spawn-then-connect"
                && f.entity.as_deref() == Some("10.10.10.5:80")
                && f.image
                    .as_deref()
                    .is_some_and(|i| i.to_ascii_lowercase().ends_with("powershell.exe"))
        });
        let hit = hit.unwrap_or_else(|| panic!("{set}: no powershell -> 10.10.10.5:80 finding"));
        assert!(hit.severity >= Severity::Medium, "{set}: {hit:?}");
        let delay = hit.evidence["delay_seconds"].as_f64().unwrap();
        assert!((0.0..=10.0).contains(&delay), "{set}: delay {delay}");
        assert!(hit.evidence["process_record"]
            .as_str()
            .unwrap()
            .contains(".json#"));
    }
}

#[test]
fn covenant_edge_fanout_is_not_high() {
    let dir = fixtures().join("otrf-security-datasets/sysmon/covenant_dcom_iertutil_dll_hijack");
    let file =
        dir.join("covenant_dcom_iertutil_dll_hijack_2020-10-09183000.sysmon_1_3_5_17_18_22.json");
    let outcome = hunt(&[file], Severity::Info);
    let edge: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| {
            f.image
                .as_deref()
                .is_some_and(|i| i.to_ascii_lowercase().ends_with("microsoftedgecp.exe"))
        })
        .collect();
    let fanout = edge
        .iter()
        .find(|f| f.hunt == "external-fanout")
        .expect("Edge's fan-out is seen");
    assert_eq!(fanout.evidence["distinct_ips"].as_i64(), Some(23));
    for f in &edge {
        assert!(f.severity < Severity::High, "{f:?}");
    }
}

#[test]
fn demo_estate_mesh_is_found_and_benign_hosts_stay_below_high() {
    let dir = tempfile::tempdir().unwrap();
    let estate = dir.path().join("estate");
    let truth = simulate(
        &SimOptions {
            hosts: 10,
            hours: 2,
            seed: 11,
        },
        &estate,
    )
    .unwrap();
    let logs: Vec<PathBuf> = truth
        .hosts
        .iter()
        .map(|h| estate.join(format!("{}.json", h.split('.').next().unwrap())))
        .collect();
    let outcome = hunt(&logs, Severity::Info);
    for host in &truth.mesh_hosts {
        assert!(
            outcome
                .findings
                .iter()
                .any(|f| f.host.as_deref() == Some(host) && f.severity >= Severity::Medium),
            "mesh host {host} not found"
        );
    }
    for host in &truth.benign_hosts {
        for f in outcome
            .findings
            .iter()
            .filter(|f| f.host.as_deref() == Some(host))
        {
            assert!(f.severity <= Severity::Medium, "benign {host}: {f:?}");
        }
    }
    let group = outcome.mesh.groups.first().expect("a mesh group");
    assert_eq!(group.leader.as_deref(), Some(truth.leader.as_str()));
    let mut members = group.hosts.clone();
    members.sort();
    let mut planted = truth.mesh_hosts.clone();
    planted.sort();
    assert_eq!(members, planted);

    // The brief's rule flags browsers on benign hosts; our scoring does not.
    let lake_dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(lake_dir.path()).unwrap();
    pipeline::ingest(&lake, &logs, None, &|_| {});
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let naive = rt.block_on(async {
        let ctx = meshhunt_hunt::session::lake_session(&lake, &Config::default())
            .await
            .unwrap();
        meshhunt_hunt::naive_brief_rule(&ctx).await.unwrap()
    });
    assert!(naive.iter().any(|h| truth.benign_hosts.contains(&h.host)
        && (h.image.ends_with("chrome.exe") || h.image.ends_with("msedge.exe"))));
}

fn meshhunt(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_meshhunt"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn bad_input_is_reported_by_file_and_place_and_the_rest_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2024-01-01 10:00:00.000","ProcessGuid":"{1}","ProcessId":"10","Image":"C:\\Users\\x\\AppData\\evil.exe","CommandLine":"evil \u001b[2Jcleared","ParentImage":"C:\\Windows\\explorer.exe"}
{"EventID":3,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"WS1","UtcTime":"2024-01-01 10:00:02.000","ProcessGuid":"{1}","ProcessId":"10","Image":"C:\\Users\\x\\AppData\\evil.exe","Initiated":"true","SourceIp":"10.0.0.5","DestinationIp":"45.1.2.3","DestinationPort":"4444"}
{"EventID":3, broken
"#;
    std::fs::write(dir.path().join("a.json"), good).unwrap();
    std::fs::write(dir.path().join("b.evtx"), b"ElfFile\0 but not really").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let out = meshhunt(&[
        "hunt",
        dir.path().to_str().unwrap(),
        "--min-severity",
        "info",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("a.json: line 3: malformed JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped 1 record(s) (malformed JSON: 1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("b.evtx: not a readable EVTX file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 file(s) of an unsupported format not read (.txt 1)"),
        "{stderr}"
    );
    assert!(stdout.contains("evil.exe -> 45.1.2.3:4444"), "{stdout}");
    assert!(
        !stdout.contains('\u{1b}'),
        "terminal control sequences must not pass"
    );

    let csv = meshhunt(&[
        "hunt",
        dir.path().join("a.json").to_str().unwrap(),
        "--format",
        "csv",
        "-q",
    ]);
    assert!(String::from_utf8_lossy(&csv.stdout).starts_with("hunt,severity,score"));
    let fail = meshhunt(&[
        "hunt",
        dir.path().join("a.json").to_str().unwrap(),
        "-q",
        "--fail-on",
        "high",
    ]);
    assert_eq!(fail.status.code(), Some(3));
    let none = meshhunt(&["hunt", dir.path().join("notes.txt").to_str().unwrap(), "-q"]);
    assert_eq!(none.status.code(), Some(1));
}

#[test]
fn reingesting_the_same_content_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let file = fixtures().join("otrf-security-datasets/sysmon/empire_launcher_vbs/empire_launcher_vbs_2020-09-04160940.json");
    let first = meshhunt(&[
        "ingest",
        file.to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
    ]);
    assert!(first.status.success());
    let again = meshhunt(&[
        "ingest",
        file.to_str().unwrap(),
        "--lake",
        lake.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("0 read, 1 already in the lake"), "{stderr}");
    let parts = std::fs::read_dir(lake.join("network")).unwrap().count();
    assert_eq!(parts, 1);
    let ledger = std::fs::read_to_string(lake.join("ledger.jsonl")).unwrap();
    assert_eq!(ledger.lines().count(), 1);
    let rows: BTreeMap<String, u64> = serde_json::from_str::<Value>(ledger.lines().next().unwrap())
        .unwrap()["rows"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    let report = read_counting(&file);
    assert_eq!(
        rows["network"],
        report.events["sysmon_3"] + report.events["Security_5156"]
    );
    assert_eq!(report.events["sysmon_3"], 10);
}

#[test]
fn hunts_and_config_commands() {
    let list = String::from_utf8(meshhunt(&["hunts", "list"]).stdout).unwrap();
    for id in ["external-fanout", "spawn-then-connect", "direct-ip"] {
        assert!(list.contains(id), "{list}");
    }
    let show = String::from_utf8(meshhunt(&["hunts", "show", "external-fanout"]).stdout).unwrap();
    assert!(show.contains("min_distinct_ips = 3"));
    let config = meshhunt(&["config", "--print-default"]);
    let text = String::from_utf8(config.stdout).unwrap();
    assert!(Config::from_toml(&text).is_ok());
}

#[test]
fn gzip_inputs_read_like_the_originals() {
    let dir = tempfile::tempdir().unwrap();
    let sources = [
        fixtures().join("otrf-security-datasets/sysmon/empire_launcher_vbs/empire_launcher_vbs_2020-09-04160940.json"),
        fixtures().join("evtx-attack-samples/Command and Control/DE_sysmon-3-rdp-tun.evtx"),
    ];
    for source in sources {
        let copy = dir.path().join(source.file_name().unwrap());
        std::fs::copy(&source, &copy).unwrap();
        assert!(Command::new("gzip")
            .arg("-k")
            .arg(&copy)
            .status()
            .unwrap()
            .success());
        let gz = copy.with_file_name(format!(
            "{}.gz",
            copy.file_name().unwrap().to_string_lossy()
        ));
        let plain = read_counting(&source);
        let unzipped = read_counting(&gz);
        assert_eq!(unzipped.format, plain.format);
        assert_eq!(unzipped.records, plain.records);
        assert_eq!(unzipped.events, plain.events);
        assert_eq!(unzipped.rows, plain.rows);
    }
}
