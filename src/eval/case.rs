//! The eval data format: suites (`suite.toml`) and cases (JSONL), loaded with
//! `file:line` errors. A bad line becomes an errored case; the rest still run.
//!
//! The case shape is what `setter leads export ID --format json` prints, so a
//! real conversation becomes a case by fixing its `expect` block by hand.

use super::assertion::Assertion;
use super::followups::{FollowupStep, Offset};
use super::Mode;
use crate::config::Loaded;
use crate::lead::{Channel, Level, Tier};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Who wrote a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Lead,
    Setter,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    pub role: Role,
    pub text: String,
    /// Unix milliseconds; optional (evals space turns one minute apart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<i64>,
    /// Time since the case's start (`"+26h"`): follow-up cases say when the
    /// lead writes, on the virtual clock. Not with `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<Offset>,
}

/// What a careful human says the outcome should be (gold), or what the system
/// produced (predictions). Every field is optional: only what is listed is scored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Slot id → value, or null for "must stay empty". Slots not listed are not scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slots: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Level>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disqualified: Option<bool>,
    /// Checks on the regenerated replies (`replay` and `simulate` modes only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assertions: Vec<Assertion>,
    /// What must happen to the follow-up ladders (see `eval::followups`);
    /// listing them runs the case on the virtual clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followups: Option<Vec<FollowupStep>>,
}

impl Expect {
    pub fn slot(&self, id: &str) -> Option<&Value> {
        self.slots.as_ref().and_then(|s| s.get(id))
    }
}

/// One conversation with its expected outcome. Unknown keys are errors: a
/// misspelled `expect` would otherwise check nothing and pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// Run this case with another framework than the suite config's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// Override some of the suite config's `[offer]` for this case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offer: Option<OfferPatch>,
    /// Any other config for this case, as the tables of a `setter.toml` in
    /// JSON (`{"followups": {"quiet_hours": ""}}`), merged over the suite's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    pub turns: Vec<Turn>,
    #[serde(default)]
    pub expect: Expect,
    /// Free text for people reading the suite; ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// A simulated lead (`simulate` mode): the scripted lead turns open the
    /// conversation, then a model playing this persona writes the rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persona: Option<Persona>,
    /// How long the virtual clock runs after the last lead message (from the
    /// case's start; default: the last message + 14 days).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Offset>,
}

/// Fields of `[offer]` a case replaces; the rest come from the suite config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfferPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_url: Option<String>,
}

impl Case {
    /// What is wrong with the case's times, if anything: `at` and `offset`
    /// together, offsets going back, or `until` before the last message.
    pub fn check_times(&self) -> Result<(), String> {
        let mut last = Offset(0);
        for (i, t) in self.turns.iter().enumerate() {
            let n = i + 1;
            if t.at.is_some() && t.offset.is_some() {
                return Err(format!("turn {n} has both \"at\" and \"offset\"; keep one"));
            }
            if let Some(o) = t.offset {
                if o < last {
                    return Err(format!(
                        "turn {n}'s offset {o} is before the previous turn's {last}: turns go forward in time"
                    ));
                }
                last = o;
            }
        }
        match self.until {
            Some(u) if u < last => Err(format!(
                "\"until\" {u} is before the last turn ({last}); the clock cannot run backwards"
            )),
            _ => Ok(()),
        }
    }

    /// Whether the case runs with the suite config as it is.
    pub fn uses_suite_config(&self) -> bool {
        self.framework.is_none() && self.offer.is_none() && self.config.is_none()
    }

    /// The suite config with this case's framework and offer overrides,
    /// validated like a `setter.toml` (errors name the key).
    pub fn config(&self, suite: &Loaded) -> Result<Loaded, String> {
        if self.uses_suite_config() {
            return Ok(suite.clone());
        }
        let mut config = match &self.config {
            Some(patch) => patched(&suite.config, patch)?,
            None => suite.config.clone(),
        };
        if let Some(f) = &self.framework {
            config.qualification.framework = f.clone();
        }
        if let Some(p) = &self.offer {
            let o = &mut config.offer;
            let set = |field: &mut String, v: &Option<String>| {
                if let Some(v) = v {
                    field.clone_from(v);
                }
            };
            set(&mut o.name, &p.name);
            set(&mut o.description, &p.description);
            set(&mut o.currency, &p.currency);
            set(&mut o.booking_url, &p.booking_url);
            set(&mut o.payment_url, &p.payment_url);
            if let Some(price) = p.price {
                o.price = price;
            }
        }
        let origin = format!("case \"{}\" overrides", self.id);
        crate::config::finish(config, Path::new(&origin), suite.base_dir.clone())
            .map_err(|e| e.to_string())
    }
}

