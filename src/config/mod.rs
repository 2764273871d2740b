//! `setter.toml`: typed configuration, its defaults, and validation.
//!
//! Loading never half-succeeds: the file is parsed with serde (unknown keys are
//! refused), then [`Config::validate`] collects *every* problem, each naming the
//! key path to fix (`icp.disqualifiers[1].text: must not be empty`). Soft advice
//! (an ICP with 8 traits) comes back as warnings, not errors.

mod checks;
mod dq_check;
mod followups;
mod frameworks;
mod handoff;
mod llm;
mod qualification;
mod scoring;
mod serve;
mod validate;
mod validator;

pub use dq_check::{CheckExample, DqCheck};
pub use followups::{FollowupsConfig, Ladder, Step, StepKind, Template};
pub use frameworks::{Framework, Slot, SlotKind, SlotRole};
pub use handoff::HandoffConfig;
pub use llm::{LlmConfig, Provider, Storage};
pub(crate) use qualification::three;
pub use qualification::Qualification;
pub use scoring::{NextActions, ScoringConfig, SignalWeights};
pub use serve::{ChannelsConfig, MetaChannel, ServeConfig, TakeoverConfig, WebchatConfig};
pub(crate) use validator::Validator;

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The commented example written by `setter init`; also the defaults' documentation.
pub const EXAMPLE_TOML: &str = include_str!("../../setter.example.toml");

/// Errors from loading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// `message` starts with `path:line`.
    #[error("{message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path} is invalid:\n{}", .issues.iter().map(|i| format!("  {i}")).collect::<Vec<_>>().join("\n"))]
    Invalid { path: PathBuf, issues: Vec<Issue> },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One problem found by validation, tied to the key that causes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for Issue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// The whole `setter.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub offer: Offer,
    pub icp: Icp,
    #[serde(default)]
    pub qualification: Qualification,
    #[serde(default)]
    pub persona: Persona,
    #[serde(default)]
    pub llm: LlmConfig,
    #[serde(default)]
    pub storage: Storage,
    #[serde(default)]
    pub scoring: ScoringConfig,
    /// `setter serve`: address, per-lead queue, limits.
    #[serde(default)]
    pub serve: ServeConfig,
    /// The inboxes `setter serve` answers.
    #[serde(default)]
    pub channels: ChannelsConfig,
    /// When a human takes a conversation over.
    #[serde(default)]
    pub takeover: TakeoverConfig,
    /// Follow-ups on silence, per channel.
    #[serde(default)]
    pub followups: FollowupsConfig,
    /// Where handoff packets are delivered.
    #[serde(default)]
    pub handoff: HandoffConfig,
    /// Directory of prompt templates overriding the embedded defaults; relative
    /// paths are taken from the config file's directory.
    #[serde(default = "default_prompts_dir")]
    pub prompts_dir: PathBuf,
}

fn default_prompts_dir() -> PathBuf {
    PathBuf::from("prompts")
}

/// What is being sold: the bot quotes these facts and never invents others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub name: String,
    pub description: String,
    pub price: f64,
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default)]
    pub booking_url: String,
    #[serde(default)]
    pub payment_url: String,
}

fn default_currency() -> String {
    "USD".into()
}

/// Ideal customer profile: weighted traits and hard disqualifiers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Icp {
    pub traits: Vec<Trait>,
    #[serde(default)]
    pub disqualifiers: Vec<Disqualifier>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trait {
    pub id: String,
    pub text: String,
    #[serde(default = "one")]
    pub weight: f64,
    /// Case-insensitive phrases that, written by the lead, match this trait.
    #[serde(default)]
    pub keywords: Vec<String>,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disqualifier {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A question the model answers about a new lead's first messages, for
    /// this disqualifier stated in words no keyword lists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<DqCheck>,
}

/// How the bot sounds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    #[serde(default = "default_persona_name")]
    pub name: String,
    #[serde(default = "default_tone")]
    pub tone: String,
    /// `match_lead` or a fixed language code.
    #[serde(default = "default_language")]
    pub language: String,
    /// Answer a new lead's first message from `prompts/opener.j2` (a
    /// greeting and the framework's first question, in the lead's language)
    /// with no model call, so it goes out at once; extraction scores that
    /// message right after. The model writes from the second reply on.
    #[serde(default = "yes")]
    pub instant_opener: bool,
}

fn yes() -> bool {
    true
}

fn default_persona_name() -> String {
    "Maya".into()
}
fn default_tone() -> String {
    "warm, brief, plain-spoken".into()
}
fn default_language() -> String {
    "match_lead".into()
}

