//! Classifying IP addresses by scope.
//!
//! The brief's PowerShell regex only knew RFC 1918 and 127/8. Real estates
//! also carry CGNAT, link-local, ULA, IPv4-mapped IPv6, multicast, and their
//! own public ranges, which must count as internal to that estate.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// Where an address lives, from the point of view of routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpScope {
    Unspecified,
    Loopback,
    /// RFC 1918 (IPv4).
    Private,
    /// 100.64.0.0/10, RFC 6598.
    SharedCgnat,
    /// 169.254/16 and fe80::/10.
    LinkLocal,
    /// fc00::/7.
    UniqueLocal,
    Multicast,
    Broadcast,
    /// TEST-NET-1/2/3 and 2001:db8::/32.
    Documentation,
    /// 198.18.0.0/15 and 2001:2::/48.
    Benchmarking,
    /// 0/8, 240/4, 192.0.0/24 and other IANA special-purpose space.
    Reserved,
    /// One of the estate's own `internal_networks` (configured).
    Estate,
    Public,
}

impl IpScope {
    pub fn as_str(self) -> &'static str {
        match self {
            IpScope::Unspecified => "unspecified",
            IpScope::Loopback => "loopback",
            IpScope::Private => "private",
            IpScope::SharedCgnat => "cgnat",
            IpScope::LinkLocal => "link-local",
            IpScope::UniqueLocal => "unique-local",
            IpScope::Multicast => "multicast",
            IpScope::Broadcast => "broadcast",
            IpScope::Documentation => "documentation",
            IpScope::Benchmarking => "benchmarking",
            IpScope::Reserved => "reserved",
            IpScope::Estate => "estate",
            IpScope::Public => "public",
        }
    }

    /// True when traffic to this scope leaves the estate.
    pub fn is_external(self) -> bool {
        self == IpScope::Public
    }

    /// True for addresses a host inside the estate can talk to as a peer:
    /// RFC 1918, CGNAT, ULA and configured estate ranges.
    pub fn is_internal_peer(self) -> bool {
        matches!(
            self,
            IpScope::Private | IpScope::SharedCgnat | IpScope::UniqueLocal | IpScope::Estate
        )
    }
}

/// Parses an address as found in telemetry and folds IPv4-mapped and
/// IPv4-compatible forms to plain IPv4. Accepts zone ids (`fe80::1%12`) and
/// bracketed IPv6 and drops both decorations.
pub fn canonical_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim().trim_start_matches('[').trim_end_matches(']');
    let text = text.split('%').next().unwrap_or(text);
    let ip = IpAddr::from_str(text).ok()?;
    Some(fold_mapped(ip))
}

