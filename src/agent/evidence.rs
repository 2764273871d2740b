//! Evidence from the messages a turn answers: keyword matches decided in
//! code, plus the model's reports — a model's disqualifier counts only with a
//! quote that really is in one of the messages, so a hallucination cannot
//! disqualify a lead.

use super::{extract, signals};
use crate::config::Icp;
use crate::lead::EvidenceKind;
use crate::store::{EvidenceRow, Message};

/// Evidence rows for `pending` (oldest first; never empty), given what the
/// model extracted from them and the evidence already `known`. Each row names
/// the message it rests on; a model's trait claim rests on the newest one.
pub(super) fn collect(
    icp: &Icp,
    pending: &[Message],
    x: &extract::Extraction,
    known: &[EvidenceRow],
) -> Vec<EvidenceRow> {
    let Some(newest) = pending.last() else {
        return Vec::new();
    };
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
        } else if let Some(&matched) = x.traits.get(&t.id) {
            // Only news is evidence: skip a claim that repeats what is known.
            let same = known
                .iter()
                .any(|e| e.kind == EvidenceKind::Trait && e.key == t.id && (e.matched || !matched));
            if !same {
                let quote = excerpt(&newest.text);
                out.push(row(newest, EvidenceKind::Trait, &t.id, matched, &quote));
            }
        }
    }
    for d in &icp.disqualifiers {
        if let Some((m, k)) = keyword(&d.keywords) {
            out.push(row(m, EvidenceKind::Disqualifier, &d.id, true, k));
        } else if let Some(quote) = x.disqualifiers.get(&d.id) {
            let said = pending
                .iter()
                .find(|m| quote.trim().len() >= 3 && signals::contains_phrase(&m.text, quote));
            match said {
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

/// The start of a message, as the quote behind a model's claim.
fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(80).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}
