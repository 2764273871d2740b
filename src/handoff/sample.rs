//! A made-up packet for `setter check`: the handoff templates are rendered
//! against it, so an edited `prompts/handoff*.j2` fails there, not when a
//! Hot lead is handed off.

use super::approach;
use super::packet::{Assessment, Check, FitNotes, Identity, Line, Links, Packet, SlotNote};
use crate::config::Loaded;

/// A short conversation's packet: once with a checked approach, once with
/// none (the model failed), so both branches of a template render.
pub(crate) fn packets(loaded: &Loaded) -> [Packet; 2] {
    let config = &loaded.config;
    let line = |number: usize, from: &str, text: &str| Line {
        number,
        from: from.into(),
        text: text.into(),
        at: 1_700_000_000_000 + number as i64 * 60_000,
    };
    let transcript = vec![
        line(
            1,
            "lead",
            "hi, I run a roofing company and we miss calls at night",
        ),
        line(
            2,
            "bot",
            "That costs jobs. What budget did you have in mind?",
        ),
        line(3, "lead", "around 2k a month"),
    ];
    let note = |id: &str, value: Option<&str>, message: Option<usize>| SlotNote {
        id: id.into(),
        description: format!("sample slot {id}"),
        value: value.map(Into::into),
        message,
    };
    let known = vec![config.offer.name.clone(), config.persona.name.clone()];
    let approach = approach::check(
        "They miss calls at night [1]. Their budget is around $2k a month [2, 3].",
        &transcript,
        &known,
    );
    let with = Packet {
        schema_version: super::SCHEMA_VERSION,
        lead: Identity {
            id: "sample".into(),
            name: Some("Ana".into()),
            channel: "whatsapp".into(),
            external_id: "+15550100".into(),
            source: None,
            first_message: Some(transcript[0].text.clone()),
            first_contact_at: transcript[0].at,
            last_message_at: Some(transcript[2].at),
        },
        assessment: Assessment {
            fit: Some("high".into()),
            intent: Some("medium".into()),
            tier: Some("warm".into()),
            score: Some(55),
            stage: "mql".into(),
            next_action: Some("book_call".into()),
        },
        recommended_approach: Some(approach),
        slots: vec![
            note("pain", Some("we miss calls at night"), Some(1)),
            note("timeline", None, None),
        ],
        pain: Some(note("pain", Some("we miss calls at night"), Some(1))),
        desired_outcome: None,
        timing: None,
        budget: Some(note("budget", Some("around 2k a month"), Some(3))),
        fit: FitNotes {
            traits: vec![Check {
                id: "service_business".into(),
                text: "Runs a service business".into(),
                matched: Some(true),
                quote: Some("roofing".into()),
                message: Some(1),
            }],
            disqualifiers: Vec::new(),
        },
        score_history: Vec::new(),
        links: Links {
            booking_url: Some(config.offer.booking_url.clone()).filter(|u| !u.is_empty()),
            payment_url: None,
            sent_in: Vec::new(),
            payment_link_sent_at: Some(0),
        },
        transcript,
    };
    let without = Packet {
        recommended_approach: None,
        ..with.clone()
    };
    [with, without]
}

#[cfg(test)]
mod tests {
    use crate::config::{self, Config};
    use std::path::{Path, PathBuf};

    #[test]
    fn the_sample_approach_keeps_both_claims() {
        let loaded = config::finish(Config::example(), Path::new("x"), PathBuf::from(".")).unwrap();
        let [with, without] = super::packets(&loaded);
        let approach = with.recommended_approach.unwrap();
        assert_eq!(approach.dropped, vec![]);
        assert_eq!(approach.claims.len(), 2);
        assert!(without.recommended_approach.is_none());
    }
}
