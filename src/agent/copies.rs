//! Reply sentences that copy instead of answer: one the bot already sent
//! ("Great! I see what you're saying." opening three replies in a row), or
//! text of the configuration the model was shown (the persona's tone,
//! descriptions, the instructions: "…providing a warm, brief, pla…").
//! Both are found in code and cut; see [`super::rules`].

use super::grounding::words;
use super::guard::{normalise, sentences};
use crate::config::{Config, Framework};
use std::collections::HashSet;

/// Words opening a reply that, when another recent reply opened with the
/// same ones, make its first sentence a repeated opener.
const OPENER_WORDS: usize = 3;

/// The first [`OPENER_WORDS`] words of `reply`'s first sentence, when it
/// has that many.
fn opener(reply: &str) -> Option<Vec<String>> {
    let first = sentences(reply).into_iter().next()?;
    let w = words(first);
    (w.len() >= OPENER_WORDS).then(|| w[..OPENER_WORDS].to_vec())
}

/// Whether `sentence` (at `index` in its reply) repeats the bot's `recent`
/// replies: the same sentence, or — first in its reply — the same opening
/// words as a recent reply's first sentence.
pub(crate) fn repeats(sentence: &str, index: usize, recent: &[String]) -> bool {
    let norm = normalise(sentence);
    if norm.is_empty() {
        return false;
    }
    let same = recent
        .iter()
        .any(|r| sentences(r).iter().any(|s| normalise(s) == norm));
    let opens_alike = index == 0
        && opener(sentence).is_some_and(|o| recent.iter().any(|r| opener(r).as_ref() == Some(&o)));
    same || opens_alike
}

/// Words only the instructions use: a reply that calls the person it talks
/// to "the lead", or announces that it acknowledges, is reading its prompt
/// aloud ("I acknowledge that the lead is asking for a quick question").
const INSTRUCTION_WORDS: &[&str] = &[
    "the lead",
    "the lead's",
    "this lead",
    "i acknowledge",
    "el lead",
    "al lead",
    "o lead",
    "ao lead",
    "le lead",
    "au lead",
    "der lead",
    "den lead",
    "il lead",
];

/// Whether `sentence` uses the instructions' own words for the lead.
pub(crate) fn reads_instructions(sentence: &str) -> bool {
    INSTRUCTION_WORDS
        .iter()
        .any(|w| super::signals::contains_phrase(sentence, w))
}

/// Runs of configuration text a reply must not copy, each with how many
/// words in a row make a copy: three of the tone ("warm brief plain")
/// already read as a leak, four of a trait or slot description, six of the
/// instructions (which hold everyday phrases such as "the next step").
/// The offer's description is not among them: it is the fact sheet a reply
/// quotes from ("we run your DMs and fill your calendar").
#[derive(Debug, Default)]
pub(crate) struct ConfigText {
    sources: Vec<Source>,
    /// Phrases a reply may use although the configuration holds them: the
    /// literal questions and question instructions, the offer's name and
    /// description, the disqualifiers (a decline explains one).
    allowed: Vec<String>,
}

/// One kind of configuration text, as n-grams.
#[derive(Debug)]
struct Source {
    n: usize,
    grams: HashSet<String>,
    /// Whether an allowed phrase holding the run excuses it.
    excusable: bool,
}

const TONE_RUN: usize = 3;
const DESCRIPTION_RUN: usize = 4;
const INSTRUCTION_RUN: usize = 6;

fn grams(text: &str, n: usize) -> Vec<String> {
    let w = words(text);
    (0..w.len().saturating_sub(n - 1))
        .map(|i| w[i..i + n].join(" "))
        .collect()
}

