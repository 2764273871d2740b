//! What a reply asks about, read from its text: the question sentences and the
//! slots their words point at. The reply guard uses it to stop an early budget
//! question; `setter eval` uses it for cadence metrics and `asks_about`
//! assertions, so a prompt change that makes the model ask the wrong thing
//! shows up without a human reading every transcript.
//!
//! Matching is by whole words and phrases (several languages), per slot role,
//! plus the words of the slot's id (`desired_outcome` → "desired", "outcome"),
//! so custom slots are recognised by name. It is deliberately simple and
//! explainable: a report can say which word matched.

use super::signals::contains_phrase;
use crate::config::{Framework, Slot, SlotRole};

/// Words that mark a question about a slot of each role.
fn role_words(role: SlotRole) -> &'static [&'static str] {
    match role {
        SlotRole::Pain => &[
            "challenge",
            "challenges",
            "problem",
            "problems",
            "struggle",
            "struggling",
            "not working",
            "frustrating",
            "getting in the way",
            "reach out",
            "reached out",
            "bottleneck",
            "pain",
            "problema",
            "reto",
            "desafío",
            "desafio",
            "herausforderung",
            "problème",
            "défi",
        ],
        SlotRole::Outcome => &[
            "goal",
            "goals",
            "achieve",
            "result",
            "results",
            "outcome",
            "hoping",
            "success",
            "would be different",
            "objetivo",
            "meta",
            "lograr",
            "resultado",
            "ziel",
            "objectif",
        ],
        SlotRole::Timing => &[
            "when",
            "timeline",
            "how soon",
            "by when",
            "deadline",
            "timeframe",
            "time frame",
            "in place",
            "cuándo",
            "cuando",
            "plazo",
            "wann",
            "quando",
            "quand",
        ],
        SlotRole::Budget => &[
            "budget",
            "invest",
            "investing",
            "investment",
            "spend",
            "spending",
            "afford",
            "set aside",
            "price range",
            "presupuesto",
            "invertir",
            "investieren",
            "orçamento",
            "investir",
        ],
        SlotRole::Authority => &[
            "decide",
            "decides",
            "decision",
            "who else",
            "sign off",
            "approve",
            "involved in deciding",
            "decisión",
            "decisão",
            "entscheiden",
            "entscheidung",
        ],
        SlotRole::Fit => &[
            "business",
            "company",
            "team",
            "what do you do",
            "how big",
            "revenue",
            "clients",
            "customers",
            "industry",
            "sell",
            "negocio",
            "empresa",
            "unternehmen",
            "firma",
            "negócio",
            "entreprise",
        ],
        SlotRole::Other => &[],
    }
}

/// The question sentences of `text` (each ending in `?`), trimmed.
pub fn questions(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '?' => {
                let q = text[start..=i].trim();
                if !q.trim_start_matches(['¿', '?']).trim().is_empty() {
                    out.push(q);
                }
                start = i + 1;
            }
            '.' | '!' | '\n' => start = i + 1,
            _ => {}
        }
    }
    out
}

/// The word of `slot`'s vocabulary found in `sentence`, if any.
pub fn matched_word<'a>(slot: &'a Slot, sentence: &str) -> Option<&'a str> {
    role_words(slot.role)
        .iter()
        .copied()
        .chain(slot.id.split(['_', '-']).filter(|w| w.len() >= 4))
        .find(|w| contains_phrase(sentence, w))
}

/// Whether `sentence` asks about money (the guard's early-budget check).
pub fn is_about_budget(sentence: &str) -> bool {
    role_words(SlotRole::Budget)
        .iter()
        .any(|w| contains_phrase(sentence, w))
}

/// Slots the reply's questions ask about, in framework order, each with the
/// word that matched.
pub fn asked<'a>(framework: &'a Framework, reply: &str) -> Vec<(&'a str, &'a str)> {
    let qs = questions(reply);
    framework
        .slots
        .iter()
        .filter_map(|slot| {
            qs.iter()
                .find_map(|q| matched_word(slot, q))
                .map(|w| (slot.id.as_str(), w))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Framework;

    #[test]
    fn questions_are_split_from_statements() {
        assert_eq!(
            questions("Great! What do you sell? ¿Cuándo quieres empezar? Thanks."),
            vec!["What do you sell?", "¿Cuándo quieres empezar?"]
        );
        assert!(questions("No question here. Really!").is_empty());
        assert!(questions("??").is_empty());
    }

    #[test]
    fn slots_are_recognised_by_role_words_and_id() {
        let pif = Framework::resolve("pif", &[]).expect("pif exists");
        let asked = |t: &str| -> Vec<&str> { asked(&pif, t).into_iter().map(|a| a.0).collect() };
        assert_eq!(
            asked("Got it. When would you want this live?"),
            vec!["timeline"]
        );
        assert_eq!(
            asked("What have you set aside to invest in this?"),
            vec!["budget"]
        );
        assert_eq!(
            asked("What's your desired outcome?"),
            vec!["desired_outcome"]
        );
        assert_eq!(asked("¿Qué problema tienes con los leads?"), vec!["pain"]);
        // A statement about budget is not a question about it.
        assert!(asked("Our budget plans start at $2,000. Sound good").is_empty());
        assert!(is_about_budget("How much can you spend?"));
        assert!(!is_about_budget("What do you sell?"));
    }
}
