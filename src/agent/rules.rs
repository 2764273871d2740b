//! Rules every model-written reply keeps, applied in code around the guards
//! (cuts before them, to the model's words, and again after them, to the
//! words or the fallback that replaced them):
//!
//! 1. nothing in the lead's voice ("Hi! I saw your ad…", [`super::voice`]),
//!    and no link the plan did not give;
//! 2. no configuration text copied in ([`super::copies::ConfigText`]);
//! 3. no sentence or opener repeated from the bot's recent replies;
//! 4. when little is left, the plan's static wording instead, and the
//!    planned question when the reply has none (small talk such as "how
//!    are you?" is no question: it is cut when a question is planned);
//! 5. the plan's directives said: the price when asked, that it is an
//!    assistant when asked ([`super::directives`]).

use super::copies::{self, ConfigText};
use super::directives::{self, Directives};
use super::guard::{self, sentences, Guarded};
use super::localized;
use super::plan::{Action, Plan};
use super::voice;
use crate::config::{Offer, Persona};
use whatlang::Lang;

/// What the rules check a reply against.
pub(crate) struct Input<'a> {
    pub plan: &'a Plan,
    /// The lead's messages this reply answers.
    pub lead_text: &'a str,
    /// Everything the lead has written (a reply must not say it back as
    /// its own, see [`voice::speaks_as_lead`]).
    pub lead_said: &'a str,
    /// The bot's recent replies, newest last.
    pub recent: &'a [String],
    pub config_text: &'a ConfigText,
    /// The templated reply for this plan (`fallback.j2`).
    pub fallback: &'a str,
    /// The language the reply is written in.
    pub lang: Lang,
    pub persona: &'a Persona,
    pub offer: &'a Offer,
}

/// Fewer words than this, with no question or link, is nothing to send.
const USEFUL_WORDS: usize = 4;

/// Before the guards: `text` (the model's) without what must not be sent,
/// so the guards' length cap and question checks work on what is left; and
/// the names of the rules that cut.
pub(crate) fn clean(text: &str, input: &Input) -> (String, Vec<String>) {
    let mut fired = Vec::new();
    let mut kept = cut(text, input, &mut fired);
    if let Some(without) = without_unplanned_links(&kept, input.plan.link.as_deref()) {
        kept = without;
        fired.push("unplanned_link_cut".into());
    }
    (kept, fired)
}

/// After the guards: `guarded` cleaned again (a fallback may repeat what was
/// sent), the plan's wording when little is left, the planned question when
/// none is, then the directives. `earlier` names what [`clean`] cut before
/// the guards; every rule that changed the reply is added to `fired`.
pub(crate) fn apply(guarded: Guarded, earlier: Vec<String>, input: &Input) -> Guarded {
    let mut fired = earlier;
    for name in guarded.fired.iter().flat_map(|f| f.split(',')) {
        note(&mut fired, name);
    }
    let (mut kept, cut) = clean(&guarded.text, input);
    for name in &cut {
        note(&mut fired, name);
    }
    if input.plan.action == Action::Ask {
        if let Some(without) = without_small_talk(&kept) {
            kept = without;
            note(&mut fired, "small_talk_cut");
        }
    }
    if !useful(&kept) {
        kept = static_wording(input);
        note(&mut fired, "static_wording");
    }
    if let (Action::Ask, Some(q), false) = (
        input.plan.action,
        &input.plan.question_text,
        kept.contains('?'),
    ) {
        // Room for the question under the length cap.
        let room = guard::cut_to_sentences(&kept, guard::MAX_SENTENCES - 1).unwrap_or(kept);
        kept = format!("{room} {}", localized::question(q, input.lang));
        note(&mut fired, "question_added");
    }
    let text = say_directives(kept, input, &mut fired);
    Guarded {
        text,
        fired: (!fired.is_empty()).then(|| fired.join(",")),
    }
}

/// Adds `name` to `fired` once.
fn note(fired: &mut Vec<String>, name: &str) {
    if !fired.iter().any(|f| f == name) {
        fired.push(name.to_string());
    }
}

/// `text` without sentences in the lead's voice, copied from the config or
/// repeated from recent replies (the planned question always stays).
fn cut(text: &str, input: &Input, fired: &mut Vec<String>) -> String {
    let planned = input
        .plan
        .question_text
        .as_deref()
        .map(super::guard::normalise);
    let mut kept = Vec::new();
    for (i, s) in sentences(text).into_iter().enumerate() {
        let rule = if voice::speaks_as_lead(s, input.lead_said) {
            Some("lead_voice_cut")
        } else if input.config_text.copied_in(s, input.lead_text) || copies::reads_instructions(s) {
            Some("config_copy_cut")
        } else if planned.as_deref() != Some(super::guard::normalise(s).as_str())
            && copies::repeats(s, i, input.recent)
        {
            Some("repeat_cut")
        } else {
            None
        };
        match rule {
            Some(name) => {
                if !fired.iter().any(|f| f == name) {
                    fired.push(name.into());
                }
            }
            None => kept.push(s),
        }
    }
    kept.join(" ")
}

