//! Windows events (Sysmon 1/3/7/17/18/22, Security 4688/5156) to rows of
//! the normalized tables.

use meshhunt_model::canonical_ip;
use meshhunt_model::rows::{
    DnsAnswerRow, DnsRow, ImageLoadRow, NetworkRow, PipeRow, ProcessRow, Row,
};
use meshhunt_model::time::{is_zeroed, parse_timestamp};

use crate::fields::{EventFields, Field};

/// Two clocks further apart than this disagree (VM clocks, export delays).
pub const CLOCK_AGREEMENT_US: i64 = 120 * 1_000_000;

/// Which log an event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    Sysmon,
    Security,
    Other,
}

impl Channel {
    pub fn of(name: &str) -> Channel {
        if name.eq_ignore_ascii_case("Microsoft-Windows-Sysmon/Operational") {
            Channel::Sysmon
        } else if name.eq_ignore_ascii_case("Security") {
            Channel::Security
        } else {
            Channel::Other
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Channel::Sysmon => "sysmon",
            Channel::Security => "Security",
            Channel::Other => "other",
        }
    }
}

/// Where a row came from.
pub struct Provenance<'a> {
    pub source: &'a str,
    pub source_file: &'a str,
    /// Used when the event carries no record id of its own (line number).
    pub fallback_record_id: i64,
}

/// What became of one event.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// Rows emitted (0 for events of kinds we do not keep).
    pub rows: usize,
    pub relevant: bool,
    pub zeroed_timestamp: bool,
    pub clocks_disagree: bool,
}

/// Timestamps of one event: its own clock and its record's clock.
struct Clocks {
    ts: Option<i64>,
    record_ts: Option<i64>,
    zeroed: bool,
}

fn clocks(ev: &EventFields, own: Option<&str>) -> Clocks {
    let mut zeroed = false;
    let mut keep = |ts: Option<i64>| match ts {
        Some(t) if is_zeroed(t) => {
            zeroed = true;
            None
        }
        other => other,
    };
    let record_ts = keep(
        ev.record_micros
            .or_else(|| parse_timestamp(&ev.record_time)),
    );
    let own_ts = keep(own.and_then(parse_timestamp));
    Clocks {
        ts: own_ts.or(record_ts),
        record_ts,
        zeroed,
    }
}

/// Normalizes one event, handing each row to `emit`.
pub fn normalize(ev: &EventFields, prov: &Provenance, emit: &mut impl FnMut(Row)) -> Outcome {
    let Some(event_id) = ev.event_id else {
        return Outcome::default();
    };
    let channel = Channel::of(&ev.channel);
    let relevant = matches!(
        (channel, event_id),
        (Channel::Sysmon, 1 | 3 | 7 | 17 | 18 | 22) | (Channel::Security, 4688 | 5156)
    );
    if !relevant {
        return Outcome::default();
    }
    let own_time = match channel {
        Channel::Sysmon => ev.get(Field::UtcTime),
        _ => None,
    };
    let clocks = clocks(ev, own_time);
    let common = Common {
        ts: clocks.ts,
        record_ts: clocks.record_ts,
        host: (!ev.computer.is_empty()).then(|| ev.computer.clone()),
        source: Some(prov.source.to_owned()),
        source_file: Some(prov.source_file.to_owned()),
        record_id: Some(ev.record_id.unwrap_or(prov.fallback_record_id)),
    };
    let mut rows = 0;
    let mut out = |row: Row| {
        rows += 1;
        emit(row)
    };
    match (channel, event_id) {
        (Channel::Sysmon, 1) => out(sysmon_process(ev, common).into()),
        (Channel::Sysmon, 3) => out(sysmon_network(ev, common).into()),
        (Channel::Sysmon, 7) => out(sysmon_image_load(ev, common).into()),
        (Channel::Sysmon, 17 | 18) => out(sysmon_pipe(ev, event_id, common).into()),
        (Channel::Sysmon, 22) => sysmon_dns(ev, common, &mut out),
        (Channel::Security, 4688) => out(security_process(ev, common).into()),
        (Channel::Security, 5156) => out(security_network(ev, common).into()),
        _ => {}
    }
    let clocks_disagree = matches!(
        (clocks.ts, clocks.record_ts),
        (Some(a), Some(b)) if (a - b).abs() > CLOCK_AGREEMENT_US
    );
    Outcome {
        rows,
        relevant: true,
        zeroed_timestamp: clocks.zeroed,
        clocks_disagree,
    }
}