impl ConfigText {
    /// The configuration's text, plus `instructions` (the rendered reply
    /// prompts, which also hold the offer and persona).
    pub(crate) fn new(config: &Config, framework: &Framework, instructions: &[String]) -> Self {
        let mut descriptions: Vec<&str> = Vec::new();
        descriptions.extend(config.icp.traits.iter().map(|t| t.text.as_str()));
        descriptions.extend(framework.slots.iter().map(|s| s.description.as_str()));
        let mut me = ConfigText::default();
        me.add(TONE_RUN, false, [config.persona.tone.as_str()]);
        me.add(DESCRIPTION_RUN, true, descriptions);
        me.add(
            INSTRUCTION_RUN,
            true,
            instructions.iter().map(String::as_str),
        );
        for slot in &framework.slots {
            me.allowed.push(Framework::ask_for(slot));
            me.allowed.push(slot.question.clone());
        }
        let dqs = config.icp.disqualifiers.iter().map(|d| d.text.clone());
        me.allowed.extend(dqs);
        me.allowed.push(config.offer.description.clone());
        me.allowed.push(config.offer.name.clone());
        me
    }

    fn add<'a>(&mut self, n: usize, excusable: bool, texts: impl IntoIterator<Item = &'a str>) {
        let grams = texts.into_iter().flat_map(|t| grams(t, n)).collect();
        self.sources.push(Source {
            n,
            grams,
            excusable,
        });
    }

    /// Whether `sentence` copies a run of configuration text that neither
    /// the lead's `lead_text` nor an allowed phrase holds.
    pub(crate) fn copied_in(&self, sentence: &str, lead_text: &str) -> bool {
        self.sources.iter().any(|src| {
            grams(sentence, src.n).iter().any(|g| {
                src.grams.contains(g)
                    && !contains_gram(lead_text, g, src.n)
                    && !(src.excusable && self.allowed.iter().any(|a| contains_gram(a, g, src.n)))
            })
        })
    }
}

fn contains_gram(text: &str, gram: &str, n: usize) -> bool {
    grams(text, n).iter().any(|g| g == gram)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recent(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_sentence_or_opener_sent_before_is_a_repeat() {
        let before = recent(&["Great! I see what you're saying. What do you sell?"]);
        assert!(repeats("Great!", 0, &before));
        assert!(repeats("I see what you're saying.", 1, &before));
        assert!(!repeats("How big is the team?", 1, &before));
        // The same three opening words, another ending: still the same opener.
        let opened = recent(&["Great, I see. What do you sell?"]);
        assert!(repeats("Great, I see your point.", 0, &opened));
        assert!(!repeats("Great, I see your point.", 1, &opened));
        assert!(!repeats("Thanks!", 0, &[]));
    }

    fn config_text() -> ConfigText {
        let c = Config::example();
        let fw = Framework::resolve("pif", &[]).unwrap();
        let instructions = vec![
            "Briefly acknowledge what they just said, then ask what made them reach out. \
             Invite them to take the next step with this link."
                .to_string(),
        ];
        ConfigText::new(&c, &fw, &instructions)
    }

    #[test]
    fn the_instructions_word_for_the_lead_is_found() {
        assert!(reads_instructions(
            "I acknowledge that the lead is asking for a quick question."
        ));
        assert!(reads_instructions("Entiendo que el lead quiere más citas."));
        assert!(!reads_instructions(
            "Thanks! How many leads do you get a week?"
        ));
        assert!(!reads_instructions("We answer every lead within minutes."));
    }

    #[test]
    fn config_text_in_a_reply_is_found() {
        let ct = config_text();
        for copied in [
            "I'll keep this warm, brief, plain-spoken.",
            "Great! Briefly acknowledge what they just said.",
            "Invite them to take the next step with this link.",
            "You're an owner or decision maker, right?",
        ] {
            assert!(ct.copied_in(copied, "hi"), "{copied}");
        }
        for fine in [
            "Thanks for reaching out!",
            "What made you reach out today?",
            "GrowthPilot runs your DMs so you can focus on clients.",
            "Got it, you're the decision maker.",
            "Ready to take the next step?",
            "Sorry, we only serve service businesses.",
            "We run your DMs and fill your calendar, so you can focus on clients.",
        ] {
            assert!(!ct.copied_in(fine, "hi"), "{fine}");
        }
        // The lead's own words are theirs to hear back.
        let said = "I'm the owner or decision maker here";
        assert!(!ct.copied_in("So you're the owner or decision maker.", said));
    }
}