/// `text` without the links the plan did not give (a small model pastes
/// the payment link into any reply about money), and without what only
/// introduced them ("Pay here:"); `None` when it has none.
fn without_unplanned_links(text: &str, planned: Option<&str>) -> Option<String> {
    let is_unplanned = |word: &str| {
        let url = word.trim_end_matches(['.', ',', '!', '?', ')']);
        url.starts_with("http") && url.contains("://") && Some(url) != planned
    };
    if !text.split_whitespace().any(is_unplanned) {
        return None;
    }
    let mut kept = Vec::new();
    for sentence in sentences(text) {
        let words: Vec<&str> = sentence.split_whitespace().collect();
        if !words.iter().any(|w| is_unplanned(w)) {
            kept.push(sentence.to_string());
            continue;
        }
        let rest: Vec<&str> = words.into_iter().filter(|w| !is_unplanned(w)).collect();
        let rest = rest.join(" ");
        if rest.split_whitespace().count() >= 3 && !rest.ends_with(':') {
            kept.push(rest);
        }
    }
    Some(kept.join(" "))
}

/// Whether `text` still says something: a question, a link, or a sentence
/// of a few words.
pub(crate) fn useful(text: &str) -> bool {
    sentences(text).iter().any(|s| {
        s.ends_with('?') || s.contains("http") || s.split_whitespace().count() >= USEFUL_WORDS
    })
}

/// Questions that ask nothing a qualification needs, in the six languages
/// the rules know. A 1.5B model that had its repeated opener cut was left
/// with "Wie geht es Ihnen?" as its whole reply to a lead describing a problem.
const SMALL_TALK: &[&str] = &[
    "how are you",
    "how's it going",
    "how are things",
    "how is your day",
    "cómo estás",
    "como estas",
    "cómo está usted",
    "qué tal",
    "como vai",
    "como você está",
    "tudo bem",
    "wie geht es",
    "wie geht's",
    "comment allez-vous",
    "comment ça va",
    "ça va",
    "come stai",
    "come sta",
];

/// `text` without its small-talk questions, if it has any.
fn without_small_talk(text: &str) -> Option<String> {
    let all = sentences(text);
    let kept: Vec<&str> = all
        .iter()
        .copied()
        .filter(|s| {
            !(s.ends_with('?')
                && SMALL_TALK
                    .iter()
                    .any(|p| super::signals::contains_phrase(s, p)))
        })
        .collect();
    (kept.len() < all.len()).then(|| kept.join(" "))
}

/// The plan's templated wording without what was already sent; else the
/// planned question alone; else a short acknowledgement not sent recently;
/// the template whole as the last resort (a repeat beats saying nothing).
fn static_wording(input: &Input) -> String {
    let fresh: Vec<&str> = sentences(input.fallback)
        .into_iter()
        .enumerate()
        .filter(|(i, s)| !copies::repeats(s, *i, input.recent))
        .map(|(_, s)| s)
        .collect();
    let fresh = fresh.join(" ");
    if useful(&fresh) {
        return fresh;
    }
    if let Some(q) = &input.plan.question_text {
        return localized::question(q, input.lang);
    }
    localized::acknowledgements(input.lang)
        .iter()
        .find(|a| !copies::repeats(a, 0, input.recent))
        .map_or_else(|| input.fallback.to_string(), |a| a.to_string())
}

/// `text` with the plan's directives said: the configured price (a wrong
/// amount cut), and that the writer is an assistant.
fn say_directives(text: String, input: &Input, fired: &mut Vec<String>) -> String {
    let Directives {
        answer_price,
        say_assistant,
    } = input.plan.directives;
    let mut text = text;
    let price = input.offer.price;
    if answer_price {
        let all = sentences(&text);
        let (wrong, right): (Vec<&str>, Vec<&str>) = all.iter().partition(|s| {
            directives::states_other_price(s, price) && !directives::states_price(s, price)
        });
        if !wrong.is_empty() {
            fired.push("wrong_price_cut".into());
        }
        let mut out = right.join(" ");
        if !directives::states_price(&out, price) {
            let sentence = directives::price_sentence(input.lang, input.offer);
            out = before_tail(&out, &sentence);
            fired.push("price_added".into());
        }
        text = out;
    }
    if say_assistant && sentences(&text).iter().any(|s| directives::denies_bot(s)) {
        let honest: Vec<&str> = sentences(&text)
            .into_iter()
            .filter(|s| !directives::denies_bot(s))
            .collect();
        text = honest.join(" ");
        fired.push("bot_denial_cut".into());
    }
    if say_assistant && !directives::says_assistant(&text) {
        let sentence = directives::assistant_sentence(input.lang, input.persona, input.offer);
        text = format!("{sentence} {text}").trim().to_string();
        fired.push("assistant_added".into());
    }
    text
}

/// `text` with `sentence` placed before its closing question or link (so
/// the reply still ends on what the lead should do next), else at the end.
fn before_tail(text: &str, sentence: &str) -> String {
    let parts = sentences(text);
    match parts.split_last() {
        Some((last, rest)) if last.ends_with('?') || last.contains("http") => {
            let mut out: Vec<&str> = rest.to_vec();
            out.push(sentence);
            out.push(last);
            out.join(" ")
        }
        _ => format!("{text} {sentence}").trim().to_string(),
    }
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
