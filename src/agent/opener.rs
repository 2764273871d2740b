//! The instant opener: a new lead's first reply, written from
//! `prompts/opener.j2` in code — a greeting (with the lead's name when the
//! platform gave one), what the lead asked for (the price, that this is an
//! assistant) and the framework's first question, in the lead's language.
//! "The first reply doesn't have to be the smart one. It has to be the fast
//! one": on 2 cores the model's first reply takes 10–16 s; this one takes
//! milliseconds, and extraction scores the message right after it is sent
//! (see [`super::deferred`]).

use super::directives::{self, Directives};
use super::localized;
use super::plan::{Action, Plan};
use crate::config::{Config, Framework, Slot};
use serde_json::{json, Value};
use whatlang::Lang;

/// `slot`'s literal question in `lang` (see [`super::localized`]).
pub(crate) fn question(slot: &Slot, lang: Lang) -> String {
    localized::question(&Framework::ask_for(slot), lang)
}

/// Whether a code-only plan (keywords, no extraction) can be answered by
/// the opener: it asks a question. A keyword disqualifier (decline) or a
/// lead ready to buy (close) waits for the model.
pub(crate) fn fits(plan: &Plan) -> bool {
    plan.action == Action::Ask && plan.slot.is_some()
}

/// The first word of the lead's display name, when it reads as a name.
fn first_name(name: Option<&str>) -> Option<String> {
    let first = name?.split_whitespace().next()?;
    let letters = first
        .chars()
        .all(|c| c.is_alphabetic() || c == '-' || c == '\'');
    (letters && first.chars().count() <= 30).then(|| first.to_string())
}

/// What `opener.j2` sees. `slot` is the plan's; `lead_name` the platform's
/// display name of the lead.
pub(crate) fn context(
    config: &Config,
    slot: &Slot,
    directives: Directives,
    lang: Lang,
    lead_name: Option<&str>,
) -> Value {
    let (persona, offer) = (&config.persona, &config.offer);
    let price = directives
        .answer_price
        .then(|| directives::price_sentence(lang, offer));
    let assistant = directives
        .say_assistant
        .then(|| directives::assistant_sentence(lang, persona, offer));
    json!({
        "lang": localized::code(lang),
        "name": first_name(lead_name),
        "persona": persona,
        "offer": {"name": offer.name},
        "assistant": assistant,
        "price": price,
        "question": question(slot, lang),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_name_is_used() {
        assert_eq!(first_name(Some("Ana María López")), Some("Ana".into()));
        assert_eq!(first_name(Some("🔥 deals")), None);
        assert_eq!(first_name(Some("user_12345")), None);
        assert_eq!(first_name(None), None);
    }
}
