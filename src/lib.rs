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
//! - [`clock`]   — injected time (system, or moved by hand in tests).
//! - [`agent`]   — accept a message; answer a lead's pending messages in one turn: extract → score → plan → reply → guard → persist.
//! - [`store`]   — SQLite via sqlx; all SQL lives here.
//! - [`eval`]    — `setter eval`: slot, tier and disqualifier metrics on labelled conversations.
//! - [`app`]     — wiring shared by every command and `serve`: config → store, prompts, model → agent.
//! - [`channels`] — Meta webhook parsing, signatures, the send APIs.
//! - [`pipeline`] — `setter serve`'s accept → per-lead queue → turn → outbox → send.
//! - [`server`]  — axum routes: webhooks, web chat, `/api`, `/healthz`, `/metrics`.
//! - [`handoff`]  — the packet a closer reads instead of re-asking the lead.
//! - [`calibration`] — closer outcomes vs what the rubric predicted: `setter report calibration`.
//! - [`scheduler`] — follow-ups on silence: due ladder steps sent or skipped with a reason.
//! - [`metrics`] — Prometheus metrics.
//! - [`cli`]     — the `setter` command line.

pub mod agent;
pub mod app;
pub mod calibration;
pub mod channels;
pub mod cli;
pub mod clock;
pub mod config;
pub mod eval;
pub mod handoff;
pub mod lead;
pub mod llm;
pub mod metrics;
pub mod pipeline;
pub mod prompts;
pub mod scheduler;
pub mod server;
pub mod store;
mod suggest;