/// `config` with `patch` merged in, table by table; errors name the key.
fn patched(
    config: &crate::config::Config,
    patch: &serde_json::Map<String, Value>,
) -> Result<crate::config::Config, String> {
    fn merge(base: &mut Value, patch: &Value) {
        match (base, patch) {
            (Value::Object(b), Value::Object(p)) => {
                for (k, v) in p {
                    merge(b.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
            (b, p) => *b = p.clone(),
        }
    }
    let mut value = serde_json::to_value(config).map_err(|e| e.to_string())?;
    merge(&mut value, &Value::Object(patch.clone()));
    serde_json::from_value(value)
        .map_err(|e| format!("\"config\": {}", crate::suggest::explain(&e.to_string())))
}

/// Who a simulated lead is and how long they keep writing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// Who the lead is, what they want and how they write, for the model
    /// playing them (second person: "You own a roofing company…").
    pub description: String,
    /// Lead messages in the whole conversation, scripted ones included.
    #[serde(default = "default_max_turns")]
    pub max_turns: u32,
    /// The lead stops answering after this many messages (a silent lead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent_after: Option<u32>,
}

fn default_max_turns() -> u32 {
    4
}

/// A line (or case) that could not be used, with where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseError {
    /// The case id when it could be read, else `file:line`.
    pub id: String,
    /// `file:line`.
    pub location: String,
    pub message: String,
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// A loaded JSONL file: good cases (with their line) and bad lines.
#[derive(Debug, Default)]
pub struct CaseFile {
    pub cases: Vec<(Case, String)>,
    pub errors: Vec<CaseError>,
}

/// Parses JSONL text; `name` is how the file is named in errors. Blank lines
/// and lines starting with `//` or `#` are skipped. Duplicate ids are errors.
pub fn parse_cases(name: &str, text: &str) -> CaseFile {
    let mut out = CaseFile::default();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with("//") || trimmed.starts_with('#') {
            continue;
        }
        let location = format!("{name}:{}", i + 1);
        let fail = |id: Option<String>, message: String| CaseError {
            id: id.unwrap_or_else(|| location.clone()),
            location: location.clone(),
            message,
        };
        let value: Value = match serde_json::from_str(trimmed) {
            Ok(v) => v,
            Err(e) => {
                out.errors.push(fail(None, format!("not valid JSON: {e}")));
                continue;
            }
        };
        let id = value.get("id").and_then(Value::as_str).map(str::to_string);
        match Case::deserialize(&value) {
            Ok(case) if case.id.trim().is_empty() => {
                out.errors.push(fail(None, "\"id\" is empty".into()))
            }
            Ok(case) if case.check_times().is_err() => {
                let why = case.check_times().err().unwrap_or_default();
                out.errors
                    .push(fail(id, format!("case \"{}\": {why}", case.id)));
            }
            Ok(case) => {
                if let Some((_, first)) = out.cases.iter().find(|(c, _)| c.id == case.id) {
                    out.errors.push(fail(
                        id,
                        format!("duplicate case id \"{}\" (first at {first})", case.id),
                    ));
                } else {
                    out.cases.push((case, location.clone()));
                }
            }
            Err(e) => {
                let what = describe(&e.to_string(), &value);
                let what = match &id {
                    Some(id) => format!("case \"{id}\": {what}"),
                    None => what,
                };
                out.errors.push(fail(id, what));
            }
        }
    }
    out
}

/// serde's message with the nearest known key suggested and, for an unknown
/// key, where it sits in the case (`expect.assertions[1].contain`).
fn describe(message: &str, case: &Value) -> String {
    let explained = crate::suggest::explain(message);
    match crate::suggest::unknown_name(message).and_then(|k| key_path(case, k)) {
        Some(path) if message.starts_with("unknown field") => format!("key {path}: {explained}"),
        _ => explained,
    }
}

/// The path of the first object key named `key`, depth first.
fn key_path(v: &Value, key: &str) -> Option<String> {
    let join = |parent: String, child: String| {
        if child.starts_with('[') {
            parent + &child
        } else {
            format!("{parent}.{child}")
        }
    };
    match v {
        Value::Object(map) if map.contains_key(key) => Some(key.to_string()),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, child)| key_path(child, key).map(|p| join(k.clone(), p))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, child)| key_path(child, key).map(|p| join(format!("[{i}]"), p))),
        _ => None,
    }
}

