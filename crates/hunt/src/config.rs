//! The one TOML config: networks, ports, program lists, paths, hunt
//! parameters. `default-config.toml` is both the documented default and the
//! values `Config::default()` holds.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use meshhunt_model::Networks;
use serde::Deserialize;

pub const DEFAULT_CONFIG_TOML: &str = include_str!("../default-config.toml");

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub networks: NetworksConfig,
    pub ports: PortsConfig,
    pub programs: ProgramsConfig,
    pub paths: PathsConfig,
    pub time: TimeConfig,
    #[serde(default)]
    pub hunts: BTreeMap<String, toml::Table>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworksConfig {
    pub internal: Vec<String>,
    pub external: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortsConfig {
    pub standard: Vec<u16>,
    pub internal_services: Vec<u16>,
    pub dynamic_rpc_floor: u16,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramsConfig {
    pub many_peers: Vec<String>,
    pub stagers: Vec<String>,
    pub native: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathsConfig {
    pub user_writable: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeConfig {
    pub clock_agreement_seconds: u32,
}

impl Default for Config {
    fn default() -> Self {
        toml::from_str(DEFAULT_CONFIG_TOML).expect("the built-in default config parses")
    }
}

impl Config {
    /// Reads a config file over the defaults: keys it leaves out keep their
    /// default value.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn from_toml(text: &str) -> Result<Config, String> {
        let mut merged: toml::Table = toml::from_str(DEFAULT_CONFIG_TOML).expect("default parses");
        let user: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        merge(&mut merged, user);
        let config: Config = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        config.networks()?;
        Ok(config)
    }

    pub fn networks(&self) -> Result<Networks, String> {
        Networks::from_cidrs(&self.networks.internal, &self.networks.external)
    }

    /// The resolved program/port/path sets the UDFs consult.
    pub fn lists(&self) -> Lists {
        let lower = |names: &[String]| names.iter().map(|n| n.to_ascii_lowercase()).collect();
        Lists {
            standard_ports: self.ports.standard.iter().copied().collect(),
            internal_service_ports: self.ports.internal_services.iter().copied().collect(),
            many_peers: lower(&self.programs.many_peers),
            stagers: lower(&self.programs.stagers),
            native: lower(&self.programs.native),
            user_writable: self
                .paths
                .user_writable
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect(),
        }
    }
}

/// Overlays `user` onto `base`, table by table.
fn merge(base: &mut toml::Table, user: toml::Table) {
    for (key, value) in user {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(u)) => merge(b, u),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Lists {
    pub standard_ports: HashSet<u16>,
    pub internal_service_ports: HashSet<u16>,
    pub many_peers: HashSet<String>,
    pub stagers: HashSet<String>,
    pub native: HashSet<String>,
    pub user_writable: Vec<String>,
}

/// The file name of a Windows or Unix path, lower case.
pub fn basename_lower(path: &str) -> String {
    path.rsplit(['\\', '/'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase()
}

impl Lists {
    pub fn is_user_writable(&self, image: &str) -> bool {
        let image = image.to_ascii_lowercase();
        self.user_writable
            .iter()
            .any(|p| image.contains(p.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_parses_and_user_file_overlays_it() {
        let config = Config::default();
        assert!(config.ports.standard.contains(&443));
        let config = Config::from_toml(
            "[networks]\ninternal = [\"203.0.113.0/24\"]\n[hunts.external-fanout]\nmin_distinct_ips = 5\n",
        )
        .unwrap();
        assert_eq!(config.networks.internal, ["203.0.113.0/24"]);
        assert!(config.ports.standard.contains(&443), "defaults kept");
        assert_eq!(
            config.hunts["external-fanout"]["min_distinct_ips"].as_integer(),
            Some(5)
        );
        assert!(Config::from_toml("[networks]\ninternal = [\"x\"]").is_err());
        assert!(Config::from_toml("[nope]\na = 1").is_err());
    }

    #[test]
    fn lists_match_by_file_name_and_folder() {
        let lists = Config::default().lists();
        assert!(lists
            .many_peers
            .contains(&basename_lower("C:\\Program Files\\Google\\Chrome.EXE")));
        assert!(lists.is_user_writable("C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe"));
        assert!(!lists.is_user_writable("C:\\Windows\\System32\\svchost.exe"));
    }
}
