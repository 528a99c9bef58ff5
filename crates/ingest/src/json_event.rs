//! One JSON line of Windows event telemetry to `EventFields`, through a
//! serde visitor that keeps only known keys (no `serde_json::Value` tree).
//!
//! Three shapes are read by the same visitor, told apart by their keys:
//! - flat Mordor/NXLog: `EventID`, `Channel`, `Hostname`, `@timestamp`,
//!   `RecordNumber` and the event data as top-level keys;
//! - Winlogbeat/ECS: `winlog.{event_id,channel,computer_name,record_id}`
//!   and `winlog.event_data.*`, with `@timestamp`;
//! - Azure Log Analytics `Event`/`WindowsEvent` rows: `TimeGenerated`,
//!   `Computer`, `EventID` and `EventData` as a JSON or XML string.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::fields::{EventFields, Field};
use crate::xml_event::parse_event_xml;

/// Which shape a line had; a file reports the shape of its lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum JsonShape {
    #[default]
    Flat,
    WinlogbeatEcs,
    AzureEvent,
}

impl JsonShape {
    pub fn as_str(self) -> &'static str {
        match self {
            JsonShape::Flat => "json-flat",
            JsonShape::WinlogbeatEcs => "json-winlogbeat",
            JsonShape::AzureEvent => "json-azure-event",
        }
    }
}

/// Fills `out` from one JSON object. Returns the shape it recognised.
pub fn parse_event_json(line: &str, out: &mut EventFields) -> Result<JsonShape, String> {
    let mut shape = JsonShape::Flat;
    let mut de = serde_json::Deserializer::from_str(line);
    ObjectSeed {
        out: &mut *out,
        ctx: Ctx::Root,
        shape: &mut shape,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(shape)
}

#[derive(Clone, Copy)]
enum Ctx {
    Root,
    Winlog,
    EventData,
    /// `Event` of the `evtx` crate's JSON rendering of an EVTX record.
    EvtxEvent,
    /// `Event.System` of the same.
    System,
}

struct ObjectSeed<'a> {
    out: &'a mut EventFields,
    ctx: Ctx,
    shape: &'a mut JsonShape,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// What a key means in its context.
enum Slot {
    EventId,
    Channel,
    Computer,
    RecordTime,
    RecordId,
    Nested(Ctx),
    EventData,
    Field(Field),
    Ignore,
}

fn slot_for(ctx: Ctx, key: &str) -> Slot {
    match (ctx, key) {
        (Ctx::Root, "EventID") | (Ctx::Winlog, "event_id") | (Ctx::System, "EventID") => {
            Slot::EventId
        }
        (Ctx::Root, "Channel") | (Ctx::Winlog, "channel") | (Ctx::System, "Channel") => {
            Slot::Channel
        }
        (Ctx::Root, "Hostname" | "Computer")
        | (Ctx::Winlog, "computer_name")
        | (Ctx::System, "Computer") => Slot::Computer,
        (Ctx::Root, "@timestamp" | "TimeGenerated" | "TimeCreated") => Slot::RecordTime,
        (Ctx::Root, "RecordNumber" | "EventRecordID")
        | (Ctx::Winlog, "record_id")
        | (Ctx::System, "EventRecordID") => Slot::RecordId,
        (Ctx::Root, "winlog") => Slot::Nested(Ctx::Winlog),
        (Ctx::Root, "Event") => Slot::Nested(Ctx::EvtxEvent),
        (Ctx::EvtxEvent, "System") => Slot::Nested(Ctx::System),
        (Ctx::Root | Ctx::EvtxEvent, "EventData") | (Ctx::Winlog, "event_data") => Slot::EventData,
        (Ctx::Root | Ctx::EventData, key) => match Field::from_key(key) {
            Some(field) => Slot::Field(field),
            None => Slot::Ignore,
        },
        (Ctx::Winlog | Ctx::EvtxEvent | Ctx::System, _) => Slot::Ignore,
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut scratch = String::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match slot_for(self.ctx, &key) {
                Slot::Ignore => {
                    map.next_value::<IgnoredAny>()?;
                }
                Slot::Field(field) => {
                    map.next_value_seed(ScalarSeed(self.out.slot(field)))?;
                }
                Slot::EventId => {
                    scratch.clear();
                    map.next_value_seed(ScalarSeed(&mut scratch))?;
                    self.out.event_id = scratch.trim().parse().ok();
                }
                Slot::RecordId => {
                    scratch.clear();
                    map.next_value_seed(ScalarSeed(&mut scratch))?;
                    self.out.record_id = scratch.trim().parse().ok();
                }
                Slot::Channel => map.next_value_seed(ScalarSeed(&mut self.out.channel))?,
                Slot::Computer => map.next_value_seed(ScalarSeed(&mut self.out.computer))?,
                Slot::RecordTime => map.next_value_seed(ScalarSeed(&mut self.out.record_time))?,
                Slot::Nested(ctx) => {
                    if matches!(ctx, Ctx::Winlog) {
                        *self.shape = JsonShape::WinlogbeatEcs;
                    }
                    map.next_value_seed(ObjectSeed {
                        out: &mut *self.out,
                        ctx,
                        shape: &mut *self.shape,
                    })?;
                }
                Slot::EventData => {
                    map.next_value_seed(EventDataSeed {
                        out: &mut *self.out,
                        shape: &mut *self.shape,
                    })?;
                }
            }
        }
        Ok(())
    }

    // A context key holding something other than an object (null, a list)
    // carries nothing we read.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// `EventData`: an object of fields, or (Azure) a string holding the same
/// as JSON or as `<EventData><Data Name=…>` XML.
struct EventDataSeed<'a> {
    out: &'a mut EventFields,
    shape: &'a mut JsonShape,
}

