//! The model boundary: one small [`ChatModel`] trait that hides every wire type.
//!
//! The agent only ever asks two things of a model — "extract these fields as JSON
//! matching this schema" and "word this reply" — so the trait is a single
//! `chat` call with an optional JSON schema. Backends: [`openai`] (any
//! OpenAI-compatible URL), `local` (embedded GGUF, feature `local`) and
//! [`cassette`] (record/replay around either, so tests never need a live model).

pub mod cassette;
pub mod catalog;
#[cfg(feature = "local")]
pub mod local;
pub mod openai;
#[cfg(feature = "local")]
mod stop;
pub mod tokens;

use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{provider} model \"{model}\" failed after {attempts} attempt(s): {message}")]
    Call {
        provider: String,
        model: String,
        attempts: usize,
        message: String,
    },
    #[error("{provider} model \"{model}\" timed out after {secs}s")]
    Timeout {
        provider: String,
        model: String,
        secs: u64,
    },
    #[error("cassette {path} has no recording for request key {key} (mode replay); re-record with SETTER_CASSETTE_MODE=record")]
    CassetteMiss { path: String, key: String },
    #[error("cassette {path}: {message}")]
    Cassette { path: String, message: String },
    #[error("{0}")]
    Config(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// A JSON schema the answer must match (OpenAI structured output, or a grammar locally).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchema {
    pub name: String,
    pub schema: serde_json::Value,
}

/// Schema keyword on a string leaf: an array of texts the value must be a
/// span of (whole words, copied). The embedded model enforces it while
/// decoding, so it cannot invent a value; an API model is sent the schema
/// without it (see [`JsonSchema::without_extensions`]) and the agent checks
/// the value against the lead's words afterwards.
pub const SPAN_OF: &str = "x-span-of";

impl JsonSchema {
    /// The schema without Setter's own keywords (`x-…`), which strict
    /// structured-output APIs reject.
    pub fn without_extensions(&self) -> serde_json::Value {
        fn strip(v: &serde_json::Value) -> serde_json::Value {
            match v {
                serde_json::Value::Object(map) => map
                    .iter()
                    .filter(|(k, _)| !k.starts_with("x-"))
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
                serde_json::Value::Array(items) => items.iter().map(strip).collect(),
                other => other.clone(),
            }
        }
        strip(&self.schema)
    }
}

/// One call to a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<JsonSchema>,
    pub temperature: f32,
    pub max_tokens: u32,
    /// The conversation this call continues (a lead id), or `None`. The
    /// embedded model keeps each conversation's KV state in its own
    /// sequence, so leads answered in turn do not evict each other's cached
    /// prompt; API models ignore it. Not part of a cassette's request key:
    /// the same request from another lead replays the same answer.
    #[serde(skip)]
    pub conversation: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        self.prompt_tokens += rhs.prompt_tokens;
        self.completion_tokens += rhs.completion_tokens;
    }
}

/// Timings a backend may report (the local model does; HTTP backends don't).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Speed {
    pub prompt_tokens_per_s: f64,
    pub gen_tokens_per_s: f64,
    /// Prompt tokens that were already in the KV cache and not evaluated
    /// again (prefix reuse, one lane per lead): what makes a warm turn warm.
    #[serde(default)]
    pub reused_tokens: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    pub text: String,
    pub usage: Usage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<Speed>,
    /// For a structured answer, per leaf that could be a string or `null`
    /// (`pain`, `disqualifiers.job_seeker`): the probability the model gave
    /// to writing a value. The agent abstains below a threshold. Only the
    /// embedded model reports it; recorded in cassettes, so thresholds can
    /// be tuned on a replay.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub confidence: std::collections::BTreeMap<String, f32>,
    /// Span leaves whose first tokens the grammar chose against the model's
    /// own choice: it meant words the lead did not write (an invention, or
    /// a translation of the lead's words into English). Only the embedded
    /// model reports it. Cassettes recorded before it have confidence 0
    /// for these leaves instead.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub forced: std::collections::BTreeSet<String>,
}

