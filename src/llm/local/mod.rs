//! The embedded model: a GGUF file run in-process by llama.cpp (`llama-cpp-2`),
//! so `setter chat` works with no API key and no network.
//!
//! CPU inference on a small machine is slow (prompt evaluation ≈ 20 tok/s on
//! two cores), and the agent's prompts are mostly a fixed system prompt plus a
//! growing transcript. So each process keeps the model and its contexts loaded
//! and reuses the KV cache: a call tokenizes the full prompt, keeps the longest
//! prefix already evaluated, and only decodes the rest. Extraction (JSON
//! schema) and reply prompts alternate and share little, so each kind has its
//! own context and cache ("slot"): neither evicts the other's prefix. Within
//! a slot each lead has its own KV sequence ("lane", see [`lanes`]), so
//! leads answered in turn do not evict each other either.
//!
//! Structured output (a request with a JSON schema) is decoded greedily and
//! always parses. For object schemas (the extraction schema) we write the
//! skeleton ourselves — braces, keys, commas, pretty-printed the way the model
//! writes JSON — and decode each literal run as one batch, which costs about
//! as much as one generated token; the model only generates the leaf values,
//! each under a small GBNF grammar made from that leaf's schema
//! (`json_schema_to_grammar`). That cut an extraction from ~118 sampled tokens
//! to ~25 sampled tokens plus ~15 batched runs. Other schemas use one grammar
//! for the whole answer. Either way the greedy token is checked against the
//! grammar first, then the top 64, and the whole vocabulary only as a last resort.

mod decode;
mod draft;
mod fill;
mod generate;
mod lanes;
mod plans;
mod prefill;
mod skeleton;
mod slot;
mod span;
mod switches;
mod warm;

use switches::env_switch;
pub use switches::{DRAFT_ENV, LANES_ENV, PREFILL_ENV, PREFIX_REUSE_ENV, WARM_START_ENV};

use super::stop::Stop;
use super::{ChatModel, ChatRequest, ChatResponse, Error, ModelInfo, Result, Role};
use generate::{generate, Timing};
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use skeleton::Step;
use slot::{slot_for, Slot};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Tokens per decode call while evaluating a prompt.
const BATCH: usize = 512;
/// Slot for requests with a schema (extraction).
const SLOT_STRUCTURED: usize = 0;
/// Slot for free-text requests (replies).
const SLOT_FREE: usize = 1;
/// Candidates checked against the grammar when the greedy token is not allowed.
const GRAMMAR_TOP_K: usize = 64;

/// llama.cpp's backend may be initialised once per process.
static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();
/// Loaded engines by model path, so several agents in one process share one copy.
type SharedEngine = Arc<Shared>;

/// One engine and how many calls wait for it.
struct Shared {
    engine: Mutex<Engine>,
    /// Calls waiting for the engine: a prefill (work nobody waits for) gives
    /// the engine back as soon as one does (see `local::prefill`).
    waiting: std::sync::atomic::AtomicUsize,
}

impl Shared {
    /// The engine, once calls ahead of this one are done. A panic
    /// mid-inference leaves the caches unknown: they start afresh.
    fn lock(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(|poisoned| {
            let mut guard = poisoned.into_inner();
            guard.reset();
            guard
        })
    }
}
static ENGINES: Mutex<Vec<(PathBuf, u32, SharedEngine)>> = Mutex::new(Vec::new());

fn backend() -> Result<&'static LlamaBackend> {
    BACKEND
        .get_or_init(|| {
            LlamaBackend::init()
                .map(|mut b| {
                    b.void_logs();
                    b
                })
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| Error::Config(format!("llama.cpp backend: {e}")))
}

/// A GGUF model behind the [`ChatModel`] trait.
pub struct LocalModel {
    engine: SharedEngine,
    name: String,
    path: PathBuf,
    /// A call's limit once the engine runs it (`[llm] timeout_secs`).
    timeout: Duration,
    /// Prefill after a reply (see [`PREFILL_ENV`]).
    prefill: bool,
}

