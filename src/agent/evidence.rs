//! Evidence from the messages a turn answers: keyword matches decided in
//! code, plus the model's reports — a model's trait or disqualifier counts
//! only with a quote that really is in one of the messages (for a trait, a
//! part of it, not the whole message), so a hallucination can neither
//! disqualify a lead nor make a greeting look like a fit.

use super::{extract, filler, signals};
use crate::config::Icp;
use crate::lead::EvidenceKind;
use crate::store::{EvidenceRow, Message};

/// Evidence rows for `pending` (oldest first; never empty), given what the
/// model extracted from them and the evidence already `known`. Each row names
/// the message it rests on: the one holding the keyword or the model's quote.
pub(super) fn collect(
    icp: &Icp,
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
    for d in &icp.disqualifiers {
        if let Some((m, k)) = keyword(&d.keywords) {
            out.push(row(m, EvidenceKind::Disqualifier, &d.id, true, k));
        } else if let Some(quote) = x.disqualifiers.get(&d.id) {
            match quoted_in(pending, quote, true) {
                Some(m) => out.push(row(m, EvidenceKind::Disqualifier, &d.id, true, quote)),
                None => {
                    tracing::info!(disqualifier = %d.id, "model quote not found in the messages; ignored")
                }
            }
        }
    }
    for m in pending {
        for (signal, phrase) in signals::keyword_signals(&m.text) {
            out.push(row(m, EvidenceKind::Signal, signal, true, phrase));
        }
    }
    out
}

/// The first message (oldest first) with one of `keywords`, and the keyword.
fn first_keyword<'a, 'k>(
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
