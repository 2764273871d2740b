//! Setter: an open-source AI appointment setter.
//!
//! A lead writes; Setter replies within seconds, asks 3–5 qualifying questions
//! over several messages, scores the lead Hot / Warm / Cold from what they
//! said, and knows the next step. The crate map:
//!
//! - [`config`]  — `setter.toml`: offer, ICP, framework, cadence, model, storage; validated with key paths.
//! - [`lead`]    — shared vocabulary: levels, tiers, stages, channels.
//! - [`llm`]     — the `ChatModel` trait; OpenAI-compatible, embedded local GGUF, record/replay cassette.
//! - [`prompts`] — minijinja templates, embedded defaults overridable from `prompts/`.
//! - [`agent`]   — one turn: extract → score → plan → reply → guard → persist.
//! - [`store`]   — SQLite via sqlx; all SQL lives here.
//! - [`eval`]    — `setter eval`: slot, tier and disqualifier metrics on labelled conversations.
//! - [`cli`]     — the `setter` command line.

pub mod agent;
pub mod cli;
pub mod config;
pub mod eval;
pub mod lead;
pub mod llm;
pub mod prompts;
pub mod store;
mod suggest;
