//! A running `setter serve` in-process (axum on 127.0.0.1:0) with the model
//! stub and a fake Graph API, plus helpers to post signed webhooks.

use crate::common::{Env, Stub};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use setter::channels::signature::sign;
use setter::config::{Config, MetaChannel};
use setter::metrics::Metrics;
use setter::pipeline::{Pipeline, Settings};
use setter::server::{self, AppState};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const PHONE_ID: &str = "106540352242922";
pub const IG_ID: &str = "17841400000000001";
pub const PAGE_ID: &str = "1000000000000001";
pub const APP_ID: &str = "1517776481860111";
pub const SECRET: &str = "test-app-secret";
pub const VERIFY: &str = "test-verify-token";
pub const API_TOKEN: &str = "test-api-token";

/// One request the fake Graph API received.
#[derive(Debug, Clone)]
pub struct GraphCall {
    pub path: String,
    pub body: Value,
    pub auth: String,
}

/// A scripted answer: status, JSON body, optional Retry-After seconds.
pub type Scripted = (u16, Value, Option<u64>);

#[derive(Default)]
pub struct GraphState {
    pub calls: Vec<GraphCall>,
    pub script: VecDeque<Scripted>,
    /// When set, each accepted WhatsApp send is followed by a signed `sent`
    /// status webhook to this URL, retried until it is answered 200 (as Meta
    /// retries), echoing `biz_opaque_callback_data`.
    pub statuses_to: Option<String>,
}

/// A loopback stand-in for graph.facebook.com's send endpoints.
#[derive(Clone)]
pub struct FakeGraph {
    pub url: String,
    pub state: Arc<Mutex<GraphState>>,
}

static SENT: AtomicUsize = AtomicUsize::new(0);

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let state = Arc::new(Mutex::new(GraphState::default()));
        let app = Router::new()
            .route("/{version}/{account}/messages", post(graph_send))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeGraph { url, state }
    }
    /// Queues answers for the next sends (then success again).
    pub fn script(&self, answers: Vec<Scripted>) {
        self.state.lock().unwrap().script.extend(answers);
    }
    pub fn calls(&self) -> Vec<GraphCall> {
        self.state.lock().unwrap().calls.clone()
    }
}

async fn graph_send(
    State(state): State<Arc<Mutex<GraphState>>>,
    Path((version, account)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut s = state.lock().unwrap();
    s.calls.push(GraphCall {
        path: format!("/{version}/{account}/messages"),
        body,
        auth: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
    });
    if let Some((status, body, retry_after)) = s.script.pop_front() {
        let mut response = (StatusCode::from_u16(status).unwrap(), Json(body)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", secs.to_string().parse().unwrap());
        }
        return response;
    }
    let n = SENT.fetch_add(1, Ordering::SeqCst);
    if let Some(url) = s.statuses_to.clone() {
        let call = s.calls.last().cloned().expect("just pushed");
        tokio::spawn(post_status(url, call, format!("wamid.out.{n}")));
    }
    Json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": "x", "wa_id": "x"}],
        "messages": [{"id": format!("wamid.out.{n}")}],
        "recipient_id": "x",
        "message_id": format!("mid.out.{n}"),
    }))
    .into_response()
}

/// Posts a `sent` status for `call` to Setter until it is accepted.
async fn post_status(url: String, call: GraphCall, id: String) {
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "waba", "changes": [{
        "field": "messages",
        "value": {"messaging_product": "whatsapp",
                  "metadata": {"display_phone_number": "1555", "phone_number_id": PHONE_ID},
                  "statuses": [{"id": id, "status": "sent", "timestamp": "1700000000",
                                "recipient_id": call.body["to"],
                                "biz_opaque_callback_data": call.body["biz_opaque_callback_data"]}]}}]}]});
    let bytes = serde_json::to_vec(&body).unwrap();
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let sent = post_signed(&client, &url, bytes.clone()).await;
        if sent.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// POSTs `body` to `url` signed with the app secret, as Meta does.
pub async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> reqwest::Result<reqwest::Response> {
    http.post(url)
        .header("x-hub-signature-256", sign(SECRET, &body))
        .header("content-type", "application/json")
        .body(body)
        .timeout(Duration::from_secs(5))
        .send()
        .await
}

/// A Graph error envelope.
pub fn graph_error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "x"}})
}

static ENV_SEQ: AtomicUsize = AtomicUsize::new(0);

/// Points every Meta channel at `graph`, with secrets in fresh env vars.
pub fn meta_channels(c: &mut Config, graph: &FakeGraph) {
    let n = ENV_SEQ.fetch_add(1, Ordering::SeqCst);
    let var = |what: &str, value: &str| {
        let name = format!("SETTER_TEST_{n}_{what}");
        std::env::set_var(&name, value);
        name
    };
    let channel = |account: &str| MetaChannel {
        account_id: account.into(),
        access_token_env: var("TOKEN", "graph-token"),
        app_secret_env: var("SECRET", SECRET),
        verify_token_env: var("VERIFY", VERIFY),
        graph_base_url: graph.url.clone(),
        api_version: "v21.0".into(),
        app_id: APP_ID.into(),
        sends_per_second: 1000.0,
        send_timeout_secs: 2,
        max_send_attempts: 3,
        retry_min_ms: 10,
    };
    c.channels.whatsapp = Some(channel(PHONE_ID));
    c.channels.instagram = Some(channel(IG_ID));
    c.channels.messenger = Some(channel(PAGE_ID));
    c.serve.api_token_env = var("API", API_TOKEN);
    c.serve.debounce_ms = 0;
    c.serve.webchat_wait_ms = 5_000;
    c.serve.resend_unconfirmed_after_ms = 0;
}