/// A call's limit when none is configured.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish()
    }
}

/// The model file the config points at (the default model when `model_path` is empty).
pub fn model_path(loaded: &crate::config::Loaded) -> Result<PathBuf> {
    let configured = &loaded.config.llm.model_path;
    if configured.is_empty() {
        super::catalog::default_model_path().ok_or_else(|| {
            Error::Config("no data directory on this system; set [llm] model_path".into())
        })
    } else {
        Ok(loaded.resolve(Path::new(configured)))
    }
}

impl LocalModel {
    /// Loads the configured model (or reuses it if this process already has).
    pub fn from_config(loaded: &crate::config::Loaded) -> Result<Self> {
        let path = model_path(loaded)?;
        let n_ctx = u32::try_from(loaded.config.llm.context_tokens).unwrap_or(u32::MAX);
        let timeout = Duration::from_secs(loaded.config.llm.timeout_secs.max(1));
        Ok(Self::load(&path, n_ctx)?.with_timeout(timeout))
    }

    /// The same model with calls stopped after `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Loads a GGUF file with a context window of `n_ctx` tokens per slot.
    pub fn load(path: &Path, n_ctx: u32) -> Result<Self> {
        if !path.is_file() {
            return Err(Error::Config(format!(
                "local model not found at {}; run `setter model pull` (≈1.1 GB from PyPI) or set [llm] model_path, \
                 or use provider = \"openai\"",
                path.display()
            )));
        }
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let mut engines = ENGINES.lock().unwrap_or_else(|p| p.into_inner());
        let engine = match engines.iter().find(|(p, n, _)| p == path && *n == n_ctx) {
            Some((_, _, engine)) => engine.clone(),
            None => {
                let engine = Arc::new(Shared {
                    engine: Mutex::new(Engine::load(path, n_ctx)?),
                    waiting: Default::default(),
                });
                engines.push((path.to_path_buf(), n_ctx, engine.clone()));
                engine
            }
        };
        Ok(Self {
            engine,
            name,
            path: path.to_path_buf(),
            timeout: DEFAULT_TIMEOUT,
            prefill: env_switch(PREFILL_ENV) && env_switch(PREFIX_REUSE_ENV),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn call_error(&self, message: String) -> Error {
        Error::Call {
            provider: "local".into(),
            model: self.name.clone(),
            attempts: 1,
            message,
        }
    }
}

#[async_trait::async_trait]
impl ChatModel for LocalModel {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let engine = self.engine.clone();
        let request = request.clone();
        // Dropping this future (the caller gave up) cancels the call too.
        let (stop, _cancel_on_drop) = Stop::after(self.timeout);
        let result = tokio::task::spawn_blocking(move || {
            engine.waiting.fetch_add(1, Ordering::SeqCst);
            let mut engine_guard = engine.lock();
            engine.waiting.fetch_sub(1, Ordering::SeqCst);
            let engine = &mut *engine_guard;
            let mut stop = stop;
            stop.start();
            stop.check()?;
            engine.chat(&request, stop)
        })
        .await
        .map_err(|e| self.call_error(format!("inference task failed: {e}")))?;
        result.map_err(|m| self.call_error(m))
    }

    fn info(&self) -> ModelInfo {
        ModelInfo {
            provider: "local".into(),
            model: self.name.clone(),
        }
    }

    fn prefills(&self) -> bool {
        self.prefill
    }

    async fn prefill(&self, request: &ChatRequest) -> Result<()> {
        let engine = self.engine.clone();
        let request = request.clone();
        let (stop, _cancel_on_drop) = Stop::after(self.timeout);
        let result = tokio::task::spawn_blocking(move || {
            let mut engine_guard = engine.lock();
            let mut stop = stop;
            stop.start();
            engine_guard.prefill(&request, stop, &engine.waiting)
        })
        .await
        .map_err(|e| self.call_error(format!("prefill task failed: {e}")))?;
        result.map_err(|m| self.call_error(m))
    }
}

struct Engine {
    model: &'static LlamaModel,
    template: LlamaChatTemplate,
    slots: Vec<Slot>,
    /// GBNF grammar per JSON schema text.
    grammars: HashMap<String, String>,
    /// JSON skeleton per schema text (None: shape not supported, use the full grammar).
    skeletons: HashMap<String, Option<Vec<Step>>>,
    n_ctx: u32,
    seed: u32,
    /// Keep the evaluated prefix between calls (see [`PREFIX_REUSE_ENV`]).
    prefix_reuse: bool,
    /// System-prompt state on disk (see [`WARM_START_ENV`]).
    warm: Option<warm::WarmFiles>,
}

impl Engine {
    fn load(path: &Path, n_ctx: u32) -> Result<Engine> {
        let backend = backend()?;
        let started = Instant::now();
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
            .map_err(|e| Error::Config(format!("loading {}: {e}", path.display())))?;
        // The model lives as long as the process: contexts borrow it, and a
        // process loads each model file at most once (see ENGINES).
        let model: &'static LlamaModel = Box::leak(Box::new(model));
        let template = model
            .chat_template(None)
            .or_else(|_| LlamaChatTemplate::new("chatml").map_err(|e| e.to_string()))
            .map_err(|e| {
                Error::Config(format!("{}: no usable chat template: {e}", path.display()))
            })?;
        let n_ctx = n_ctx.clamp(512, model.n_ctx_train().max(512));
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(4);
        let threads = i32::try_from(threads).unwrap_or(4);
        let lanes_on = env_switch(LANES_ENV);
        let mut slots = (0..2)
            .map(|_| Slot::new(model, backend, n_ctx, threads, lanes_on))
            .collect::<Result<Vec<_>>>()?;
        let draft = env_switch(DRAFT_ENV);
        for slot in &mut slots {
            slot.draft = draft;
        }
        let prefix_reuse = env_switch(PREFIX_REUSE_ENV);
        let warm_start = prefix_reuse && env_switch(WARM_START_ENV);
        let warm = warm_start
            .then(|| warm::WarmFiles::beside(path, n_ctx, slots.len()))
            .flatten();
        if let Some(w) = &warm {
            for (i, slot) in slots.iter_mut().enumerate() {
                w.load(slot, i, n_ctx);
            }
        }
        tracing::info!(path = %path.display(), n_ctx, threads, prefix_reuse, secs = started.elapsed().as_secs_f64(), "local model loaded");
        Ok(Engine {
            model,
            template,
            slots,
            grammars: HashMap::new(),
            skeletons: HashMap::new(),
            n_ctx,
            seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(42),
            prefix_reuse,
            warm,
        })
    }

    /// The tokens of the request's system message alone, when this slot's
    /// warm prefix is still to be saved (see `local::warm`).
    fn system_prefix(&self, slot: usize, request: &ChatRequest) -> Option<Vec<LlamaToken>> {
        if !self.warm.as_ref().is_some_and(|w| w.due(slot)) {
            return None;
        }
        let system = request
            .messages
            .first()
            .filter(|m| m.role == Role::System)?;
        let message = LlamaChatMessage::new("system".into(), system.content.clone()).ok()?;
        let text = self
            .model
            .apply_chat_template(&self.template, &[message], false)
            .ok()?;
        Some(self.model.vocab().tokenize(text.as_bytes(), true, true))
    }

    fn reset(&mut self) {
        for slot in &mut self.slots {
            slot.ctx.clear_kv_cache();
            slot.cached.clear();
            slot.seq = 0;
            slot.lanes.clear();
        }
    }

    fn chat(
        &mut self,
        request: &ChatRequest,
        stop: Stop,
    ) -> std::result::Result<ChatResponse, String> {
        let slot = slot_for(request);
        self.slots[slot].stop = Some(stop);
        let prefix = self.system_prefix(slot, request);
        let result = self.run(slot, request);
        self.slots[slot].stop = None;
        if let (Ok(_), Some(prefix), Some(warm)) = (&result, prefix, self.warm.as_mut()) {
            warm.save(&mut self.slots[slot], slot, &prefix);
        }
        if result.is_err() {
            // The lane may hold a half-evaluated prompt: forget it.
            self.slots[slot].forget_active();
        }
        result
    }

    fn run(
        &mut self,
        slot_index: usize,
        request: &ChatRequest,
    ) -> std::result::Result<ChatResponse, String> {
        let model = self.model;
        let tokens = self.prompt_tokens(request)?;
        let max_new = self.room_for(&tokens, request)?;
        let mut plan = self.plan_for(request)?;
        let reuse = self.prefix_reuse;
        let answers_key = request.conversation.clone().unwrap_or_default();
        let slot = &mut self.slots[slot_index];

        slot.enter(
            request.conversation.as_deref(),
            &tokens,
            tokens.len() + max_new,
            self.n_ctx as usize,
        );
        let keep = decode::reuse_prefix(slot, &tokens, reuse);
        let before = (slot.decodes, slot.drafted, slot.rejected);
        let prompt_started = Instant::now();
        let mut batch = LlamaBatch::new(BATCH, 1);
        let last_logits = decode::evaluate(slot, &mut batch, &tokens, keep)?;
        let prompt_secs = prompt_started.elapsed().as_secs_f64();

        let gen_started = Instant::now();
        let out = generate(
            model,
            slot,
            &mut batch,
            &mut plan,
            last_logits,
            max_new,
            answers_key,
        )?;
        let timing = Timing {
            prompt: tokens.len(),
            reused: keep,
            prompt_secs,
            gen_secs: gen_started.elapsed().as_secs_f64(),
        };
        tracing::trace!(text = %out.text, "local output");
        tracing::debug!(
            fallbacks = out.fallbacks,
            slot = slot_index,
            prompt = timing.prompt,
            reused = keep,
            evaluated = timing.prompt - keep,
            generated = out.produced,
            decodes = slot.decodes - before.0,
            drafted = slot.drafted - before.1,
            rejected = slot.rejected - before.2,
            prompt_secs,
            gen_secs = timing.gen_secs,
            "local inference"
        );
        Ok(timing.response(out))
    }

    /// How many tokens the answer may take: the request's cap within what
    /// the context leaves after the prompt (an error when that is nearly
    /// nothing, naming the setting to raise).
    fn room_for(
        &self,
        tokens: &[LlamaToken],
        request: &ChatRequest,
    ) -> std::result::Result<usize, String> {
        let room = (self.n_ctx as usize).saturating_sub(tokens.len());
        if room < 16 {
            return Err(format!(
                "prompt is {} tokens; the local context holds {} (raise [llm] context_tokens)",
                tokens.len(),
                self.n_ctx
            ));
        }
        Ok((request.max_tokens as usize).min(room))
    }

    /// The request's messages through the model's chat template, tokenized.
    fn prompt_tokens(&self, request: &ChatRequest) -> std::result::Result<Vec<LlamaToken>, String> {
        let prompt = self.prompt_text(request)?;
        let tokens = self.model.vocab().tokenize(prompt.as_bytes(), true, true);
        if tokens.is_empty() {
            return Err("empty prompt".into());
        }
        Ok(tokens)
    }

    /// The request's messages through the model's chat template.
    fn prompt_text(&self, request: &ChatRequest) -> std::result::Result<String, String> {
        let messages = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                LlamaChatMessage::new(role.into(), m.content.clone()).map_err(|e| e.to_string())
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        self.model
            .apply_chat_template(&self.template, &messages, true)
            .map_err(|e| format!("chat template: {e}"))
    }
}
