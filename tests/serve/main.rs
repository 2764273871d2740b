//! `setter serve` end to end: axum on 127.0.0.1, a real SQLite file, the
//! loopback model stub and a loopback fake Graph API.

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod crash;
mod opener;
mod outcome;
mod sending;
mod takeover;
mod webhooks;
