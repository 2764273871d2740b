//! Evidence from the messages a turn answers: keyword matches decided in
//! code, plus the model's reports — a model's trait or disqualifier counts
//! only with a quote that really is in one of the messages (for a trait, a
//! part of it, not the whole message), so a hallucination can neither
//! disqualify a lead nor make a greeting look like a fit. A disqualifier
//! stated in other words counts when its check (`dq_check`) says so.

use super::{extract, filler, signals};
use crate::config::{Disqualifier, Framework, Icp, SlotRole};
use crate::lead::EvidenceKind;
use crate::store::{EvidenceRow, Message};

/// Evidence rows for `pending` (oldest first; never empty), given what the
/// model extracted from them and the evidence already `known`. Each row names
/// the message it rests on: the one holding the keyword or the model's quote.
pub(super) fn collect(
    icp: &Icp,
    framework: &Framework,
    pending: &[Message],
    x: &extract::Extraction,
    known: &[EvidenceRow],
) -> Vec<EvidenceRow> {
    if pending.is_empty() {
        return Vec::new();
    }
    let row = |m: &Message, kind, key: &str, matched, quote: &str| EvidenceRow {
        kind,
        key: key.to_string(),
        matched,
        quote: quote.to_string(),
        message_id: m.id,
        at: m.at,
    };
    let keyword = |keywords| first_keyword(pending, keywords);
    let mut out = Vec::new();
    for t in &icp.traits {
        if let Some((m, k)) = keyword(&t.keywords) {
            out.push(row(m, EvidenceKind::Trait, &t.id, true, k));
        } else if let Some(quote) = x.traits.get(&t.id) {
            // Only news is evidence: skip a claim that repeats what is known.
            let same = known
                .iter()
                .any(|e| e.kind == EvidenceKind::Trait && e.key == t.id && e.matched);
            // The whole message as "quote" points at nothing in particular:
            // "Hi! I saw your ad…" is not evidence of a service business.
            match quoted_in(pending, quote, false) {
                Some(m) if !same => out.push(row(m, EvidenceKind::Trait, &t.id, true, quote)),
                Some(_) => {}
                None => {
                    tracing::info!(r#trait = %t.id, "model quote not a part of the messages; ignored")
                }
            }
        }
    }
    let unspecific = unspecific_quotes(framework, x);
    for d in &icp.disqualifiers {
        if let Some((m, k)) = keyword(&d.keywords) {
            out.push(row(m, EvidenceKind::Disqualifier, &d.id, true, k));
        } else if let Some(quote) = x.disqualifiers.get(&d.id) {
            if unspecific.contains(&d.id) {
                tracing::info!(disqualifier = %d.id, "model quote shows no disqualifier in particular; ignored");
                continue;
            }
            match quoted_in(pending, quote, true) {
                Some(m) => out.push(row(m, EvidenceKind::Disqualifier, &d.id, true, quote)),
                None => {
                    tracing::info!(disqualifier = %d.id, "model quote not found in the messages; ignored")
                }
            }
        } else if let Some(m) = checked(d, x, pending) {
            out.push(row(m, EvidenceKind::Disqualifier, &d.id, true, &m.text));
        }
    }
    for m in pending {
        for (signal, phrase) in signals::keyword_signals(&m.text) {
            out.push(row(m, EvidenceKind::Signal, signal, true, phrase));
        }
    }
    out
}

/// The newest message, when `d`'s check (see `dq_check`) gave the
/// disqualifying answer at least the share its config asks for. The check
/// read all the lead's words so far and cannot say which message carried
/// it; the newest one is cited, the message that tipped the answer.
fn checked<'a>(
    d: &Disqualifier,
    x: &extract::Extraction,
    pending: &'a [Message],
) -> Option<&'a Message> {
    let min = d.check.as_ref()?.min;
    let share = *x.checks.get(&d.id)?;
    (share >= min).then(|| pending.last()).flatten()
}

/// Disqualifiers whose model quote shows nothing in particular: a greeting,
/// the same words quoted for another disqualifier too (a small model fills
/// every field with the lead's self-introduction), or words the model also
/// gave as the lead's pain or goal (what someone wants is not what rules
/// them out). A disqualifier stated plainly is quoted for itself alone.
fn unspecific_quotes(framework: &Framework, x: &extract::Extraction) -> Vec<String> {
    let same = |a: &str, b: &str| signals::contains_phrase(a, b) || signals::contains_phrase(b, a);
    let wants: Vec<&str> = framework
        .slots
        .iter()
        .filter(|s| matches!(s.role, SlotRole::Pain | SlotRole::Outcome))
        .filter_map(|s| x.slots.get(&s.id).and_then(|v| v.as_str()))
        .collect();
    x.disqualifiers
        .iter()
        .filter(|(id, quote)| {
            let shared = x
                .disqualifiers
                .iter()
                .any(|(other, q)| other != *id && same(q, quote));
            !filler::says_something(quote) || shared || wants.iter().any(|w| same(w, quote))
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The first message (oldest first) with one of `keywords`, and the keyword.
pub(super) fn first_keyword<'a, 'k>(
    pending: &'a [Message],
    keywords: &'k [String],
) -> Option<(&'a Message, &'k str)> {
    pending
        .iter()
        .find_map(|m| signals::first_match(&m.text, keywords).map(|k| (m, k)))
}

/// The message that really contains `quote` (3+ characters, whole words).
/// For a trait (`!whole_ok`) the quote must also be a part of the message,
/// not all of it, and say more than a greeting ("I saw your ad").
fn quoted_in<'a>(pending: &'a [Message], quote: &str, whole_ok: bool) -> Option<&'a Message> {
    let words = |t: &str| signals::contains_phrase(t, quote) && signals::contains_phrase(quote, t);
    let informative = whole_ok || filler::says_something(quote);
    pending.iter().find(|m| {
        informative
            && quote.trim().chars().count() >= 3
            && signals::contains_phrase(&m.text, quote)
            && (whole_ok || !words(&m.text))
    })
}
