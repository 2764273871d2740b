//! Record/replay of model calls, so tests and evals are deterministic and offline.
//!
//! A cassette is a JSONL file; each line holds a request key, the request (for
//! people reading a diff) and the response. The key is a SHA-256 over provider,
//! model, parameters, messages and schema: any prompt change is a miss, and a
//! miss in `replay` mode is an error naming the key — never a silent live call.
//! Never edit a cassette to make a test pass; re-record it.

use super::{ChatModel, ChatRequest, ChatResponse, Error, ModelInfo, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Call the model and append every call (existing lines are kept).
    Record,
    /// Answer only from the file; a miss is an error.
    Replay,
    /// Replay hits, record misses.
    Auto,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "record" => Ok(Mode::Record),
            "replay" => Ok(Mode::Replay),
            "auto" => Ok(Mode::Auto),
            other => Err(format!(
                "cassette mode \"{other}\" is not one of record, replay, auto"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub path: PathBuf,
    pub mode: Mode,
}

impl Settings {
    /// `SETTER_CASSETTE=path` and `SETTER_CASSETTE_MODE=record|replay|auto`
    /// (default `replay` when the file exists, else `record`).
    pub fn from_env() -> Result<Option<Settings>> {
        let Some(path) = std::env::var_os("SETTER_CASSETTE").map(PathBuf::from) else {
            return Ok(None);
        };
        let mode = match std::env::var("SETTER_CASSETTE_MODE") {
            Ok(m) => m.parse().map_err(Error::Config)?,
            Err(_) if path.exists() => Mode::Replay,
            Err(_) => Mode::Record,
        };
        Ok(Some(Settings { path, mode }))
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    key: String,
    request: ChatRequest,
    response: ChatResponse,
}

pub struct Cassette {
    settings: Settings,
    info: ModelInfo,
    inner: Option<Arc<dyn ChatModel>>,
    recorded: Mutex<HashMap<String, ChatResponse>>,
}

impl Cassette {
    /// Loads the file (if any). `inner` may be `None` only for pure replay.
    pub fn open(
        settings: Settings,
        info: ModelInfo,
        inner: Option<Arc<dyn ChatModel>>,
    ) -> Result<Self> {
        let fail = |message: String| Error::Cassette {
            path: settings.path.display().to_string(),
            message,
        };
        let mut recorded = HashMap::new();
        match std::fs::read_to_string(&settings.path) {
            Ok(text) => {
                for (i, line) in text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim().is_empty())
                {
                    let entry: Entry = serde_json::from_str(line)
                        .map_err(|e| fail(format!("line {}: {e}", i + 1)))?;
                    recorded.insert(entry.key, entry.response);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if settings.mode == Mode::Replay {
                    return Err(fail("file not found (mode replay)".into()));
                }
            }
            Err(e) => return Err(fail(e.to_string())),
        }
        if inner.is_none() && settings.mode != Mode::Replay {
            return Err(fail("recording needs a model to record from".into()));
        }
        Ok(Self {
            settings,
            info,
            inner,
            recorded: Mutex::new(recorded),
        })
    }

    /// The request key: stable across runs and machines for the same request.
    pub fn key(info: &ModelInfo, request: &ChatRequest) -> String {
        let canonical = serde_json::json!({
            "provider": info.provider,
            "model": info.model,
            "request": request,
        });
        hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
    }

    /// The model calls go to when the cassette has no recording for them
    /// (none when replaying).
    fn live(&self) -> Option<&Arc<dyn ChatModel>> {
        match (&self.inner, self.settings.mode) {
            (Some(inner), Mode::Record | Mode::Auto) => Some(inner),
            _ => None,
        }
    }

    fn append(&self, entry: &Entry) -> Result<()> {
        let line = serde_json::to_string(entry).expect("cassette entries serialize");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.settings.path)
            .and_then(|mut f| writeln!(f, "{line}"))
            .map_err(|e| Error::Cassette {
                path: self.settings.path.display().to_string(),
                message: e.to_string(),
            })
    }
}

#[async_trait::async_trait]
impl ChatModel for Cassette {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let key = Self::key(&self.info, request);
        if self.settings.mode != Mode::Record {
            let hit = self
                .recorded
                .lock()
                .expect("cassette lock")
                .get(&key)
                .cloned();
            if let Some(response) = hit {
                return Ok(response);
            }
        }
        let inner = match self.live() {
            Some(inner) => inner,
            None => {
                return Err(Error::CassetteMiss {
                    path: self.settings.path.display().to_string(),
                    key,
                })
            }
        };
        let response = inner.chat(request).await?;
        let entry = Entry {
            key: key.clone(),
            request: request.clone(),
            response,
        };
        self.append(&entry)?;
        self.recorded
            .lock()
            .expect("cassette lock")
            .insert(key, entry.response.clone());
        Ok(entry.response)
    }

    fn info(&self) -> ModelInfo {
        self.info.clone()
    }

    /// Recording runs the live model, which may prefill; a replay has none.
    fn prefills(&self) -> bool {
        self.live().is_some_and(|inner| inner.prefills())
    }

    async fn prefill(&self, request: &ChatRequest) -> Result<()> {
        match self.live() {
            Some(inner) => inner.prefill(request).await,
            None => Ok(()),
        }
    }
}