/// A server with its stub, fake Graph API and database.
pub struct Serve {
    pub url: String,
    pub env: Env,
    pub stub: Stub,
    pub graph: FakeGraph,
    pub pipeline: Arc<Pipeline>,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Serve {
    pub async fn start(edit: impl FnOnce(&mut Config)) -> Serve {
        let stub = Stub::start().await;
        let graph = FakeGraph::start().await;
        let env = Env::new(&stub, |c| {
            meta_channels(c, &graph);
            edit(c);
        });
        Self::start_on(env, stub, graph).await
    }

    /// Starts a server on an existing setup (a restart keeps the database).
    pub async fn start_on(env: Env, stub: Stub, graph: FakeGraph) -> Serve {
        let loaded = env.loaded();
        let agent = env.agent().await;
        let senders =
            setter::channels::send::Senders::from_config(&loaded.config.channels).unwrap();
        let settings = Settings {
            max_concurrent_turns: loaded.config.serve.max_concurrent_turns,
            debounce: Duration::from_millis(loaded.config.serve.debounce_ms),
            resend_unconfirmed_after: Duration::from_millis(
                loaded.config.serve.resend_unconfirmed_after_ms,
            ),
        };
        let pipeline = Pipeline::start(agent, Some(Arc::new(senders)), settings, Metrics::new())
            .await
            .unwrap();
        let pipeline = Arc::new(pipeline);
        let state = AppState::new(pipeline.clone(), Arc::new(loaded)).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server::run(listener, state, async {
            let _ = stopped.await;
        }));
        Serve {
            url,
            env,
            stub,
            graph,
            pipeline,
            http: reqwest::Client::new(),
            stop: Some(stop),
        }
    }

    /// Stops the server and its pipeline, keeping the setup for a restart.
    pub async fn stop(mut self) -> (Env, Stub, FakeGraph) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        // The server task drops its state (and its pipeline handle) as it ends.
        let mut pipeline = self.pipeline;
        let pipeline = loop {
            match Arc::try_unwrap(pipeline) {
                Ok(p) => break p,
                Err(p) => {
                    pipeline = p;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        };
        pipeline.shutdown(Duration::from_secs(1)).await;
        (self.env, self.stub, self.graph)
    }

    /// POSTs `body` to /webhooks/meta, signed with the app secret.
    pub async fn webhook(&self, body: &Value) -> reqwest::Response {
        let bytes = serde_json::to_vec(body).unwrap();
        self.webhook_raw(&bytes, Some(&sign(SECRET, &bytes))).await
    }

    pub async fn webhook_raw(&self, bytes: &[u8], signature: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/webhooks/meta", self.url))
            .header("content-type", "application/json")
            .body(bytes.to_vec());
        if let Some(sig) = signature {
            request = request.header("x-hub-signature-256", sig);
        }
        request.send().await.unwrap()
    }

    /// Runs `sql` on the server's database and returns the first column of the first row.
    pub async fn count(&self, sql: &str) -> i64 {
        let path = self.env.dir.path().join("setter.db");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }

    /// Like [`Serve::count`], for a text value (an id, a platform id).
    pub async fn text(&self, sql: &str) -> String {
        let path = self.env.dir.path().join("setter.db");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let text: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        text
    }

    /// Waits (bounded) until `check` holds.
    pub async fn eventually(&self, what: &str, mut check: impl AsyncFnMut(&Serve) -> bool) {
        for _ in 0..200 {
            if check(self).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("timed out waiting for: {what}");
    }
}

/// A fixture from tests/fixtures/channels, with placeholder ids replaced by
/// the configured accounts and message ids made unique with `tag`.
pub fn fixture(name: &str, tag: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/channels/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    if let Value::Array(mut items) = v {
        v = items.remove(0); // Published as [ {...} ]; real deliveries are one object.
    }
    normalize(&mut v, tag);
    v
}

fn normalize(v: &mut Value, tag: &str) {
    let object = v["object"].as_str().unwrap_or_default().to_string();
    let account = match object.as_str() {
        "instagram" => IG_ID,
        "page" => PAGE_ID,
        _ => PHONE_ID,
    };
    let mut n = 0;
    for entry in v["entry"].as_array_mut().into_iter().flatten() {
        entry["id"] = json!(account);
        for change in entry["changes"].as_array_mut().into_iter().flatten() {
            change["value"]["metadata"]["phone_number_id"] = json!(PHONE_ID);
            for m in change["value"]["messages"]
                .as_array_mut()
                .into_iter()
                .flatten()
            {
                n += 1;
                m["id"] = json!(format!("{}.{tag}.{n}", m["id"].as_str().unwrap_or("wamid")));
            }
        }
        for key in ["messaging", "standby"] {
            for item in entry[key].as_array_mut().into_iter().flatten() {
                n += 1;
                let echo = item["message"]["is_echo"] == true;
                let (ours, theirs) = if echo {
                    ("sender", "recipient")
                } else {
                    ("recipient", "sender")
                };
                item[ours]["id"] = json!(account);
                if item[theirs]["id"]
                    .as_str()
                    .is_some_and(|s| s.contains(['<', '{']))
                {
                    item[theirs]["id"] = json!(format!("user-{tag}"));
                }
                if item["message"]["mid"].is_string() {
                    item["message"]["mid"] = json!(format!(
                        "{}.{tag}.{n}",
                        item["message"]["mid"].as_str().unwrap()
                    ));
                }
            }
        }
    }
}
