//! The handful of event fields meshhunt needs, extracted without building a
//! tree of every value. Readers fill one reusable `EventFields` per record.

macro_rules! fields {
    ($( $slot:ident = $key:literal ),* $(,)?) => {
        /// Event-data fields we keep, by their Windows field name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(usize)]
        pub enum Field { $( $slot ),* }

        const FIELD_COUNT: usize = [$( Field::$slot ),*].len();

        impl Field {
            /// The field a Windows event-data key names (exact, case-sensitive).
            pub fn from_key(key: &str) -> Option<Field> {
                match key { $( $key => Some(Field::$slot), )* _ => None }
            }
        }
    };
}

fields! {
    UtcTime = "UtcTime",
    ProcessGuid = "ProcessGuid",
    ProcessId = "ProcessId",
    Image = "Image",
    CommandLine = "CommandLine",
    User = "User",
    ParentProcessGuid = "ParentProcessGuid",
    ParentProcessId = "ParentProcessId",
    ParentImage = "ParentImage",
    ParentCommandLine = "ParentCommandLine",
    Hashes = "Hashes",
    IntegrityLevel = "IntegrityLevel",
    Protocol = "Protocol",
    Initiated = "Initiated",
    SourceIp = "SourceIp",
    SourcePort = "SourcePort",
    DestinationIp = "DestinationIp",
    DestinationPort = "DestinationPort",
    DestinationHostname = "DestinationHostname",
    ImageLoaded = "ImageLoaded",
    Signed = "Signed",
    Signature = "Signature",
    PipeName = "PipeName",
    EventType = "EventType",
    QueryName = "QueryName",
    QueryStatus = "QueryStatus",
    QueryResults = "QueryResults",
    // Security 4688 / 5156
    NewProcessId = "NewProcessId",
    NewProcessName = "NewProcessName",
    ParentProcessName = "ParentProcessName",
    SubjectUserName = "SubjectUserName",
    SubjectDomainName = "SubjectDomainName",
    TargetUserName = "TargetUserName",
    TargetDomainName = "TargetDomainName",
    MandatoryLabel = "MandatoryLabel",
    ProcessIdUpper = "ProcessID",
    Application = "Application",
    Direction = "Direction",
    SourceAddress = "SourceAddress",
    DestAddress = "DestAddress",
    DestPort = "DestPort",
}

/// One record's header and the event-data fields we keep. Strings are
/// reused across records to spare allocations on the hot path.
#[derive(Debug)]
pub struct EventFields {
    pub channel: String,
    pub event_id: Option<u32>,
    pub computer: String,
    /// The record's own clock: EVTX TimeCreated, @timestamp, TimeGenerated.
    pub record_time: String,
    /// The record clock when the reader already has it as a number.
    pub record_micros: Option<i64>,
    pub record_id: Option<i64>,
    values: [String; FIELD_COUNT],
    present: u64,
}

const _: () = assert!(FIELD_COUNT <= 64, "presence is a 64-bit mask");

impl Default for EventFields {
    fn default() -> Self {
        EventFields {
            channel: String::new(),
            event_id: None,
            computer: String::new(),
            record_time: String::new(),
            record_micros: None,
            record_id: None,
            values: std::array::from_fn(|_| String::new()),
            present: 0,
        }
    }
}

impl EventFields {
    pub fn clear(&mut self) {
        self.channel.clear();
        self.event_id = None;
        self.computer.clear();
        self.record_time.clear();
        self.record_micros = None;
        self.record_id = None;
        self.present = 0;
    }

    pub fn set(&mut self, field: Field, value: &str) {
        let slot = &mut self.values[field as usize];
        slot.clear();
        slot.push_str(value);
        self.present |= 1 << field as usize;
    }

    /// The slot to write a value into directly; marks the field present.
    pub fn slot(&mut self, field: Field) -> &mut String {
        self.present |= 1 << field as usize;
        let slot = &mut self.values[field as usize];
        slot.clear();
        slot
    }

    /// The value, or `None` when absent, empty or Sysmon's "-" placeholder.
    pub fn get(&self, field: Field) -> Option<&str> {
        if self.present & (1 << field as usize) == 0 {
            return None;
        }
        match self.values[field as usize].as_str() {
            "" | "-" => None,
            value => Some(value),
        }
    }

    pub fn owned(&self, field: Field) -> Option<String> {
        self.get(field).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_reused_and_placeholders_are_absent() {
        let mut ev = EventFields::default();
        ev.set(Field::Image, "C:\\x.exe");
        ev.set(Field::DestinationHostname, "-");
        assert_eq!(ev.get(Field::Image), Some("C:\\x.exe"));
        assert_eq!(ev.get(Field::DestinationHostname), None);
        ev.clear();
        assert_eq!(ev.get(Field::Image), None);
        assert_eq!(Field::from_key("ProcessID"), Some(Field::ProcessIdUpper));
        assert_eq!(Field::from_key("processid"), None);
    }
}
