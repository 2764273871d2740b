//! A value must fit its slot. Span decoding guarantees the lead wrote the
//! words; it does not stop a small model from putting them in the wrong
//! field — the same phrase as pain, outcome and timeline, a business
//! description as "pain", "can we set up a call?" as the desired outcome,
//! "instagram" as a timeline. These checks are about the *kind* of words a
//! role holds, in the languages Setter answers in, not about any one case.

use super::timing::{about_a_call, enclosing, present_state, says_when};
use crate::config::{Framework, SlotRole};
use serde_json::Value;
use std::collections::BTreeMap;

/// Lowercased words, apostrophes kept ("we're", "j'ai"): how the role and
/// voice checks compare a value or sentence with the lead's words.
pub(super) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Words that open a question when a DM leaves out the "?" ("how much do
/// you charge"), in the languages Setter answers in.
/// ("when", "was", "come" also open statements, so they are not here.)
const QUESTION_WORDS: &[&str] = &[
    "how", "what", "what's", "where", "why", "who", "which", "can", "could", "do", "does", "is",
    "are", "will", "would", "cuánto", "cuanto", "cómo", "qué", "cuándo", "dónde", "puedo",
    "puedes", "quanto", "onde", "posso", "combien", "comment", "où", "pouvez", "est-ce", "wie",
    "wann", "wo", "warum", "kann", "können", "kostet", "cosa", "quale", "dove", "perché", "potete",
];

/// Whether the lead wrote `value` inside a question ("can we set up a
/// call?", "how much do you charge"): a request, not a pain or a result
/// they want.
fn asked(value: &str, lead_said: &str) -> bool {
    let is_end = |c: char| matches!(c, '.' | '!' | '?' | '\n');
    let Some((start, end)) = enclosing(value, lead_said, is_end) else {
        return false;
    };
    let ends_with_mark = lead_said[end..].starts_with('?');
    let first = words(&lead_said[start..end])
        .into_iter()
        .next()
        .unwrap_or_default();
    ends_with_mark || QUESTION_WORDS.contains(&first.as_str())
}

/// Whether `value` is a reason not to buy yet ("not right now", "no
/// budget", "solo mirando") — never a pain or a result wanted — or, for a
/// pain (`pain`), a request for the next step ("I'd rather see the demo
/// first", "how much"): what the lead asks for is not what hurts. (An
/// outcome may name calls: "book more discovery calls" is one.)
fn holds_back(value: &str, pain: bool) -> bool {
    super::signals::keyword_signals(value)
        .iter()
        .any(|(signal, _)| match *signal {
            "just_browsing" | "no_budget" | "later" => true,
            "asked_call" | "asked_price" => pain,
            _ => false,
        })
}

/// How a lead says what they are, with an indefinite article ("I'm a
/// business coach", "somos una clínica", "ich bin ein Coach"), in the six
/// languages.
const INTRODUCTIONS: &[(&[&str], &[&str])] = &[
    (&["i'm", "im", "we're", "i am", "we are"], &["a", "an"]),
    (&["soy", "somos"], &["un", "una"]),
    (&["sou", "somos"], &["um", "uma"]),
    (&["ich bin", "wir sind"], &["ein", "eine"]),
    (&["je suis", "nous sommes"], &["un", "une"]),
    (&["sono", "siamo"], &["un", "una", "uno"]),
];

/// Whether `value` opens by saying what the lead is: that describes the
/// business (or the lead), never a pain, a result, a time or a plan.
fn introduces(value: &str) -> bool {
    let w = words(value).join(" ");
    INTRODUCTIONS.iter().any(|(openers, articles)| {
        openers
            .iter()
            .any(|o| articles.iter().any(|a| w.starts_with(&format!("{o} {a} "))))
    })
}

/// Words that name who decides: the lead themself, a role or a relation.
const PERSONS: &[&str] = &[
    "i",
    "i'm",
    "im",
    "me",
    "my",
    "myself",
    "we",
    "us",
    "our",
    "wife",
    "husband",
    "spouse",
    "partner",
    "partners",
    "boss",
    "owner",
    "owners",
    "founder",
    "cofounder",
    "co",
    "ceo",
    "cfo",
    "coo",
    "manager",
    "director",
    "board",
    "team",
    "head",
    "president",
    "vp",
    "principal",
    "yo",
    "mi",
    "mis",
    "nosotros",
    "socio",
    "socia",
    "socios",
    "dueño",
    "dueña",
    "jefe",
    "gerente",
    "directora",
    "eu",
    "meu",
    "minha",
    "nós",
    "sócio",
    "sócia",
    "dono",
    "dona",
    "chefe",
    "diretor",
    "diretora",
    "ich",
    "mein",
    "meine",
    "wir",
    "inhaber",
    "inhaberin",
    "chef",
    "chefin",
    "geschäftsführer",
    "geschäftsführerin",
    "leiter",
    "leiterin",
    "je",
    "moi",
    "mon",
    "ma",
    "nous",
    "associé",
    "associée",
    "patron",
    "patronne",
    "gérant",
    "gérante",
    "directeur",
    "directrice",
    "io",
    "mio",
    "mia",
    "noi",
    "titolare",
    "capo",
    "direttore",
    "direttrice",
    "responsabile",
];

/// Whether an authority value names a person ("the owner", "my partner
/// and I", "la directora"): "the next step" says nothing about who decides.
fn names_a_person(value: &str) -> bool {
    words(value).iter().any(|w| PERSONS.contains(&w.as_str()))
}

/// Whether one value holds the other (normalised words).
fn overlaps(a: &str, b: &str) -> bool {
    let (a, b) = (words(a).join(" "), words(b).join(" "));
    !a.is_empty() && !b.is_empty() && (a.contains(&b) || b.contains(&a))
}

/// Removes values that do not fit their slot's role; returns the removed
/// slot ids. `known` are values from earlier turns, which keep their words.
pub(crate) fn drop_implausible(
    framework: &Framework,
    slots: &mut BTreeMap<String, Value>,
    known: &BTreeMap<String, Value>,
    lead_said: &str,
) -> Vec<String> {
    let before = slots.clone();
    let mut dropped = Vec::new();
    for (i, slot) in framework.slots.iter().enumerate() {
        let Some(value) = slots.get(&slot.id).and_then(text) else {
            continue;
        };
        // The same words already stand for another slot: one from an earlier
        // turn, or one this turn whose role claims them first.
        let taken = framework.slots.iter().enumerate().any(|(j, o)| {
            j != i
                && known
                    .get(&o.id)
                    .and_then(text)
                    .filter(|_| !slots.contains_key(&o.id))
                    .is_some_and(|e| overlaps(&e, &value))
        }) || outranked(framework, i, &value, slots);
        // One phrase in many fields is the model not knowing where it goes:
        // it may only go where its role ranks first, and there it does not
        // replace what the lead said earlier.
        let claims = before
            .values()
            .filter_map(Value::as_str)
            .filter(|o| overlaps(o, &value))
            .count();
        let unsure = claims >= UNSURE_CLAIMS
            && (outranked(framework, i, &value, &before)
                || known
                    .get(&slot.id)
                    .and_then(text)
                    .is_some_and(|k| !overlaps(&k, &value)));
        if misplaced(slot.role, &value, lead_said) || taken || unsure {
            slots.remove(&slot.id);
            dropped.push(slot.id.clone());
        }
    }
    dropped
}

/// A slot value as text (`None` for other JSON).
fn text(value: &Value) -> Option<String> {
    value.as_str().map(str::to_string)
}

/// Whether `value` does not fit `role` on its own: a greeting or interest
/// in the offer ("hello", "more info") is no fact about the lead in any
/// field (money and time have their own checks: "5k" is short but says
/// something); a timeline must say when; a pain or outcome is neither a
/// question nor a reason to wait.
fn misplaced(role: SlotRole, value: &str, lead_said: &str) -> bool {
    let empty = !matches!(role, SlotRole::Budget | SlotRole::Timing)
        && !super::filler::says_something(value);
    empty
        || (!matches!(role, SlotRole::Fit | SlotRole::Authority) && introduces(value))
        || (role == SlotRole::Authority && !names_a_person(value))
        || match role {
            SlotRole::Timing => {
                !says_when(value) || about_a_call(value, lead_said) || present_state(value)
            }
            SlotRole::Pain => asked(value, lead_said) || holds_back(value, true),
            SlotRole::Outcome => asked(value, lead_said) || holds_back(value, false),
            _ => false,
        }
}

/// Whether a field whose role ranks before slot `i`'s holds `value` in `slots`.
fn outranked(
    framework: &Framework,
    i: usize,
    value: &str,
    slots: &BTreeMap<String, Value>,
) -> bool {
    let mine = (rank(framework.slots[i].role), i);
    framework.slots.iter().enumerate().any(|(j, o)| {
        (rank(o.role), j) < mine
            && slots
                .get(&o.id)
                .and_then(text)
                .is_some_and(|n| overlaps(&n, value))
    })
}

/// How many fields holding one phrase make it a phrase the model could not
/// place: a small model that cannot tell copies the newest message into
/// every field ("I'm the owner, it's my call" as business, pain, outcome,
/// timeline and budget).
const UNSURE_CLAIMS: usize = 3;

/// Which role a phrase most plausibly belongs to when two fields hold it:
/// what the business is, money and time are concrete; a pain is more often
/// mislabelled as an outcome than the other way round.
fn rank(role: SlotRole) -> u8 {
    match role {
        SlotRole::Fit => 0,
        SlotRole::Budget => 1,
        SlotRole::Timing => 2,
        SlotRole::Authority => 3,
        SlotRole::Pain => 4,
        SlotRole::Outcome => 5,
        SlotRole::Other => 6,
    }
}

#[cfg(test)]
#[path = "plausible_tests.rs"]
mod tests;
