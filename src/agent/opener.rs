//! The instant opener: a new lead's first reply, written from
//! `prompts/opener.j2` in code — a greeting (with the lead's name when the
//! platform gave one), what the lead asked for (the price, that this is an
//! assistant) and the framework's first question, in the lead's language.
//! "The first reply doesn't have to be the smart one. It has to be the fast
//! one": on 2 cores the model's first reply takes 10–16 s; this one takes
//! milliseconds, and extraction scores the message right after it is sent
//! (see [`super::deferred`]).

use super::directives::{self, Directives};
use super::plan::{Action, Plan};
use crate::config::{Config, Framework, Slot};
use serde_json::{json, Value};
use whatlang::Lang;

/// The built-in frameworks' first questions in the languages Setter
/// answers in: (English literal, es, pt, fr, de, it).
const FIRST_QUESTIONS: &[[&str; 6]] = &[
    [
        "What made you reach out today?",
        "¿Qué te hizo escribirnos hoy?",
        "O que fez você nos procurar hoje?",
        "Qu'est-ce qui vous a amené à nous écrire aujourd'hui ?",
        "Was hat Sie dazu gebracht, uns heute zu schreiben?",
        "Cosa ti ha spinto a scriverci oggi?",
    ],
    [
        "What do you need help with right now?",
        "¿Con qué necesitas ayuda ahora mismo?",
        "Com o que você precisa de ajuda agora?",
        "Sur quoi avez-vous besoin d'aide en ce moment ?",
        "Wobei brauchen Sie gerade Hilfe?",
        "In cosa ti serve aiuto in questo momento?",
    ],
    [
        "What are you hoping to achieve?",
        "¿Qué esperas lograr?",
        "Qual resultado você espera alcançar?",
        "Qu'espérez-vous accomplir ?",
        "Was möchten Sie erreichen?",
        "Cosa speri di ottenere?",
    ],
    [
        "What's getting in the way right now?",
        "¿Qué te está frenando ahora mismo?",
        "O que mais atrapalha você hoje?",
        "Qu'est-ce qui vous bloque en ce moment ?",
        "Was steht Ihnen gerade im Weg?",
        "Cosa ti sta bloccando in questo momento?",
    ],
    [
        "What problem are you trying to solve?",
        "¿Qué problema quieres resolver?",
        "Qual problema você quer resolver hoje?",
        "Quel problème cherchez-vous à résoudre ?",
        "Welches Problem möchten Sie lösen?",
        "Quale problema vuoi risolvere?",
    ],
];

/// The languages the opener is written in, by ISO 639-1 code; any other
/// gets English.
fn code(lang: Lang) -> &'static str {
    match lang {
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ita => "it",
        _ => "en",
    }
}

/// `slot`'s literal question in `lang`: a built-in first question is
/// translated; any other (a custom slot's `ask`) is used as written.
pub(crate) fn question(slot: &Slot, lang: Lang) -> String {
    let literal = Framework::ask_for(slot);
    let column = match code(lang) {
        "es" => 1,
        "pt" => 2,
        "fr" => 3,
        "de" => 4,
        "it" => 5,
        _ => 0,
    };
    FIRST_QUESTIONS
        .iter()
        .find(|row| row[0] == literal)
        .map(|row| row[column].to_string())
        .unwrap_or(literal)
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
        "lang": code(lang),
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
    fn every_built_in_first_question_is_translated() {
        for id in [
            "pif",
            "bant",
            "gpct",
            "champ",
            "meddic",
            "faint",
            "gpctba-ci",
        ] {
            let fw = Framework::resolve(id, &[]).unwrap();
            let first = fw
                .slots
                .iter()
                .find(|s| s.role != crate::config::SlotRole::Budget)
                .unwrap();
            for lang in [Lang::Spa, Lang::Por, Lang::Fra, Lang::Deu, Lang::Ita] {
                let q = question(first, lang);
                assert_ne!(q, Framework::ask_for(first), "{id} {lang:?}");
                assert_eq!(
                    crate::agent::language::detect(&q),
                    Some(lang),
                    "{id}: {q:?} does not read as {lang:?}"
                );
            }
        }
    }

    #[test]
    fn only_a_plain_name_is_used() {
        assert_eq!(first_name(Some("Ana María López")), Some("Ana".into()));
        assert_eq!(first_name(Some("🔥 deals")), None);
        assert_eq!(first_name(Some("user_12345")), None);
        assert_eq!(first_name(None), None);
    }
}
