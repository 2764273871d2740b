//! "Can I talk to a person?", decided in code in the languages Setter's
//! keywords cover: the lead is handed to a human at once, and told what
//! happens next, instead of being asked another qualifying question.

/// Phrases asking for a human, matched anywhere in the message.
const PHRASES: &[&str] = &[
    "talk to a human",
    "speak to a human",
    "talk to a person",
    "speak to a person",
    "talk to a real person",
    "speak to a real person",
    "real person",
    "talk to someone",
    "speak to someone",
    "talk to an agent",
    "human agent",
    "hablar con una persona",
    "hablar con alguien",
    "hablar con un humano",
    "persona real",
    "falar com uma pessoa",
    "falar com alguém",
    "falar com um humano",
    "pessoa de verdade",
    "parler à un humain",
    "parler à quelqu'un",
    "parler à une personne",
    "une vraie personne",
    "mit einem menschen sprechen",
    "mit jemandem sprechen",
    "echten menschen",
];

/// Whether `text` asks for a human.
pub(crate) fn asks_for_human(text: &str) -> bool {
    let t = text.to_lowercase();
    PHRASES.iter().any(|p| t.contains(p))
}

/// What the lead is told when a human takes over: who, and the booking link
/// when there is one.
pub(crate) fn next_steps(language: Option<whatlang::Lang>, booking_url: &str) -> String {
    use whatlang::Lang;
    let (who, link) = match language {
        Some(Lang::Spa) => (
            "¡Claro! Un especialista te escribirá por aquí en breve.",
            "Si prefieres, elige un horario aquí:",
        ),
        Some(Lang::Por) => (
            "Claro! Um especialista vai falar com você por aqui em breve.",
            "Se preferir, escolha um horário aqui:",
        ),
        Some(Lang::Fra) => (
            "Bien sûr ! Un spécialiste va vous écrire ici très vite.",
            "Si vous préférez, choisissez un créneau ici :",
        ),
        Some(Lang::Deu) => (
            "Natürlich! Ein Spezialist meldet sich hier in Kürze bei Ihnen.",
            "Wenn Sie möchten, wählen Sie hier einen Termin:",
        ),
        _ => (
            "Of course! A specialist will message you here shortly.",
            "If you prefer, pick a time here:",
        ),
    };
    match booking_url.is_empty() {
        true => who.to_string(),
        false => format!("{who} {link} {booking_url}"),
    }
}

#[cfg(test)]
mod tests {
    use super::asks_for_human;

    #[test]
    fn requests_for_a_human_are_recognised_in_five_languages() {
        for text in [
            "can I talk to a real person?",
            "Quiero hablar con una persona, por favor",
            "posso falar com alguém?",
            "Je voudrais parler à un humain",
            "Kann ich mit einem Menschen sprechen?",
        ] {
            assert!(asks_for_human(text), "{text}");
        }
        assert!(!asks_for_human("we are a team of five people"));
    }
}
