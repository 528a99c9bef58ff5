//! Timestamps as found in Windows telemetry, to UTC microseconds.

use chrono::{DateTime, NaiveDateTime};

/// Microseconds since the Unix epoch, UTC.
pub type Micros = i64;

pub const MICROS_PER_SECOND: i64 = 1_000_000;

/// 1601-01-01T00:00:00Z, the FILETIME zero that some EVTX exports carry in
/// their last record.
pub const FILETIME_ZERO: Micros = -11_644_473_600 * MICROS_PER_SECOND;

/// Parses the timestamp shapes seen in Sysmon, EVTX, NXLog, Winlogbeat and
/// Azure exports: `2020-09-04 20:09:39.150` (Sysmon `UtcTime`, always UTC),
/// `2019-07-19T15:12:05.7555989Z`, `2022-05-13T08:54:05.1230000Z`, with or
/// without an offset. A timestamp without an offset is taken as UTC.
pub fn parse_timestamp(text: &str) -> Option<Micros> {
    let text = text.trim();
    if text.is_empty() || text == "-" {
        return None;
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.timestamp_micros());
    }
    for pattern in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, pattern) {
            return Some(naive.and_utc().timestamp_micros());
        }
    }
    // "2020-09-04 20:09:39.150Z" and similar: an offset after a space form.
    if let Some(stripped) = text.strip_suffix('Z') {
        return parse_timestamp(stripped);
    }
    None
}

/// Seconds since the epoch as text, with an optional fraction (Zeek `ts`).
pub fn parse_epoch_seconds(text: &str) -> Option<Micros> {
    let seconds: f64 = text.trim().parse().ok()?;
    seconds
        .is_finite()
        .then(|| (seconds * MICROS_PER_SECOND as f64).round() as i64)
}

/// True for the zeroed FILETIME (and anything before 1970, which no real
/// Windows event carries).
pub fn is_zeroed(ts: Micros) -> bool {
    ts <= 0
}

/// RFC 3339 text for a timestamp, with microseconds.
pub fn format_micros(ts: Micros) -> String {
    match DateTime::from_timestamp_micros(ts) {
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => ts.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shapes_seen_in_real_exports() {
        let sysmon = parse_timestamp("2020-09-04 20:09:39.150").unwrap();
        assert_eq!(format_micros(sysmon), "2020-09-04T20:09:39.150000Z");
        let evtx = parse_timestamp("2019-07-19T15:12:05.7555989Z").unwrap();
        assert_eq!(format_micros(evtx), "2019-07-19T15:12:05.755598Z");
        let azure = parse_timestamp("2022-05-13T08:54:05.1230000Z").unwrap();
        assert_eq!(format_micros(azure), "2022-05-13T08:54:05.123000Z");
        let offset = parse_timestamp("2020-09-04T16:09:42.845-04:00").unwrap();
        assert_eq!(format_micros(offset), "2020-09-04T20:09:42.845000Z");
        assert_eq!(parse_timestamp("1601-01-01T00:00:00Z"), Some(FILETIME_ZERO));
        assert!(is_zeroed(FILETIME_ZERO));
        assert_eq!(parse_timestamp("-"), None);
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(
            parse_epoch_seconds("1585612211.5"),
            Some(1_585_612_211_500_000)
        );
    }
}