fn fold_mapped(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Built-in scope of an address, ignoring any configuration.
pub fn builtin_scope(ip: IpAddr) -> IpScope {
    match fold_mapped(ip) {
        IpAddr::V4(v4) => v4_scope(v4),
        IpAddr::V6(v6) => v6_scope(v6),
    }
}

fn v4_scope(ip: Ipv4Addr) -> IpScope {
    let [a, b, c, _] = ip.octets();
    if ip.is_unspecified() {
        IpScope::Unspecified
    } else if ip.is_broadcast() {
        IpScope::Broadcast
    } else if a == 127 {
        IpScope::Loopback
    } else if a == 10 || (a == 172 && (16..=31).contains(&b)) || (a == 192 && b == 168) {
        IpScope::Private
    } else if a == 100 && (64..=127).contains(&b) {
        IpScope::SharedCgnat
    } else if a == 169 && b == 254 {
        IpScope::LinkLocal
    } else if (224..=239).contains(&a) {
        IpScope::Multicast
    } else if (a, b, c) == (192, 0, 2) || (a, b, c) == (198, 51, 100) || (a, b, c) == (203, 0, 113)
    {
        IpScope::Documentation
    } else if a == 198 && (b == 18 || b == 19) {
        IpScope::Benchmarking
    } else if a == 0 || a >= 240 || (a, b, c) == (192, 0, 0) || (a, b, c) == (192, 88, 99) {
        IpScope::Reserved
    } else {
        IpScope::Public
    }
}

fn v6_scope(ip: Ipv6Addr) -> IpScope {
    let seg = ip.segments();
    if ip.is_unspecified() {
        IpScope::Unspecified
    } else if ip.is_loopback() {
        IpScope::Loopback
    } else if seg[0] & 0xffc0 == 0xfe80 {
        IpScope::LinkLocal
    } else if seg[0] & 0xfe00 == 0xfc00 {
        IpScope::UniqueLocal
    } else if seg[0] & 0xff00 == 0xff00 {
        IpScope::Multicast
    } else if seg[0] == 0x2001 && seg[1] == 0x0db8 {
        IpScope::Documentation
    } else if seg[0] == 0x2001 && seg[1] == 0x0002 && seg[2] == 0 {
        IpScope::Benchmarking
    } else if seg[0] & 0xe000 != 0x2000 || (seg[0] == 0x0064 && seg[1] == 0xff9b) {
        // Outside 2000::/3 is unallocated or special; 64:ff9b::/96 is NAT64
        // and its embedded IPv4 is what matters, which we cannot judge here.
        IpScope::Reserved
    } else {
        IpScope::Public
    }
}

/// The estate's view of address space: built-in scopes plus configured
/// internal networks (an estate's own public ranges are internal to it).
#[derive(Clone, Debug, Default)]
pub struct Networks {
    internal: Vec<IpNet>,
    external: Vec<IpNet>,
}

impl Networks {
    /// `internal`: the estate's own ranges. `external`: ranges to treat as
    /// the outside world even though they are special-purpose (a lab that
    /// plays the Internet on documentation or private space).
    pub fn new(internal: Vec<IpNet>, external: Vec<IpNet>) -> Self {
        let trunc = |nets: Vec<IpNet>| nets.into_iter().map(|n| n.trunc()).collect();
        Networks {
            internal: trunc(internal),
            external: trunc(external),
        }
    }

    /// Builds from CIDR strings, as written in the config.
    pub fn from_cidrs<S: AsRef<str>>(internal: &[S], external: &[S]) -> Result<Self, String> {
        Ok(Networks::new(
            parse_cidrs(internal)?,
            parse_cidrs(external)?,
        ))
    }

    /// Internal networks only.
    pub fn parse<S: AsRef<str>>(cidrs: &[S]) -> Result<Self, String> {
        Ok(Networks::new(parse_cidrs(cidrs)?, Vec::new()))
    }

    pub fn scope(&self, ip: IpAddr) -> IpScope {
        let ip = fold_mapped(ip);
        if self.internal.iter().any(|net| net.contains(&ip)) {
            return IpScope::Estate;
        }
        if self.external.iter().any(|net| net.contains(&ip)) {
            return IpScope::Public;
        }
        builtin_scope(ip)
    }

    /// Scope of an address in text form; `None` when it is not an address.
    pub fn scope_of(&self, text: &str) -> Option<IpScope> {
        canonical_ip(text).map(|ip| self.scope(ip))
    }

    pub fn is_external(&self, text: &str) -> bool {
        self.scope_of(text).is_some_and(IpScope::is_external)
    }
}

/// Parses CIDR strings; a bare address counts as a single-host network.
fn parse_cidrs<S: AsRef<str>>(cidrs: &[S]) -> Result<Vec<IpNet>, String> {
    let mut nets = Vec::with_capacity(cidrs.len());
    for cidr in cidrs {
        let cidr = cidr.as_ref().trim();
        let net = match IpNet::from_str(cidr) {
            Ok(net) => net,
            Err(_) => match canonical_ip(cidr) {
                Some(ip) => IpNet::from(ip),
                None => return Err(format!("not a network or address: {cidr:?}")),
            },
        };
        nets.push(net);
    }
    Ok(nets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> IpScope {
        Networks::default().scope_of(s).unwrap()
    }

    #[test]
    fn ipv4_special_ranges() {
        assert_eq!(scope("127.0.0.3"), IpScope::Loopback);
        assert_eq!(scope("10.1.2.3"), IpScope::Private);
        assert_eq!(scope("172.16.0.1"), IpScope::Private);
        assert_eq!(scope("172.31.255.255"), IpScope::Private);
        assert_eq!(scope("172.32.0.1"), IpScope::Public);
        assert_eq!(scope("192.168.1.1"), IpScope::Private);
        assert_eq!(scope("100.64.0.1"), IpScope::SharedCgnat);
        assert_eq!(scope("100.127.255.254"), IpScope::SharedCgnat);
        assert_eq!(scope("100.128.0.1"), IpScope::Public);
        assert_eq!(scope("169.254.169.254"), IpScope::LinkLocal);
        assert_eq!(scope("224.0.0.251"), IpScope::Multicast);
        assert_eq!(scope("255.255.255.255"), IpScope::Broadcast);
        assert_eq!(scope("0.0.0.0"), IpScope::Unspecified);
        assert_eq!(scope("192.0.2.7"), IpScope::Documentation);
        assert_eq!(scope("198.51.100.9"), IpScope::Documentation);
        assert_eq!(scope("203.0.113.9"), IpScope::Documentation);
        assert_eq!(scope("198.18.3.4"), IpScope::Benchmarking);
        assert_eq!(scope("240.0.0.1"), IpScope::Reserved);
        assert_eq!(scope("13.107.21.200"), IpScope::Public);
    }

    #[test]
    fn ipv6_special_ranges_and_mapped_folding() {
        assert_eq!(scope("::1"), IpScope::Loopback);
        assert_eq!(scope("0:0:0:0:0:0:0:1"), IpScope::Loopback);
        assert_eq!(scope("::"), IpScope::Unspecified);
        assert_eq!(scope("fe80::1%12"), IpScope::LinkLocal);
        assert_eq!(scope("fd12:3456::1"), IpScope::UniqueLocal);
        assert_eq!(scope("ff02::fb"), IpScope::Multicast);
        assert_eq!(scope("2001:db8::1"), IpScope::Documentation);
        assert_eq!(scope("2606:4700::1111"), IpScope::Public);
        assert_eq!(scope("::ffff:10.0.0.1"), IpScope::Private);
        assert_eq!(scope("::ffff:13.107.21.200"), IpScope::Public);
        assert_eq!(
            canonical_ip("::ffff:13.107.21.200").unwrap().to_string(),
            "13.107.21.200"
        );
        assert_eq!(
            canonical_ip("[2606:4700::1111]").unwrap().to_string(),
            "2606:4700::1111"
        );
        assert!(canonical_ip("-").is_none());
    }

    #[test]
    fn estate_ranges_are_internal() {
        let nets = Networks::parse(&["198.51.100.0/24", "2a00:1450::/32", "8.8.4.4"]).unwrap();
        assert_eq!(nets.scope_of("198.51.100.20"), Some(IpScope::Estate));
        assert_eq!(nets.scope_of("2a00:1450::5"), Some(IpScope::Estate));
        assert_eq!(nets.scope_of("8.8.4.4"), Some(IpScope::Estate));
        assert!(!nets.is_external("8.8.4.4"));
        assert!(nets.is_external("8.8.8.8"));
        assert!(Networks::parse(&["nonsense"]).is_err());
    }
}
