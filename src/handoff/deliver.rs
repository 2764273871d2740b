//! Handing a lead off, and delivering the packet durably.
//!
//! [`hand_off`] freezes the packet (asking the model for the recommended
//! approach first, when the lead was not handed off already) and records the handoff with a pending
//! delivery per configured target; [`deliver_due`] (the serve loop and
//! `setter tick`) claims due deliveries and sends each: a file drop writes
//! `<id>.json` and `<id>.md` (atomically: a temp file, then a rename), a
//! webhook POSTs the JSON with `X-Setter-Signature: sha256=<hex HMAC of the
//! body>` and `Idempotency-Key: <handoff id>`. A failure is retried with
//! exponential back-off and dead-lettered after `max_attempts`.

use super::packet::{self, Packet};
use super::recommend;
use crate::channels::signature::sign;
use crate::config::{HandoffConfig, Loaded};
use crate::llm::ChatModel;
use crate::prompts::Prompts;
use crate::store::{self, DeliveryRow, Handoff, Memory, NewHandoff, Store};
use std::path::Path;
use std::time::Duration;

/// A claimed delivery's lease.
const LEASE_MS: i64 = 120_000;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Prompt(#[from] crate::prompts::Error),
}

/// What handing a lead off needs. `model` writes the recommended approach;
/// without one (`None`) the packet's approach is `null`.
#[derive(Clone, Copy)]
pub struct Desk<'a> {
    pub store: &'a Store,
    pub prompts: &'a Prompts,
    pub loaded: &'a Loaded,
    pub model: Option<&'a dyn ChatModel>,
}

/// Hands `lead_id` off (once; see [`Handoff`]): the packet, with the
/// model's checked approach, is frozen as the receivers will get it.
pub async fn hand_off(
    desk: Desk<'_>,
    lead_id: &str,
    trigger: &str,
    reason: &str,
    now: i64,
) -> Result<Handoff, Error> {
    let memory = desk.store.memory(lead_id).await?;
    // Before any model call: a second trigger changes nothing.
    if let Some(frozen) = desk.store.current_handoff(&memory.lead.id).await? {
        return Ok(Handoff::AlreadyHandedOff(frozen.id));
    }
    let packet = full_packet(desk, &memory).await;
    let markdown = markdown(desk.prompts, &packet)?;
    let json = serde_json::to_value(&packet).unwrap_or_default();
    let targets = targets(&desk.loaded.config.handoff);
    let new = NewHandoff {
        lead_id: &memory.lead.id,
        trigger,
        reason,
        packet: &json,
        markdown: &markdown,
        targets: &targets,
    };
    let handoff = desk.store.create_handoff(&new, now).await?;
    if let Handoff::Created(id) = &handoff {
        tracing::info!(lead_id = %memory.lead.id, handoff_id = %id, trigger, "lead handed off");
    }
    Ok(handoff)
}

/// The packet built in code, with the model's checked approach added.
pub async fn full_packet(desk: Desk<'_>, memory: &Memory) -> Packet {
    let mut packet = packet::build(desk.loaded, memory);
    packet.recommended_approach =
        recommend::recommend(desk.model, desk.prompts, desk.loaded, &packet).await;
    packet
}

/// The packet as a closer reads it (`prompts/handoff.md.j2`).
pub fn markdown(prompts: &Prompts, packet: &Packet) -> Result<String, Error> {
    Ok(prompts.render("handoff.md.j2", serde_json::json!({ "packet": packet }))?)
}

/// The configured delivery targets.
fn targets(config: &HandoffConfig) -> Vec<&'static str> {
    let mut targets = Vec::new();
    if !config.webhook_url.is_empty() {
        targets.push("webhook");
    }
    if !config.directory.is_empty() {
        targets.push("file");
    }
    targets
}

/// Delivers everything due at `now`, once; returns how many were delivered.
pub async fn deliver_due(
    store: &Store,
    loaded: &Loaded,
    http: &reqwest::Client,
    now: i64,
) -> Result<usize, Error> {
    let mut delivered = 0;
    for d in store.claim_deliveries(now, LEASE_MS, 64).await? {
        let result = match d.target.as_str() {
            "file" => to_file(
                &loaded.resolve(Path::new(&loaded.config.handoff.directory)),
                &d,
            ),
            _ => to_webhook(http, loaded, &d).await,
        };
        let outcome = match result {
            Ok(()) => {
                delivered += 1;
                Ok(())
            }
            Err(e) if d.attempts >= i64::from(loaded.config.handoff.max_attempts) => {
                tracing::warn!(handoff_id = %d.handoff_id, target = %d.target, error = %e, "delivery dead-lettered");
                Err((None, format!("gave up after {} attempts: {e}", d.attempts)))
            }
            Err(e) => {
                let wait = 1000 * 2i64.pow(d.attempts.clamp(0, 12) as u32);
                Err((Some(now + wait.min(3_600_000)), e))
            }
        };
        store.finish_delivery(d.id, outcome, now).await?;
    }
    Ok(delivered)
}

fn to_file(dir: &Path, d: &DeliveryRow) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (ext, body) in [("json", &d.packet), ("md", &d.markdown)] {
        let path = dir.join(format!("{}.{ext}", d.handoff_id));
        let tmp = dir.join(format!(".{}.{ext}.tmp", d.handoff_id));
        std::fs::write(&tmp, body).map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

async fn to_webhook(
    http: &reqwest::Client,
    loaded: &Loaded,
    d: &DeliveryRow,
) -> Result<(), String> {
    let config = &loaded.config.handoff;
    let secret = std::env::var(&config.webhook_secret_env).unwrap_or_default();
    let response = http
        .post(&config.webhook_url)
        .header("content-type", "application/json")
        .header("x-setter-signature", sign(&secret, d.packet.as_bytes()))
        .header("idempotency-key", &d.handoff_id)
        .body(d.packet.clone())
        .timeout(Duration::from_secs(15))
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    match response.status() {
        s if s.is_success() => Ok(()),
        s => Err(format!("the receiver answered HTTP {}", s.as_u16())),
    }
}