/// Reads a JSONL file, or a directory of one-case TOML files (personas);
/// an unreadable file is an `Err`.
pub fn load_cases(path: &Path) -> Result<CaseFile, String> {
    if path.is_dir() {
        return load_toml_cases(path);
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(parse_cases(&path.display().to_string(), &text))
}

/// Every `*.toml` in `dir` but `suite.toml`, in name order, one case each;
/// `id` defaults to the file stem.
fn load_toml_cases(dir: &Path) -> Result<CaseFile, String> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .filter(|p| p.file_name().is_some_and(|n| n != "suite.toml"))
        .collect();
    paths.sort();
    let mut out = CaseFile::default();
    for path in paths {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        match load_toml_case(&path, &stem) {
            Ok(case) => out.cases.push((case, path.display().to_string())),
            Err((location, message)) => out.errors.push(CaseError {
                id: stem,
                location,
                message,
            }),
        }
    }
    Ok(out)
}

/// One TOML case file; `Err` is (`file:line` when known, message).
fn load_toml_case(path: &Path, stem: &str) -> Result<Case, (String, String)> {
    use crate::suggest::{explain, place, toml_error_line, toml_key_line, unknown_name};
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| (file.clone(), e.to_string()))?;
    let mut table: toml::Table = toml::from_str(&text).map_err(|e| {
        let at = place(path, toml_error_line(&text, &e));
        (at, explain(e.message().trim()))
    })?;
    table
        .entry("id")
        .or_insert_with(|| toml::Value::String(stem.to_string()));
    let json = serde_json::to_value(table).map_err(|e| (file.clone(), e.to_string()))?;
    Case::deserialize(&json).map_err(|e| {
        let message = e.to_string();
        let line = unknown_name(&message).and_then(|key| toml_key_line(&text, key));
        (place(path, line), describe(&message, &json))
    })
}

/// Slot names in `expect.slots` or its assertions that the framework does not have.
pub fn check_slots(
    case: &Case,
    known: &[String],
    location: &str,
    what: &str,
) -> Result<(), CaseError> {
    let named = case.expect.slots.iter().flat_map(|s| s.keys());
    let asserted = case.expect.assertions.iter().filter_map(|a| a.slot());
    let all = named
        .map(|s| (s.as_str(), "slots"))
        .chain(asserted.map(|s| (s, "assertions")));
    for (slot, field) in all {
        if !known.iter().any(|k| k == slot) {
            return Err(CaseError {
                id: case.id.clone(),
                location: location.to_string(),
                message: format!(
                    "case \"{}\": unknown slot \"{slot}\" in {what}.{field} (the framework's slots are {})",
                    case.id,
                    known.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// `suite.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SuiteFile {
    pub name: Option<String>,
    /// A setter.toml, relative to the suite directory; omitted = the built-in example.
    pub config: Option<PathBuf>,
    #[serde(default = "default_cases")]
    pub cases: PathBuf,
    #[serde(default)]
    pub mode: Mode,
    /// A cassette for model calls, relative to the suite directory.
    pub cassette: Option<PathBuf>,
    /// metric name → minimum value, as `--fail-under`.
    #[serde(default)]
    pub thresholds: BTreeMap<String, f64>,
    pub description: Option<String>,
}

fn default_cases() -> PathBuf {
    PathBuf::from("cases.jsonl")
}

/// A suite directory with its `suite.toml` read.
#[derive(Debug, Clone)]
pub struct Suite {
    pub dir: PathBuf,
    pub name: String,
    pub file: SuiteFile,
}

impl Suite {
    pub fn load(dir: &Path) -> Result<Suite, String> {
        let path = dir.join("suite.toml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: SuiteFile =
            toml::from_str(&text).map_err(|e| crate::suggest::toml_error(&path, &text, &e))?;
        let name = file.name.clone().unwrap_or_else(|| {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "suite".into())
        });
        Ok(Suite {
            dir: dir.to_path_buf(),
            name,
            file,
        })
    }

    pub fn cases_path(&self) -> PathBuf {
        self.dir.join(&self.file.cases)
    }
}

#[cfg(test)]
#[path = "case_tests.rs"]
mod tests;
