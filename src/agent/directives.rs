//! What a reply must say, decided in code before the model writes it: the
//! price when the lead asks for it, and the truth when the lead asks whether
//! they are talking to a bot. The model words both (the reply prompt names
//! them); code checks the wording and, when the model left one out, adds a
//! sentence of its own in the lead's language. A 1.5B model answered "what
//! does it cost?" with a link and no price; a lead who asks "are you a bot?"
//! must never be told otherwise.

use super::money;
use super::signals::{contains_phrase, keyword_signals, parse_amount};
use crate::config::{Offer, Persona};
use serde::Serialize;
use whatlang::Lang;

/// The plan's directives for one reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Directives {
    /// The lead asked the price: the reply states the configured one.
    pub answer_price: bool,
    /// The lead asked whether they talk to a bot: the reply says it is an
    /// assistant.
    pub say_assistant: bool,
}

impl Directives {
    /// The directives the lead's newest messages call for.
    pub fn for_messages(text: &str) -> Directives {
        Directives {
            answer_price: asks_price(text),
            say_assistant: asks_if_bot(text),
        }
    }
}

/// Whether `text` asks what the offer costs (the `asked_price` keywords).
pub(crate) fn asks_price(text: &str) -> bool {
    keyword_signals(text)
        .iter()
        .any(|(signal, _)| *signal == "asked_price")
}

/// Phrases asking whether a person or a machine is writing, in the six
/// languages Setter answers in. Matched as whole words.
const BOT_QUESTIONS: &[&str] = &[
    "are you a bot",
    "are you a robot",
    "are you an ai",
    "are you ai",
    "are you human",
    "are you a human",
    "are you a real person",
    "are you real",
    "is this a bot",
    "is this an ai",
    "is this automated",
    "am i talking to a bot",
    "am i talking to a human",
    "am i talking to a person",
    "am i talking to an ai",
    "talking to a bot",
    "chatbot",
    "eres un bot",
    "eres un robot",
    "eres una ia",
    "eres humano",
    "eres humana",
    "eres una persona",
    "es un bot",
    "hablo con un bot",
    "hablo con una persona",
    "você é um bot",
    "voce e um bot",
    "você é um robô",
    "você é humano",
    "você é humana",
    "é um bot",
    "é uma ia",
    "falo com um bot",
    "estou falando com um bot",
    "êtes vous un bot",
    "êtes vous un robot",
    "es tu un bot",
    "tu es un bot",
    "c'est un bot",
    "vous êtes un bot",
    "êtes vous humain",
    "est ce un bot",
    "bist du ein bot",
    "sind sie ein bot",
    "bist du ein mensch",
    "sind sie ein mensch",
    "ist das ein bot",
    "bist du eine ki",
    "sind sie eine ki",
    "rede ich mit einem bot",
    "sei un bot",
    "sei un robot",
    "è un bot",
    "sei umano",
    "sei una persona",
    "sto parlando con un bot",
];

/// Words that, in a question, make it a question about who is writing
/// ("is this another scam bot?", "¿hablo con una IA?").
const BOT_WORDS: &[&str] = &[
    "bot",
    "bots",
    "robot",
    "robô",
    "chatbot",
    "ai",
    "a.i",
    "ia",
    "ki",
    "automated",
    "automatizado",
    "automatique",
    "automatisiert",
];

/// Whether `text` asks if a bot (not a person) is writing: one of the
/// phrases, or a question that names a bot.
pub(crate) fn asks_if_bot(text: &str) -> bool {
    BOT_QUESTIONS.iter().any(|p| contains_phrase(text, p))
        || super::topics::questions(text)
            .iter()
            .any(|q| BOT_WORDS.iter().any(|w| contains_phrase(q, w)))
}

/// Words that, in a reply, say the writer is an assistant (not a person).
const ASSISTANT_WORDS: &[&str] = &[
    "assistant",
    "bot",
    "chatbot",
    "ai",
    "virtual",
    "automated",
    "asistente",
    "ia",
    "automático",
    "automatizado",
    "assistente",
    "robô",
    "assistante",
    "automatique",
    "assistent",
    "assistentin",
    "ki",
    "automatisiert",
    "virtuale",
];

/// Whether `sentence` denies being a bot ("I'm not a bot", "I'm a real
/// person"): never sent to a lead who asked.
pub(crate) fn denies_bot(sentence: &str) -> bool {
    DENIALS.iter().any(|d| contains_phrase(sentence, d))
}

/// Whether `reply` tells the lead it is an assistant. A denial ("I'm not a
/// bot") names the word too, so one is never taken as a disclosure.
pub(crate) fn says_assistant(reply: &str) -> bool {
    !denies_bot(reply) && ASSISTANT_WORDS.iter().any(|w| contains_phrase(reply, w))
}

