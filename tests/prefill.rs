//! Prefill after a reply (`Agent::prefill_next`): the requests handed to the
//! model must begin exactly as the next turn's real requests do, or a local
//! model would evaluate a prefix nobody reuses.

mod common;

use common::{new_lead, say, Env, Stub};
use serde_json::json;
use setter::agent::Agent;
use setter::llm::{
    self, ChatMessage, ChatModel, ChatRequest, ChatResponse, ModelInfo, NEXT_MESSAGE_MARK,
};
use setter::prompts::Prompts;
use setter::store::Store;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The stub model, recording what it is asked, and claiming to keep state
/// between calls (so the agent prefills).
struct Recording {
    inner: Arc<dyn ChatModel>,
    chats: Mutex<Vec<ChatRequest>>,
    prefills: Mutex<Vec<ChatRequest>>,
}

#[async_trait::async_trait]
impl ChatModel for Recording {
    async fn chat(&self, request: &ChatRequest) -> llm::Result<ChatResponse> {
        self.chats.lock().unwrap().push(request.clone());
        self.inner.chat(request).await
    }
    fn info(&self) -> ModelInfo {
        self.inner.info()
    }
    fn prefills(&self) -> bool {
        true
    }
    async fn prefill(&self, request: &ChatRequest) -> llm::Result<()> {
        self.prefills.lock().unwrap().push(request.clone());
        Ok(())
    }
}

async fn agent_with(env: &Env, model: Arc<Recording>) -> Agent {
    let loaded = env.loaded();
    let prompts = Prompts::load(Some(&loaded.resolve(Path::new("prompts")))).unwrap();
    let store = Store::open(&loaded.storage_url()).await.unwrap();
    Agent::new(Arc::new(loaded), model, store, Arc::new(prompts)).unwrap()
}

fn recording(env: &Env) -> Arc<Recording> {
    Arc::new(Recording {
        inner: llm::from_config(&env.loaded(), None).unwrap(),
        chats: Mutex::default(),
        prefills: Mutex::default(),
    })
}

/// A recorded agent whose lead has had one turn.
struct Started {
    stub: Stub,
    _env: Env,
    model: Arc<Recording>,
    agent: Agent,
    lead: setter::store::Lead,
}

async fn started(phone: &str) -> Started {
    let stub = Stub::start().await;
    let env = Env::new(&stub, |_| {});
    let model = recording(&env);
    let agent = agent_with(&env, model.clone()).await;
    let lead = new_lead(&agent, phone).await;
    stub.extraction(json!({"business": "roofing company"}));
    stub.reply("Got it. What made you reach out today?");
    say(&agent, &lead, "hi, I run a roofing company", 0).await;
    Started {
        stub,
        _env: env,
        model,
        agent,
        lead,
    }
}

/// The messages of `prefill` up to the mark: all but the marked one whole,
/// the marked one's text before the mark.
fn known_prefix(prefill: &ChatRequest) -> (Vec<ChatMessage>, String) {
    let at = prefill
        .messages
        .iter()
        .position(|m| m.content.contains(NEXT_MESSAGE_MARK))
        .expect("a prefill request carries the mark");
    let marked = &prefill.messages[at].content;
    let head = marked[..marked.find(NEXT_MESSAGE_MARK).unwrap()].to_string();
    (prefill.messages[..at].to_vec(), head)
}

/// Whether `real` begins as `prefill` does up to its mark.
fn begins_like(real: &ChatRequest, prefill: &ChatRequest) -> bool {
    let (whole, head) = known_prefix(prefill);
    real.schema.is_some() == prefill.schema.is_some()
        && real.conversation == prefill.conversation
        && real.messages.len() > whole.len()
        && real.messages[..whole.len()] == whole[..]
        && real.messages[whole.len()].content.starts_with(&head)
        && real.messages[whole.len()].role == prefill.messages[whole.len()].role
}

#[tokio::test]
async fn prefill_requests_begin_as_the_next_turns_requests_do() {
    let Started {
        stub,
        _env,
        model,
        agent,
        lead,
    } = started("+15550101").await;
    stub.extraction(json!({"pain": "we miss calls at night"}));
    stub.reply("I see. What would be different in 90 days?");
    say(&agent, &lead, "we miss calls at night", 60_000).await;

    agent.prefill_next(&lead.id).await;
    let prefills = model.prefills.lock().unwrap().clone();
    assert_eq!(prefills.len(), 2, "extraction and reply: {prefills:#?}");
    let (_, head) = known_prefix(&prefills[0]);
    assert!(
        head.contains("YOU: I see. What would be different in 90 days?"),
        "the extraction prefix holds the reply just sent: {head}"
    );
    let (whole, _) = known_prefix(&prefills[1]);
    assert_eq!(
        whole.last().map(|m| m.content.as_str()),
        Some("I see. What would be different in 90 days?"),
        "the reply prefix ends with the reply just sent"
    );

    model.chats.lock().unwrap().clear();
    stub.extraction(json!({"desired_outcome": "every lead called back"}));
    stub.reply("Makes sense. When would you want this in place?");
    say(&agent, &lead, "every lead called back fast", 120_000).await;
    let chats = model.chats.lock().unwrap().clone();
    for prefill in &prefills {
        assert!(
            chats.iter().any(|real| begins_like(real, prefill)),
            "no request of the next turn begins like {prefill:#?}\nrequests: {chats:#?}"
        );
    }
}

#[tokio::test]
async fn no_prefill_while_the_lead_has_written_again() {
    let Started {
        model, agent, lead, ..
    } = started("+15550102").await;
    let inbound = setter::agent::Inbound {
        text: "also, we are in Texas".into(),
        external_id: None,
        at: 30_000,
    };
    agent.accept(&lead, inbound).await.unwrap();
    agent.prefill_next(&lead.id).await;
    assert!(
        model.prefills.lock().unwrap().is_empty(),
        "the pending message's turn runs now; its prompts are not known ahead"
    );
}