impl Default for Persona {
    fn default() -> Self {
        Self {
            name: default_persona_name(),
            tone: default_tone(),
            language: default_language(),
            instant_opener: true,
        }
    }
}

/// A loaded, validated configuration plus where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    /// The framework resolved from `qualification.framework`.
    pub framework: Framework,
    /// Advice that does not stop Setter from running.
    pub warnings: Vec<Issue>,
    /// Directory relative paths (prompts, sqlite files) are resolved against.
    pub base_dir: PathBuf,
}

impl Config {
    /// The built-in example configuration (what `setter init` writes).
    pub fn example() -> Config {
        toml::from_str(EXAMPLE_TOML).expect("the embedded example config parses")
    }

    /// Parses TOML text; `origin` names the file in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Config> {
        toml::from_str(text).map_err(|e| Error::Parse {
            path: origin.to_path_buf(),
            message: crate::suggest::toml_error(origin, text, &e),
        })
    }

    /// Checks every value, returning (errors, warnings), each naming its key.
    pub fn validate(&self) -> (Vec<Issue>, Vec<Issue>) {
        let mut v = Validator::default();
        self.validate_offer(&mut v);
        self.validate_icp(&mut v);
        self.validate_qualification(&mut v);
        v.non_empty("persona.name", &self.persona.name);
        self.validate_llm(&mut v);
        if !self.storage.url.starts_with("sqlite:") {
            v.error(
                "storage.url",
                "must be a sqlite: URL, e.g. \"sqlite://setter.db\"",
            );
        }
        v.issues.extend(self.scoring.validate());
        serve::validate(&self.serve, &self.channels, &self.takeover, &mut v);
        followups::validate(&self.followups, &mut v);
        handoff::validate(&self.handoff, &mut v);
        v.issues.extend(checks::values(self));
        v.warnings.extend(checks::opener(self));
        (v.issues, v.warnings)
    }

    /// [`Config::validate`] plus what the config points at outside itself
    /// (prompts directory, API key variable), relative to `base_dir`.
    pub fn validate_in(&self, base_dir: &Path) -> (Vec<Issue>, Vec<Issue>) {
        let (mut errors, mut warnings) = self.validate();
        let (more_errors, more_warnings) = checks::surroundings(self, base_dir);
        errors.extend(more_errors);
        warnings.extend(more_warnings);
        (errors, warnings)
    }
}

/// Reads, parses and validates `path`.
pub fn load(path: &Path) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let config = Config::parse(&text, path)?;
    let base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    finish(config, path, base_dir)
}

/// Validates an already-parsed config (e.g. the embedded example).
pub fn finish(config: Config, origin: &Path, base_dir: PathBuf) -> Result<Loaded> {
    let (issues, warnings) = config.validate_in(&base_dir);
    if !issues.is_empty() {
        return Err(Error::Invalid {
            path: origin.to_path_buf(),
            issues,
        });
    }
    let framework =
        Framework::resolve(&config.qualification.framework, &config.qualification.slots)
            .expect("validated above");
    Ok(Loaded {
        config,
        framework,
        warnings,
        base_dir,
    })
}

impl Loaded {
    /// `path` made absolute against the config file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The storage URL with a relative SQLite path resolved like other paths.
    pub fn storage_url(&self) -> String {
        let url = &self.config.storage.url;
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path == ":memory:" || path.starts_with('/') {
            return url.clone();
        }
        format!("sqlite://{}", self.resolve(Path::new(path)).display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_is_valid_and_warning_free() {
        let loaded = finish(Config::example(), Path::new("example"), ".".into()).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(loaded.framework.id, "pif");
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let mut c = Config::example();
        c.icp.disqualifiers[1].text = " ".into();
        c.qualification.max_questions = 1;
        c.llm.api_key_env = "sk-live-123".into();
        let (errors, _) = c.validate();
        let keys: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            keys,
            vec![
                "icp.disqualifiers[1].text: must not be empty",
                "qualification.max_questions: must be >= min_questions (3)",
                "llm.api_key_env: looks like a key; put the NAME of an environment variable here, not the key",
            ]
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_the_key_name() {
        let text = EXAMPLE_TOML.replace("[persona]", "[persona]\nnmae = \"x\"");
        let err = Config::parse(&text, Path::new("setter.toml")).unwrap_err();
        assert!(err.to_string().contains("unknown field `nmae`"), "{err}");
    }

    #[test]
    fn sizes_outside_the_playbook_warn_but_load() {
        let mut c = Config::example();
        c.icp.traits.truncate(2);
        let loaded = finish(c, Path::new("x"), ".".into()).unwrap();
        assert_eq!(loaded.warnings[0].key, "icp.traits");
    }
}
