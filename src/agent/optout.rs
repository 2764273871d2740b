//! Opt-out, decided in code: a lead who asks to stop hearing from the
//! business is acknowledged once and never messaged again (no replies, no
//! follow-ups). Platforms and the law expect it; a small model cannot be
//! trusted to notice it, so the words are matched here, in the five
//! languages Setter's keywords cover.
//!
//! Two kinds of match: the whole message is a stop word ("STOP", "para",
//! "arrête"), or it contains an explicit request ("unsubscribe", "no more
//! messages", "no me escribas más"). A sentence that merely contains "stop"
//! ("stop wasting my time") is not an opt-out.

/// Whole messages that mean "stop" on their own.
const STOP_WORDS: &[&str] = &[
    "stop",
    "unsubscribe",
    "cancel",
    "quit",
    "end",
    "opt out",
    "optout",
    "para",
    "basta",
    "baja",
    "pare",
    "parar",
    "sair",
    "arrête",
    "arreter",
    "arrêter",
    "stopp",
    "abmelden",
    "halt",
];

/// Phrases that are an opt-out wherever they appear.
const PHRASES: &[&str] = &[
    "unsubscribe",
    "no more messages",
    "stop messaging me",
    "stop texting me",
    "stop contacting me",
    "don't message me",
    "do not message me",
    "don't contact me",
    "do not contact me",
    "remove me from",
    "stop spamming",
    "leave me alone",
    "deja de mandarme spam",
    "déjame en paz",
    "dejame en paz",
    "pare de mandar spam",
    "me deixe em paz",
    "me deixa em paz",
    "arrêtez de spammer",
    "laissez-moi tranquille",
    "fichez-moi la paix",
    "hör auf zu spammen",
    "hören sie auf zu spammen",
    "lass mich in ruhe",
    "lassen sie mich in ruhe",
    "no me escribas",
    "deja de escribirme",
    "dejen de escribirme",
    "no me contacten",
    "no quiero más mensajes",
    "não me mande mais",
    "pare de me mandar",
    "não quero mais mensagens",
    "ne m'écrivez plus",
    "arrêtez de m'écrire",
    "ne me contactez plus",
    "désabonner",
    "schreiben sie mir nicht mehr",
    "schreib mir nicht mehr",
    "keine nachrichten mehr",
    "kontaktieren sie mich nicht",
];

/// Whether `text` asks to stop receiving messages.
pub(crate) fn asks_to_stop(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let bare = t.trim_matches(|c: char| !c.is_alphanumeric());
    STOP_WORDS.contains(&bare) || PHRASES.iter().any(|p| t.contains(p))
}

/// The one acknowledgment, in the lead's language when it is one of these.
pub(crate) fn acknowledgment(language: Option<whatlang::Lang>) -> &'static str {
    use whatlang::Lang;
    match language {
        Some(Lang::Spa) => "Entendido, no te escribiremos más. Si cambias de idea, escríbenos aquí.",
        Some(Lang::Por) => "Entendido, não vamos mais escrever. Se mudar de ideia, é só mandar uma mensagem aqui.",
        Some(Lang::Fra) => "C'est noté, nous ne vous écrirons plus. Si vous changez d'avis, écrivez-nous ici.",
        Some(Lang::Deu) => "Verstanden, wir schreiben Ihnen nicht mehr. Wenn Sie es sich anders überlegen, schreiben Sie uns einfach hier.",
        _ => "Understood, we won't message you again. If you change your mind, just write here.",
    }
}

#[cfg(test)]
mod tests {
    use super::asks_to_stop;

    #[test]
    fn explicit_requests_in_five_languages_are_opt_outs() {
        for text in [
            "STOP",
            "Stop.",
            "unsubscribe me please",
            "please, no more messages",
            "Para",
            "no me escribas más",
            "Não me mande mais mensagens",
            "Arrête !",
            "Ne m'écrivez plus, merci",
            "Bitte keine Nachrichten mehr",
            "stopp",
            "is this another scam bot? stop spamming me",
            "Leave me alone.",
            "déjame en paz",
            "me deixe em paz, por favor",
            "Laissez-moi tranquille",
            "Lass mich in Ruhe!",
        ] {
            assert!(asks_to_stop(text), "{text}");
        }
    }

    #[test]
    fn a_sentence_that_only_contains_stop_is_not() {
        for text in [
            "stop wasting my time with bots, what does it cost?",
            "we need to stop losing leads at night",
            "para qué sirve esto?",
            "I want to end the month with more clients",
        ] {
            assert!(!asks_to_stop(text), "{text}");
        }
    }
}
