//! Why a score is what it is, in words that name the evidence's message.

use super::score;
use crate::lead::EvidenceKind;
use crate::store::{EvidenceRow, Memory, ScoreRow};

/// Human-readable reasons for this score, naming evidence by message number.
pub(super) fn reasons(
    prev: Option<&ScoreRow>,
    a: &score::Assessment,
    new_evidence: &[EvidenceRow],
    memory: &Memory,
    message_id: i64,
) -> Vec<String> {
    let position = |id: i64| memory.message_number(id).unwrap_or(0);
    let mut out = Vec::new();
    match prev {
        None => out.push(format!(
            "first score: fit {}, intent {} → {}",
            a.fit, a.intent, a.tier
        )),
        Some(p) => {
            for (name, before, after) in [
                ("fit", p.fit.to_string(), a.fit.to_string()),
                ("intent", p.intent.to_string(), a.intent.to_string()),
                ("tier", p.tier.to_string(), a.tier.to_string()),
            ] {
                if before != after {
                    out.push(format!("{name} {before} → {after}"));
                }
            }
        }
    }
    for e in new_evidence {
        let what = match (e.kind, e.matched) {
            (EvidenceKind::Signal, _) => e.key.replace('_', " "),
            (kind, true) => format!("{kind} {} matched", e.key),
            (kind, false) => format!("{kind} {} not matched", e.key),
        };
        out.push(format!(
            "{what}: \"{}\" in message {}",
            e.quote,
            position(e.message_id)
        ));
    }
    for s in a
        .signals
        .iter()
        .filter(|s| s.message_id == Some(message_id))
    {
        if !new_evidence.iter().any(|e| e.key == s.signal) {
            out.push(format!(
                "{}: \"{}\" in message {}",
                s.signal.replace('_', " "),
                s.quote,
                position(message_id)
            ));
        }
    }
    if a.fit_share.is_none() && a.disqualified.is_none() {
        out.push("fit not known yet (no ICP trait known): counted as medium".into());
    }
    out
}
