//! Shared test helpers: a loopback OpenAI-compatible stub (axum on
//! 127.0.0.1:0) that answers from scripted queues and keeps every request it
//! received, and a temp-dir setup wiring config + SQLite + agent together.
#![allow(dead_code)]

use axum::{extract::State, http::StatusCode, routing::post, Json, Router};
use serde_json::{json, Value};
use setter::agent::{Agent, Answer, Inbound, TurnReport};
use setter::config::{self, Config, Loaded, Provider};
use setter::lead::Channel;
use setter::prompts::Prompts;
use setter::store::{Lead, NewLead, Store};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What the stub will answer next. Empty queues give safe defaults: an
/// all-null extraction and a plain reply.
#[derive(Default)]
pub struct Script {
    pub extractions: VecDeque<String>,
    pub replies: VecDeque<String>,
    /// Answers to `llm_judge` requests (schema name "verdict").
    pub verdicts: VecDeque<String>,
    /// Answers to disqualifier checks (schema name "dq_check"); empty: the
    /// check's last option (not disqualifying).
    pub checks: VecDeque<String>,
    /// HTTP statuses to fail with before answering normally.
    pub failures: VecDeque<u16>,
    pub requests: Vec<Value>,
    /// Milliseconds every answer waits (a slow model).
    pub delay_ms: u64,
    /// Off for benchmarks: a log of every request body would be the
    /// process's biggest memory user and distort RSS figures.
    pub keep_requests: bool,
}

#[derive(Clone)]
pub struct Stub {
    pub url: String,
    pub script: Arc<Mutex<Script>>,
}

impl Stub {
    pub async fn start() -> Stub {
        Self::start_with(true).await
    }

    /// A stub that keeps no request log (for long benchmark runs).
    pub async fn start_unrecorded() -> Stub {
        Self::start_with(false).await
    }