impl<'de> DeserializeSeed<'de> for EventDataSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EventDataSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("EventData as an object or a string")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        ObjectSeed {
            out: self.out,
            ctx: Ctx::EventData,
            shape: self.shape,
        }
        .visit_map(map)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        *self.shape = JsonShape::AzureEvent;
        let text = text.trim_start();
        if text.starts_with('<') {
            parse_event_xml(text, self.out).map_err(E::custom)
        } else if text.starts_with('{') {
            let mut de = serde_json::Deserializer::from_str(text);
            ObjectSeed {
                out: self.out,
                ctx: Ctx::EventData,
                shape: &mut JsonShape::AzureEvent,
            }
            .deserialize(&mut de)
            .map_err(|e| E::custom(format!("EventData string: {e}")))
        } else {
            Ok(())
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Writes a scalar (string, number, bool) as text into a reused buffer;
/// null leaves it empty and nested values are skipped.
struct ScalarSeed<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for ScalarSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.clear();
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        use std::fmt::Write;
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        use std::fmt::Write;
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        use std::fmt::Write;
        let _ = write!(self.0, "{v}");
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    /// `{"#attributes": {...}, "#text": 4688}`: an element with attributes,
    /// as the evtx crate renders it; its text is the value.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == "#text" {
                map.next_value_seed(ScalarSeed(&mut *self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_mordor_line() {
        let line = r#"{"EventID":3,"Image":"C:\\x.exe","DestinationIp":"10.10.10.5","Hostname":"WS5","host":"wec","Channel":"Microsoft-Windows-Sysmon/Operational","@timestamp":"2020-09-04T20:09:42.845Z","RecordNumber":243464,"tags":["a"],"Keywords":-9223372036854775808}"#;
        let mut ev = EventFields::default();
        assert_eq!(parse_event_json(line, &mut ev).unwrap(), JsonShape::Flat);
        assert_eq!(ev.event_id, Some(3));
        assert_eq!(ev.computer, "WS5");
        assert_eq!(ev.record_id, Some(243464));
        assert_eq!(ev.get(Field::Image), Some("C:\\x.exe"));
        assert_eq!(ev.get(Field::DestinationIp), Some("10.10.10.5"));
    }

    #[test]
    fn winlogbeat_ecs_line() {
        let line = r#"{"@timestamp":"2021-01-01T00:00:00Z","host":{"name":"ws1"},"winlog":{"event_id":"1","channel":"Microsoft-Windows-Sysmon/Operational","computer_name":"WS1.corp","record_id":77,"event_data":{"Image":"C:\\a.exe","ProcessId":"12"}}}"#;
        let mut ev = EventFields::default();
        assert_eq!(
            parse_event_json(line, &mut ev).unwrap(),
            JsonShape::WinlogbeatEcs
        );
        assert_eq!(ev.event_id, Some(1));
        assert_eq!(ev.computer, "WS1.corp");
        assert_eq!(ev.record_id, Some(77));
        assert_eq!(ev.get(Field::ProcessId), Some("12"));
    }

    #[test]
    fn azure_event_with_json_and_xml_event_data() {
        let json = r#"{"TimeGenerated":"2022-05-13T08:54:06.347Z","Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"WORKSTATION5","EventData":"{\"Image\":\"C:\\\\p.exe\",\"DestinationPort\":\"8080\"}","EventID":3}"#;
        let mut ev = EventFields::default();
        assert_eq!(
            parse_event_json(json, &mut ev).unwrap(),
            JsonShape::AzureEvent
        );
        assert_eq!(ev.get(Field::Image), Some("C:\\p.exe"));
        assert_eq!(ev.get(Field::DestinationPort), Some("8080"));

        let xml = r#"{"TimeGenerated":"2022-05-13T08:54:06Z","Computer":"WS5","EventID":1,"EventData":"<DataItem><EventData xmlns=\"x\"><Data Name=\"Image\">C:\\p.exe</Data></EventData></DataItem>"}"#;
        let mut ev = EventFields::default();
        parse_event_json(xml, &mut ev).unwrap();
        assert_eq!(ev.get(Field::Image), Some("C:\\p.exe"));
        assert_eq!(ev.event_id, Some(1));
    }

    #[test]
    fn evtx_crate_json_rendering() {
        let line = r##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"S"}},"EventID":{"#attributes":{"Qualifiers":""},"#text":4688},"EventRecordID":1940897,"Channel":"Security","Computer":"PC01"},"EventData":{"NewProcessName":"C:\\a.exe","NewProcessId":"0x1a"}}}"##;
        let mut ev = EventFields::default();
        parse_event_json(line, &mut ev).unwrap();
        assert_eq!(ev.event_id, Some(4688));
        assert_eq!(ev.record_id, Some(1940897));
        assert_eq!(ev.channel, "Security");
        assert_eq!(ev.computer, "PC01");
        assert_eq!(ev.get(Field::NewProcessName), Some("C:\\a.exe"));
    }

    #[test]
    fn bad_json_is_an_error() {
        let mut ev = EventFields::default();
        assert!(parse_event_json("{\"EventID\":1,", &mut ev).is_err());
        assert!(parse_event_json("{} trailing", &mut ev).is_err());
    }
}