#[derive(Clone)]
struct Common {
    ts: Option<i64>,
    record_ts: Option<i64>,
    host: Option<String>,
    source: Option<String>,
    source_file: Option<String>,
    record_id: Option<i64>,
}

fn int(ev: &EventFields, field: Field) -> Option<i64> {
    ev.get(field).and_then(|v| v.trim().parse().ok())
}

/// Security log pids are hex (`0x1a2c`).
fn hex_int(ev: &EventFields, field: Field) -> Option<i64> {
    let v = ev.get(field)?.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn boolean(ev: &EventFields, field: Field) -> Option<bool> {
    match ev.get(field)?.trim() {
        v if v.eq_ignore_ascii_case("true") => Some(true),
        v if v.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Canonical text of an address; text that is no address is kept as given.
fn ip(ev: &EventFields, field: Field) -> Option<String> {
    let raw = ev.get(field)?;
    Some(match canonical_ip(raw) {
        Some(ip) => ip.to_string(),
        None => raw.to_owned(),
    })
}

fn sysmon_process(ev: &EventFields, c: Common) -> ProcessRow {
    ProcessRow {
        ts: c.ts,
        record_ts: c.record_ts,
        host: c.host,
        pid: int(ev, Field::ProcessId),
        process_guid: ev.owned(Field::ProcessGuid),
        image: ev.owned(Field::Image),
        command_line: ev.owned(Field::CommandLine),
        user: ev.owned(Field::User),
        parent_pid: int(ev, Field::ParentProcessId),
        parent_guid: ev.owned(Field::ParentProcessGuid),
        parent_image: ev.owned(Field::ParentImage),
        parent_command_line: ev.owned(Field::ParentCommandLine),
        hashes: ev.owned(Field::Hashes),
        integrity_level: ev.owned(Field::IntegrityLevel),
        source: c.source,
        source_file: c.source_file,
        record_id: c.record_id,
    }
}

fn sysmon_network(ev: &EventFields, c: Common) -> NetworkRow {
    NetworkRow {
        ts: c.ts,
        record_ts: c.record_ts,
        host: c.host,
        pid: int(ev, Field::ProcessId),
        process_guid: ev.owned(Field::ProcessGuid),
        image: ev.owned(Field::Image),
        user: ev.owned(Field::User),
        protocol: ev.get(Field::Protocol).map(str::to_ascii_lowercase),
        initiated: boolean(ev, Field::Initiated),
        src_ip: ip(ev, Field::SourceIp),
        src_port: int(ev, Field::SourcePort),
        dst_ip: ip(ev, Field::DestinationIp),
        dst_port: int(ev, Field::DestinationPort),
        dst_hostname: ev.owned(Field::DestinationHostname),
        source: c.source,
        source_file: c.source_file,
        record_id: c.record_id,
        ..Default::default()
    }
}

fn sysmon_image_load(ev: &EventFields, c: Common) -> ImageLoadRow {
    ImageLoadRow {
        ts: c.ts,
        record_ts: c.record_ts,
        host: c.host,
        pid: int(ev, Field::ProcessId),
        process_guid: ev.owned(Field::ProcessGuid),
        image: ev.owned(Field::Image),
        loaded_image: ev.owned(Field::ImageLoaded),
        signed: boolean(ev, Field::Signed),
        signature: ev.owned(Field::Signature),
        user: ev.owned(Field::User),
        source: c.source,
        source_file: c.source_file,
        record_id: c.record_id,
    }
}

fn sysmon_pipe(ev: &EventFields, event_id: u32, c: Common) -> PipeRow {
    let action = if event_id == 17 { "create" } else { "connect" };
    PipeRow {
        ts: c.ts,
        record_ts: c.record_ts,
        host: c.host,
        pid: int(ev, Field::ProcessId),
        process_guid: ev.owned(Field::ProcessGuid),
        image: ev.owned(Field::Image),
        pipe_name: ev.owned(Field::PipeName),
        action: Some(action.to_owned()),
        user: ev.owned(Field::User),
        source: c.source,
        source_file: c.source_file,
        record_id: c.record_id,
    }
}

/// Sysmon 22 yields one `dns` row and one `dns_answer` row per address in
/// `QueryResults` (`type:  5 cdn.example;::ffff:1.2.3.4;5.6.7.8;`).
fn sysmon_dns(ev: &EventFields, c: Common, out: &mut impl FnMut(Row)) {
    let query = ev.owned(Field::QueryName);
    let answers = ev.get(Field::QueryResults);
    for answer_ip in answers.into_iter().flat_map(answer_ips) {
        out(DnsAnswerRow {
            ts: c.ts,
            record_ts: c.record_ts,
            host: c.host.clone(),
            pid: int(ev, Field::ProcessId),
            process_guid: ev.owned(Field::ProcessGuid),
            image: ev.owned(Field::Image),
            query: query.clone(),
            answer_ip: Some(answer_ip),
            source: c.source.clone(),
            source_file: c.source_file.clone(),
            record_id: c.record_id,
        }
        .into());
    }
    out(DnsRow {
        ts: c.ts,
        record_ts: c.record_ts,
        host: c.host,
        pid: int(ev, Field::ProcessId),
        process_guid: ev.owned(Field::ProcessGuid),
        image: ev.owned(Field::Image),
        query,
        qtype: None,
        answers: answers.map(str::to_owned),
        rcode: ev.owned(Field::QueryStatus),
        source: c.source,
        source_file: c.source_file,
        record_id: c.record_id,
    }
    .into());
}

/// The addresses in a Sysmon `QueryResults` string, canonical.
pub fn answer_ips(results: &str) -> impl Iterator<Item = String> + '_ {
    results
        .split(';')
        .filter_map(|part| canonical_ip(part.trim()).map(|ip| ip.to_string()))
}

fn security_process(ev: &EventFields, c: Common) -> ProcessRow {
    let user = match (
        ev.get(Field::SubjectDomainName),
        ev.get(Field::SubjectUserName),
    ) {
        (Some(domain), Some(user)) => Some(format!("{domain}\\{user}")),
        (None, Some(user)) => Some(user.to_owned()),
        _ => ev.owned(Field::TargetUserName),
    };
    ProcessRow {
        ts: c.ts,
        record_ts: c.record_ts,
        host: c.host,
        pid: hex_int(ev, Field::NewProcessId),
        image: ev.owned(Field::NewProcessName),
        command_line: ev.owned(Field::CommandLine),
        user,
        // In 4688, ProcessId is the creator, i.e. the parent.
        parent_pid: hex_int(ev, Field::ProcessId),
        parent_image: ev.owned(Field::ParentProcessName),
        integrity_level: ev.get(Field::MandatoryLabel).map(integrity_from_sid),
        source: c.source,
        source_file: c.source_file,
        record_id: c.record_id,
        ..Default::default()
    }
}

fn integrity_from_sid(sid: &str) -> String {
    match sid.trim() {
        "S-1-16-0" => "Untrusted",
        "S-1-16-4096" => "Low",
        "S-1-16-8192" => "Medium",
        "S-1-16-8448" => "MediumPlus",
        "S-1-16-12288" => "High",
        "S-1-16-16384" => "System",
        other => other,
    }
    .to_owned()
}

/// 5156 names the local side "Source" whatever the direction; we store the
/// initiator as `src`, as Sysmon 3 does.
fn security_network(ev: &EventFields, c: Common) -> NetworkRow {
    let inbound = matches!(
        ev.get(Field::Direction),
        Some(d) if d == "%%14592" || d.eq_ignore_ascii_case("inbound")
    );
    let (local_ip, local_port) = (ip(ev, Field::SourceAddress), int(ev, Field::SourcePort));
    let (remote_ip, remote_port) = (ip(ev, Field::DestAddress), int(ev, Field::DestPort));
    let ((src_ip, src_port), (dst_ip, dst_port)) = if inbound {
        ((remote_ip, remote_port), (local_ip, local_port))
    } else {
        ((local_ip, local_port), (remote_ip, remote_port))
    };
    let protocol = ev.get(Field::Protocol).map(|p| match p.trim() {
        "6" => "tcp".to_owned(),
        "17" => "udp".to_owned(),
        "1" => "icmp".to_owned(),
        other => other.to_ascii_lowercase(),
    });
    NetworkRow {
        ts: c.ts,
        record_ts: c.record_ts,
        host: c.host,
        pid: int(ev, Field::ProcessIdUpper),
        image: ev.owned(Field::Application),
        protocol,
        initiated: Some(!inbound),
        src_ip,
        src_port,
        dst_ip,
        dst_port,
        source: c.source,
        source_file: c.source_file,
        record_id: c.record_id,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prov() -> Provenance<'static> {
        Provenance {
            source: "test",
            source_file: "f.json",
            fallback_record_id: 9,
        }
    }

    #[test]
    fn sysmon_dns_answers_become_rows() {
        let mut ev = EventFields::default();
        ev.channel = "Microsoft-Windows-Sysmon/Operational".into();
        ev.event_id = Some(22);
        ev.computer = "WS1".into();
        ev.set(Field::UtcTime, "2020-09-04 20:09:39.150");
        ev.set(Field::QueryName, "edge.microsoft.com");
        ev.set(
            Field::QueryResults,
            "type:  5 edge.microsoft.com;::ffff:13.107.21.200;2620:1ec:c11::200;",
        );
        let mut rows = Vec::new();
        let outcome = normalize(&ev, &prov(), &mut |r| rows.push(r));
        assert_eq!(outcome.rows, 3);
        let ips: Vec<_> = rows
            .iter()
            .filter_map(|r| match r {
                Row::DnsAnswer(a) => a.answer_ip.clone(),
                _ => None,
            })
            .collect();
        assert_eq!(ips, ["13.107.21.200", "2620:1ec:c11::200"]);
    }

    #[test]
    fn security_5156_inbound_is_flipped_to_initiator_first() {
        let mut ev = EventFields::default();
        ev.channel = "Security".into();
        ev.event_id = Some(5156);
        ev.record_time = "2019-01-01T00:00:00Z".into();
        ev.set(Field::Direction, "%%14592");
        ev.set(Field::SourceAddress, "10.0.0.5");
        ev.set(Field::SourcePort, "3389");
        ev.set(Field::DestAddress, "10.0.0.9");
        ev.set(Field::DestPort, "50000");
        ev.set(Field::Protocol, "6");
        let mut rows = Vec::new();
        normalize(&ev, &prov(), &mut |r| rows.push(r));
        let Row::Network(n) = &rows[0] else { panic!() };
        assert_eq!(n.src_ip.as_deref(), Some("10.0.0.9"));
        assert_eq!(n.dst_port, Some(3389));
        assert_eq!(n.initiated, Some(false));
        assert_eq!(n.protocol.as_deref(), Some("tcp"));
        assert_eq!(n.record_id, Some(9));
    }

    #[test]
    fn zeroed_and_disagreeing_clocks_are_reported() {
        let mut ev = EventFields::default();
        ev.channel = "Microsoft-Windows-Sysmon/Operational".into();
        ev.event_id = Some(1);
        ev.record_time = "1601-01-01T00:00:00Z".into();
        ev.set(Field::UtcTime, "2019-07-19 15:12:05.755");
        let o = normalize(&ev, &prov(), &mut |_| {});
        assert!(o.zeroed_timestamp && !o.clocks_disagree);
        ev.record_time = "2019-07-20T15:12:05Z".into();
        let o = normalize(&ev, &prov(), &mut |_| {});
        assert!(o.clocks_disagree);
    }
}