    async fn start_with(keep_requests: bool) -> Stub {
        let script = Arc::new(Mutex::new(Script {
            keep_requests,
            ..Script::default()
        }));
        let app = Router::new()
            .route("/v1/chat/completions", post(answer))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Stub {
            url: format!("http://{addr}/v1"),
            script,
        }
    }
    pub fn extraction(&self, json: Value) -> &Self {
        self.script
            .lock()
            .unwrap()
            .extractions
            .push_back(json.to_string());
        self
    }
    pub fn raw_extraction(&self, text: &str) -> &Self {
        self.script
            .lock()
            .unwrap()
            .extractions
            .push_back(text.to_string());
        self
    }
    pub fn reply(&self, text: &str) -> &Self {
        self.script
            .lock()
            .unwrap()
            .replies
            .push_back(text.to_string());
        self
    }
    pub fn verdict(&self, text: &str) -> &Self {
        self.script
            .lock()
            .unwrap()
            .verdicts
            .push_back(text.to_string());
        self
    }
    /// The next disqualifier check answers `answer` (`"job"`).
    pub fn check(&self, answer: &str) -> &Self {
        let text = json!({ "answer": answer }).to_string();
        self.script.lock().unwrap().checks.push_back(text);
        self
    }
    pub fn fail(&self, status: u16) -> &Self {
        self.script.lock().unwrap().failures.push_back(status);
        self
    }
    pub fn requests(&self) -> Vec<Value> {
        self.script.lock().unwrap().requests.clone()
    }
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let delay = script.lock().unwrap().delay_ms;
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let mut s = script.lock().unwrap();
    if s.keep_requests {
        s.requests.push(body.clone());
    }
    if let Some(status) = s.failures.pop_front() {
        let code = StatusCode::from_u16(status).unwrap();
        return (
            code,
            Json(json!({"error": {"message": format!("scripted {status}"), "type": "stub"}})),
        );
    }
    let content = if body["response_format"]["json_schema"]["name"] == "verdict" {
        s.verdicts
            .pop_front()
            .unwrap_or_else(|| r#"{"pass": true, "reason": "stub"}"#.into())
    } else if body["response_format"]["json_schema"]["name"] == "dq_check" {
        s.checks.pop_front().unwrap_or_else(|| {
            let schema = &body["response_format"]["json_schema"]["schema"];
            let options = schema["properties"]["answer"]["enum"].as_array().unwrap();
            json!({ "answer": options.last().unwrap() }).to_string()
        })
    } else if body["response_format"]["type"] == "json_schema" {
        s.extractions.pop_front().unwrap_or_else(|| {
            // All-null instance of the strict schema.
            let schema = &body["response_format"]["json_schema"]["schema"];
            null_instance(schema).to_string()
        })
    } else {
        s.replies
            .pop_front()
            .unwrap_or_else(|| "Thanks for sharing that!".into())
    };
    (
        StatusCode::OK,
        Json(json!({
            "id": "stub-1", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        })),
    )
}

/// The all-null instance of a strict extraction schema (nested objects kept).
pub fn null_instance(schema: &Value) -> Value {
    match schema["properties"].as_object() {
        Some(props) => Value::Object(
            props
                .iter()
                .map(|(k, v)| {
                    let inner = if v["type"] == "object" {
                        null_instance(v)
                    } else {
                        Value::Null
                    };
                    (k.clone(), inner)
                })
                .collect(),
        ),
        None => Value::Null,
    }
}

/// Gives the example config's three disqualifiers a check each (`Env::new`
/// takes them off; the example has only the job seeker's).
pub fn with_checks(c: &mut Config) {
    let questions = [
        ("physical_products", "What does the business of the person who wrote this message sell: a service, or physical products?", "products", "service"),
        ("job_seeker", "Is the person who wrote this message asking about a job for themselves, or writing about a business?", "job", "business"),
        ("pre_launch", "Is the business of the person who wrote this message already running with customers, or not launched yet?", "not", "running"),
    ];
    for (id, question, disqualifying, otherwise) in questions {
        let d = c.icp.disqualifiers.iter_mut().find(|d| d.id == id).unwrap();
        d.check = Some(setter::config::DqCheck {
            question: question.into(),
            disqualifying: disqualifying.into(),
            otherwise: otherwise.into(),
            min: 0.5,
            examples: Vec::new(),
        });
    }
}

/// A temp dir with a setter.toml pointing at `stub` and a SQLite file.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl Env {
    pub fn new(stub: &Stub, edit: impl FnOnce(&mut Config)) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Config::example();
        c.llm.provider = Provider::Openai;
        c.llm.base_url = stub.url.clone();
        c.llm.model = "stub-model".into();
        c.llm.max_retries = 2;
        c.llm.timeout_secs = 5;
        c.storage.url = "sqlite://setter.db".into();
        // Qualification tests talk to a lead past Hot; handoff tests turn it on.
        c.handoff.auto = false;
        // Tests script the model's first reply; the opener's tests turn it on.
        c.persona.instant_opener = false;
        // Tests count and script the model's calls; the checks' tests turn
        // the disqualifier checks on (`with_checks`).
        for d in &mut c.icp.disqualifiers {
            d.check = None;
        }
        edit(&mut c);
        let config_path = dir.path().join("setter.toml");
        std::fs::write(&config_path, toml::to_string(&c).unwrap()).unwrap();
        Env { dir, config_path }
    }

    pub fn loaded(&self) -> Loaded {
        config::load(&self.config_path).unwrap()
    }

    pub async fn agent(&self) -> Agent {
        let loaded = self.loaded();
        let prompts = Prompts::load(Some(&loaded.resolve(Path::new("prompts")))).unwrap();
        let store = Store::open(&loaded.storage_url()).await.unwrap();
        let model = setter::llm::from_config(&loaded, None).unwrap();
        Agent::new(Arc::new(loaded), model, store, Arc::new(prompts)).unwrap()
    }
}

pub async fn new_lead(agent: &Agent, external_id: &str) -> Lead {
    let new = NewLead {
        channel: Channel::Whatsapp,
        external_id: external_id.into(),
        name: Some("Test Lead".into()),
        source: None,
        account_id: None,
    };
    agent.store().lead_for(&new, 0).await.unwrap()
}

/// Sends one lead message at time `at` (ms) and returns the report.
pub async fn say(agent: &Agent, lead: &Lead, text: &str, at: i64) -> TurnReport {
    let inbound = Inbound {
        text: text.into(),
        external_id: None,
        at,
    };
    match agent.converse(lead, inbound, None).await.unwrap() {
        Answer::Replied(r) => *r,
        other => panic!("not answered: {other:?}"),
    }
}

/// Runs the `setter` binary in `dir` with no cassette or config from the
/// environment: (exit code, stdout, stderr).
pub fn setter_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_setter"))
        .args(args)
        .current_dir(dir)
        .env_remove("SETTER_CASSETTE")
        .env_remove("SETTER_CASSETTE_MODE")
        .env_remove("SETTER_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`setter_in`] off the async runtime, so a stub in the same test answers.
pub async fn setter_async(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        setter_in(&dir, &args)
    })
    .await
    .unwrap()
}

/// `setter leads list --json` in `dir`.
pub fn leads_json(dir: &Path) -> Vec<Value> {
    let (code, out, err) = setter_in(dir, &["leads", "list", "--json"]);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}