/// Who answers: used in error messages, cassette keys and cost reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub provider: String,
    pub model: String,
}

/// A chat model. Implementations must be cheap to share across tasks.
#[async_trait::async_trait]
pub trait ChatModel: Send + Sync {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse>;
    fn info(&self) -> ModelInfo;

    /// Whether [`ChatModel::prefill`] does anything: callers skip building
    /// prefill requests for models that keep no state between calls.
    fn prefills(&self) -> bool {
        false
    }

    /// Evaluates `request`'s prompt up to where [`NEXT_MESSAGE_MARK`] starts
    /// and stops there, generating nothing: the next call whose prompt
    /// begins the same way then evaluates only what follows. The agent calls
    /// it once a reply is sent, while the lead is still reading, so the next
    /// turn's known prefix (the reply just sent, the transcript so far) is
    /// not part of the lead's wait. A model that keeps no state (API models,
    /// cassettes replaying) has nothing to do.
    async fn prefill(&self, _request: &ChatRequest) -> Result<()> {
        Ok(())
    }
}

/// Where a prefill request's known prefix ends (see [`ChatModel::prefill`]):
/// the text of the lead's next message, which nobody knows yet. Built by the
/// same code as a real request, the prompt up to here is what the next real
/// prompt starts with.
pub const NEXT_MESSAGE_MARK: &str = "\u{27e6}next lead message\u{27e7}";

#[async_trait::async_trait]
impl<M: ChatModel + ?Sized> ChatModel for Arc<M> {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        (**self).chat(request).await
    }
    fn info(&self) -> ModelInfo {
        (**self).info()
    }
    fn prefills(&self) -> bool {
        (**self).prefills()
    }
    async fn prefill(&self, request: &ChatRequest) -> Result<()> {
        (**self).prefill(request).await
    }
}

/// Builds the configured backend, wrapped in a cassette when `SETTER_CASSETTE` is set.
pub fn from_config(
    loaded: &crate::config::Loaded,
    cassette: Option<cassette::Settings>,
) -> Result<Arc<dyn ChatModel>> {
    use crate::config::Provider;
    let llm = &loaded.config.llm;
    let inner: Option<Arc<dyn ChatModel>> = match llm.provider {
        Provider::Openai => Some(Arc::new(openai::OpenAiModel::from_config(llm)?)),
        Provider::Local
            if cassette
                .as_ref()
                .is_some_and(|c| c.mode == cassette::Mode::Replay) =>
        {
            None
        }
        Provider::Local => Some(local_model(loaded)?),
    };
    match cassette {
        None => inner.ok_or_else(|| Error::Config("no model configured".into())),
        Some(settings) => {
            let info = inner.as_ref().map(|m| m.info()).unwrap_or(ModelInfo {
                provider: "local".into(),
                model: local_model_name(loaded),
            });
            Ok(Arc::new(cassette::Cassette::open(settings, info, inner)?))
        }
    }
}

/// The name a local model is known by in cassette keys: its file name, so
/// replays do not depend on where the file lives.
fn local_model_name(loaded: &crate::config::Loaded) -> String {
    let path = &loaded.config.llm.model_path;
    if path.is_empty() {
        catalog::DEFAULT.file_name.into()
    } else {
        std::path::Path::new(path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.clone())
    }
}

#[cfg(feature = "local")]
fn local_model(loaded: &crate::config::Loaded) -> Result<Arc<dyn ChatModel>> {
    Ok(Arc::new(local::LocalModel::from_config(loaded)?))
}

#[cfg(not(feature = "local"))]
fn local_model(_: &crate::config::Loaded) -> Result<Arc<dyn ChatModel>> {
    Err(Error::Config(
        "provider = \"local\" needs a build with the `local` feature (the default); this binary was built without it. \
         Set [llm] provider = \"openai\" with base_url and model for any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, Ollama)."
            .into(),
    ))
}