/// What a writer says when it claims to be a person.
const DENIALS: &[&str] = &[
    "not a bot",
    "not a robot",
    "not an ai",
    "not ai",
    "real person",
    "i'm a human",
    "i am a human",
    "i'm human",
    "i am human",
    "no soy un bot",
    "no soy un robot",
    "não sou um bot",
    "não sou um robô",
    "pas un bot",
    "pas un robot",
    "kein bot",
    "keine ki",
    "non sono un bot",
];

/// Code's own disclosure, in the lead's language.
pub(crate) fn assistant_sentence(lang: Lang, persona: &Persona, offer: &Offer) -> String {
    let (name, offer) = (&persona.name, &offer.name);
    match lang {
        Lang::Spa => format!("Soy {name}, la asistente virtual de {offer}."),
        Lang::Por => format!("Sou {name}, a assistente virtual da {offer}."),
        Lang::Fra => format!("Je suis {name}, l'assistante virtuelle de {offer}."),
        Lang::Deu => format!("Ich bin {name}, die virtuelle Assistentin von {offer}."),
        Lang::Ita => format!("Sono {name}, l'assistente virtuale di {offer}."),
        _ => format!("I'm {name}, {offer}'s virtual assistant."),
    }
}

/// The configured price as people write it (2000, 49.50).
pub(crate) fn price_text(price: f64) -> String {
    if price.fract() == 0.0 {
        format!("{price:.0}")
    } else {
        format!("{price:.2}")
    }
}

/// Code's own price sentence, in the lead's language.
pub(crate) fn price_sentence(lang: Lang, offer: &Offer) -> String {
    let (price, cur) = (price_text(offer.price), &offer.currency);
    match lang {
        Lang::Spa => format!("El precio es desde {price} {cur}."),
        Lang::Por => format!("O preço é a partir de {price} {cur}."),
        Lang::Fra => format!("Le prix est à partir de {price} {cur}."),
        Lang::Deu => format!("Der Preis liegt bei ab {price} {cur}."),
        Lang::Ita => format!("Il prezzo parte da {price} {cur}."),
        _ => format!("It starts at {price} {cur}."),
    }
}

/// Whether `sentence` states `price` (as 2000, 2,000, 2.000, $2000 or 2k).
pub(crate) fn states_price(sentence: &str, price: f64) -> bool {
    sentence
        .split_whitespace()
        .filter_map(parse_amount)
        .any(|n| (n - price).abs() < 0.005)
}

/// Whether `sentence` names an amount of money other than `price` (an
/// invented price or discount).
pub(crate) fn states_other_price(sentence: &str, price: f64) -> bool {
    money::amounts(sentence)
        .iter()
        .any(|m| (m.amount - price).abs() >= 0.005 && (m.monthly() - price).abs() >= 0.005)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_questions_are_recognised_in_six_languages() {
        for text in [
            "wait, are you a bot?",
            "Am I talking to a human or AI?",
            "¿Eres un bot?",
            "você é um bot?",
            "Vous êtes un bot ?",
            "Bist du ein Bot?",
            "Sind Sie ein Mensch?",
            "sei un bot?",
            "is this another scam bot? stop spamming me",
            "¿Hablo con una IA?",
        ] {
            assert!(asks_if_bot(text), "{text}");
        }
        for text in [
            "we use a chat widget on the site",
            "I run a robotics company",
            "how much is it?",
            "we tried a bot last year. What do you charge?",
        ] {
            assert!(!asks_if_bot(text), "{text}");
        }
    }

    #[test]
    fn a_disclosure_is_told_from_a_denial() {
        assert!(says_assistant("Yes, I'm Maya, an AI assistant."));
        assert!(says_assistant("Sí, soy una asistente virtual."));
        assert!(says_assistant("Ja, ich bin eine KI-Assistentin."));
        assert!(!says_assistant(
            "No, I'm not a bot! What made you reach out?"
        ));
        assert!(!says_assistant("I'm a real person, promise."));
        assert!(!says_assistant("Great question! What do you sell?"));
    }

    #[test]
    fn prices_are_read_in_the_formats_replies_use() {
        assert!(states_price("It's $2,000 a month.", 2000.0));
        assert!(states_price("Cuesta 2.000 USD.", 2000.0));
        assert!(states_price("From 2k.", 2000.0));
        assert!(!states_price("It's 90 days.", 2000.0));
        assert!(states_other_price("Only $500 this week!", 2000.0));
        assert!(!states_other_price("It's $2,000 a month.", 2000.0));
        assert!(!states_other_price("In 90 days.", 2000.0));
    }

    #[test]
    fn directives_follow_the_lead_s_words() {
        let d = Directives::for_messages("how much does it cost? are you a bot?");
        assert!(d.answer_price && d.say_assistant);
        assert_eq!(
            Directives::for_messages("I run a gym"),
            Directives::default()
        );
        let offer = crate::config::Config::example().offer;
        assert_eq!(
            price_sentence(Lang::Spa, &offer),
            "El precio es desde 2000 USD."
        );
    }
}
