//! Replies written in the lead's voice. A small model continues the chat as
//! whoever spoke last, so to "Hi! I saw your ad and wanted to know more" it
//! answers "Hi! I saw your ad…": the business telling the lead it saw its own
//! ad. These phrases only ever make sense from the lead, so a reply sentence
//! that holds one is dropped, in the languages Setter answers in.

use super::signals::contains_phrase;

/// A lead's words about the business's ad or offer, never the business's.
const LEAD_PHRASES: &[&str] = &[
    "i saw your ad",
    "i saw your post",
    "i saw your video",
    "i saw your page",
    "i came across your",
    "i found your ad",
    "wanted to know more about the program",
    "want to know more about the program",
    "wanted to know more about your",
    "want to know more about your",
    "would like to know more about your",
    "i'd like to know more about your",
    "i'm interested in your",
    "i am interested in your",
    "i'm interested in the program",
    "i am interested in the program",
    "tell me more about your program",
    "tell me more about your service",
    "vi tu anuncio",
    "vi su anuncio",
    "vi vuestro anuncio",
    "me interesa tu programa",
    "me interesa su programa",
    "quiero saber más sobre tu",
    "quiero saber más sobre su",
    "vi seu anúncio",
    "vi o seu anúncio",
    "vi o anúncio de vocês",
    "tenho interesse no programa",
    "quero saber mais sobre o seu",
    "j'ai vu votre annonce",
    "j'ai vu ton annonce",
    "je suis intéressé par votre",
    "je suis intéressée par votre",
    "ich habe ihre anzeige gesehen",
    "ich habe deine anzeige gesehen",
    "ich interessiere mich für ihr",
    "ho visto il vostro annuncio",
    "ho visto il tuo annuncio",
    "sono interessato al vostro",
    "sono interessata al vostro",
];

/// Whether `sentence` speaks as the lead ("I saw your ad").
pub(crate) fn speaks_as_lead(sentence: &str) -> bool {
    LEAD_PHRASES.iter().any(|p| contains_phrase(sentence, p))
}

#[cfg(test)]
mod tests {
    use super::speaks_as_lead;

    #[test]
    fn the_lead_s_lines_are_recognised_in_six_languages() {
        for s in [
            "Hi! I saw your ad and wanted to know more about the program.",
            "I'm interested in your program.",
            "¡Hola! Vi tu anuncio.",
            "Olá! Vi seu anúncio.",
            "Bonjour, j'ai vu votre annonce.",
            "Hallo, ich habe Ihre Anzeige gesehen.",
            "Ciao, ho visto il vostro annuncio.",
        ] {
            assert!(speaks_as_lead(s), "{s}");
        }
        for s in [
            "Thanks for reaching out about the program!",
            "Glad our ad caught your eye.",
            "What made you reach out today?",
        ] {
            assert!(!speaks_as_lead(s), "{s}");
        }
    }
}
