//! Windows event XML (as rendered from EVTX, or carried in an `EventData`
//! string) to `EventFields`, streaming, without a document tree.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::fields::{EventFields, Field};

#[derive(Clone, Copy)]
enum Target {
    None,
    EventId,
    RecordId,
    Channel,
    Computer,
    Data(Field),
}

/// Fills `out` from one event's XML. Header elements (`EventID`, `Channel`,
/// `Computer`, `EventRecordID`, `TimeCreated/@SystemTime`) go to the header;
/// `<Data Name="...">` elements we know go to their fields.
pub fn parse_event_xml(xml: &str, out: &mut EventFields) -> Result<(), String> {
    let mut reader = Reader::from_str(xml);
    let mut target = Target::None;
    let mut text = String::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                target = start_target(&e, out)?;
                text.clear();
            }
            Ok(Event::Empty(e)) => {
                // <Data Name="X"/> is an empty value; only TimeCreated matters.
                start_target(&e, out)?;
                target = Target::None;
            }
            Ok(Event::Text(t)) => {
                if !matches!(target, Target::None) {
                    let value = t.unescape().map_err(|e| format!("bad XML text: {e}"))?;
                    text.push_str(&value);
                }
            }
            Ok(Event::CData(t)) => {
                if !matches!(target, Target::None) {
                    text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::End(_)) => {
                store(target, &text, out);
                target = Target::None;
                text.clear();
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "XML error at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        }
    }
}

fn start_target(e: &BytesStart, out: &mut EventFields) -> Result<Target, String> {
    Ok(match e.local_name().as_ref() {
        b"EventID" => Target::EventId,
        b"EventRecordID" => Target::RecordId,
        b"Channel" => Target::Channel,
        b"Computer" => Target::Computer,
        b"TimeCreated" => {
            if let Some(value) = attribute(e, b"SystemTime")? {
                out.record_time = value;
            }
            Target::None
        }
        // Field names are plain ASCII: match the raw bytes, no unescaping.
        b"Data" => match raw_attribute(e, b"Name")?
            .as_deref()
            .and_then(|n| std::str::from_utf8(n).ok())
            .and_then(Field::from_key)
        {
            Some(field) => {
                out.set(field, "");
                Target::Data(field)
            }
            None => Target::None,
        },
        _ => Target::None,
    })
}

fn attribute(e: &BytesStart, name: &[u8]) -> Result<Option<String>, String> {
    Ok(raw_attribute(e, name)?.map(|v| {
        quick_xml::escape::unescape(&String::from_utf8_lossy(&v))
            .map(|c| c.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(&v).into_owned())
    }))
}

/// An attribute's raw bytes, without allocating where none is needed.
fn raw_attribute<'a>(
    e: &'a BytesStart,
    name: &[u8],
) -> Result<Option<std::borrow::Cow<'a, [u8]>>, String> {
    for attr in e.attributes().with_checks(false) {
        let attr = attr.map_err(|e| format!("bad XML attribute: {e}"))?;
        if attr.key.local_name().as_ref() == name {
            return Ok(Some(attr.value));
        }
    }
    Ok(None)
}

fn store(target: Target, text: &str, out: &mut EventFields) {
    let text = text.trim();
    match target {
        Target::None => {}
        Target::EventId => out.event_id = text.parse().ok(),
        Target::RecordId => out.record_id = text.parse().ok(),
        Target::Channel => text.clone_into(&mut out.channel),
        Target::Computer => text.clone_into(&mut out.computer),
        Target::Data(field) => out.set(field, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_header_and_event_data() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event">
  <System><Provider Name="Microsoft-Windows-Sysmon"/><EventID Qualifiers="">3</EventID>
  <TimeCreated SystemTime="2019-07-19T15:12:05.7555989Z"/><EventRecordID>42</EventRecordID>
  <Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WS1.corp</Computer></System>
  <EventData><Data Name="RuleName"></Data><Data Name="Image">C:\a&amp;b.exe</Data>
  <Data Name="DestinationIp">10.0.2.18</Data><Data Name="DestinationHostname"/></EventData>
</Event>"#;
        let mut ev = EventFields::default();
        parse_event_xml(xml, &mut ev).unwrap();
        assert_eq!(ev.event_id, Some(3));
        assert_eq!(ev.record_id, Some(42));
        assert_eq!(ev.channel, "Microsoft-Windows-Sysmon/Operational");
        assert_eq!(ev.computer, "WS1.corp");
        assert_eq!(ev.record_time, "2019-07-19T15:12:05.7555989Z");
        assert_eq!(ev.get(Field::Image), Some("C:\\a&b.exe"));
        assert_eq!(ev.get(Field::DestinationIp), Some("10.0.2.18"));
        assert_eq!(ev.get(Field::DestinationHostname), None);
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        let mut ev = EventFields::default();
        assert!(parse_event_xml("<Event><System><EventID>1</Foo>", &mut ev).is_err());
    }
}
