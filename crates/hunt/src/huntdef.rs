//! A hunt is a TOML file: metadata, parameters with defaults, and SQL over
//! the lake's tables. Built-in hunts are embedded; users add their own.

use std::collections::BTreeMap;
use std::path::Path;

use meshhunt_model::Severity;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HuntDef {
    pub id: String,
    pub title: String,
    pub description: String,
    /// Used when the SQL returns no `score`.
    pub severity: Severity,
    #[serde(default)]
    pub attack: Vec<String>,
    /// Tables the SQL reads (for `hunts list` and live mode).
    pub tables: Vec<String>,
    /// True when live snapshots carry what the hunt needs.
    #[serde(default)]
    pub live: bool,
    /// Whether the entity names *which* finding this is (a peer ip:port) or
    /// only describes it (a list of IPs that grows as a watch goes on).
    #[serde(default = "yes")]
    pub entity_is_identity: bool,
    #[serde(default, rename = "param")]
    pub params: Vec<Param>,
    pub sql: String,
    /// Where the definition came from: `built-in` or a file path.
    #[serde(skip)]
    pub origin: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: String,
    pub default: toml::Value,
    pub help: String,
}

fn yes() -> bool {
    true
}

const BUILTIN: &[(&str, &str)] = &[
    (
        "external-fanout",
        include_str!("../../../hunts/external-fanout.toml"),
    ),
    (
        "spawn-then-connect",
        include_str!("../../../hunts/spawn-then-connect.toml"),
    ),
    ("direct-ip", include_str!("../../../hunts/direct-ip.toml")),
    (
        "internal-mesh",
        include_str!("../../../hunts/internal-mesh.toml"),
    ),
    (
        "clr-injection",
        include_str!("../../../hunts/clr-injection.toml"),
    ),
];

impl HuntDef {
    pub fn parse(text: &str, origin: &str) -> Result<HuntDef, String> {
        let mut def: HuntDef = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
        def.origin = origin.to_owned();
        for param in &def.params {
            if !matches!(
                param.default,
                toml::Value::Integer(_) | toml::Value::Float(_) | toml::Value::String(_)
            ) {
                return Err(format!(
                    "{origin}: parameter {} must default to a number or a string",
                    param.name
                ));
            }
        }
        Ok(def)
    }

    /// The SQL with `${param}` replaced by the override or the default.
    /// Numbers go in as literals, strings as quoted SQL strings.
    pub fn render_sql(&self, overrides: Option<&toml::Table>) -> Result<String, String> {
        let mut sql = self.sql.clone();
        for param in &self.params {
            let value = overrides
                .and_then(|o| o.get(&param.name))
                .unwrap_or(&param.default);
            let literal = match value {
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) if f.is_finite() => format!("{f:?}"),
                toml::Value::String(s) => format!("'{}'", s.replace('\'', "''")),
                other => {
                    return Err(format!(
                        "hunt {}: parameter {} cannot be {other}",
                        self.id, param.name
                    ))
                }
            };
            sql = sql.replace(&format!("${{{}}}", param.name), &literal);
        }
        if let Some(overrides) = overrides {
            for key in overrides.keys() {
                if !self.params.iter().any(|p| &p.name == key) {
                    return Err(format!("hunt {} has no parameter {key}", self.id));
                }
            }
        }
        if let Some(start) = sql.find("${") {
            let end = sql[start..].find('}').map_or(sql.len(), |e| start + e + 1);
            return Err(format!(
                "hunt {}: unknown parameter {}",
                self.id,
                &sql[start..end]
            ));
        }
        Ok(sql)
    }
}

/// The built-in hunts, in their documented order.
pub fn builtin_hunts() -> Vec<HuntDef> {
    BUILTIN
        .iter()
        .map(|(id, text)| {
            let def = HuntDef::parse(text, "built-in").expect("built-in hunts parse");
            debug_assert_eq!(&def.id, id);
            def
        })
        .collect()
}

/// Built-in hunts plus every `*.toml` in `dir`; a user hunt with a built-in
/// id replaces it.
pub fn load_hunts(dir: Option<&Path>) -> Result<Vec<HuntDef>, String> {
    let mut hunts: BTreeMap<String, (usize, HuntDef)> = builtin_hunts()
        .into_iter()
        .enumerate()
        .map(|(i, h)| (h.id.clone(), (i, h)))
        .collect();
    if let Some(dir) = dir {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        for file in files {
            let text =
                std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            let def = HuntDef::parse(&text, &file.display().to_string())?;
            let order = hunts.get(&def.id).map_or(usize::MAX, |(i, _)| *i);
            hunts.insert(def.id.clone(), (order, def));
        }
    }
    let mut hunts: Vec<_> = hunts.into_values().collect();
    hunts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    Ok(hunts.into_iter().map(|(_, h)| h).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_hunts_parse_and_render() {
        let hunts = builtin_hunts();
        assert!(hunts.len() >= 3);
        for hunt in &hunts {
            let sql = hunt.render_sql(None).unwrap();
            assert!(!sql.contains("${"), "{} left a parameter", hunt.id);
        }
        let fanout = hunts.iter().find(|h| h.id == "external-fanout").unwrap();
        let mut o = toml::Table::new();
        o.insert("min_distinct_ips".into(), toml::Value::Integer(7));
        assert!(fanout.render_sql(Some(&o)).unwrap().contains(">= 7"));
        o.insert("nope".into(), toml::Value::Integer(1));
        assert!(fanout.render_sql(Some(&o)).is_err());
    }
}
