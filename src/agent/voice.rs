//! Replies written in the lead's voice. A small model continues the chat as
//! whoever spoke last, so to "Hi! I saw your ad and wanted to know more" it
//! answers "Hi! I saw your ad…": the business telling the lead it saw its own
//! ad. These phrases only ever make sense from the lead, so a reply sentence
//! that holds one is dropped, in the languages Setter answers in.

use super::plausible::words;
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

/// Words a speaker uses about themselves, in the languages Setter answers in.
const FIRST_PERSON: &[&str] = &[
    "i", "i'm", "im", "my", "we", "we're", "our", "me", "yo", "mi", "nosotros", "nuestro",
    "nuestra", "tengo", "tenemos", "eu", "meu", "minha", "nós", "nosso", "nossa", "tenho", "temos",
    "je", "j", "nous", "notre", "mon", "ma", "ich", "wir", "mein", "meine", "unser", "unsere",
    "habe", "haben", "io", "noi", "mio", "mia", "nostro", "nostra", "ho", "abbiamo",
];

/// How many words in a row a reply may share with a lead's first-person
/// statement before it is the lead's statement, not an answer to it.
const ECHO_WORDS: usize = 4;

/// Whether `sentence` speaks as the lead: a phrase only a lead says ("I saw
/// your ad"), or a first-person statement of the lead's copied back ("Ich
/// habe eine kleine Agentur…" answering a lead who wrote exactly that) — the
/// small model continuing the chat as the lead, in any language.
pub(crate) fn speaks_as_lead(sentence: &str, lead_said: &str) -> bool {
    LEAD_PHRASES.iter().any(|p| contains_phrase(sentence, p)) || echoes(sentence, lead_said)
}

/// Whether `sentence` holds [`ECHO_WORDS`] words in a row of `lead_said`
/// with a first-person word among them.
fn echoes(sentence: &str, lead_said: &str) -> bool {
    let (said, ours) = (words(lead_said), words(sentence));
    ours.windows(ECHO_WORDS).any(|w| {
        w.iter().any(|x| FIRST_PERSON.contains(&x.as_str()))
            && said.windows(ECHO_WORDS).any(|l| l == w)
    })
}

#[cfg(test)]
mod tests {
    use super::speaks_as_lead;

    #[test]
    fn a_first_person_statement_of_the_lead_copied_back_is_the_lead_s_voice() {
        let said = "Hallo, ich habe eine kleine Agentur in Berlin.\nWir bekommen viele Anfragen";
        assert!(speaks_as_lead(
            "Ja, ich verstehe. Ich habe eine kleine Agentur in Berlin und möchte mehr.",
            said
        ));
        // Echoing the lead's words in the second person is an answer.
        assert!(!speaks_as_lead(
            "Sie haben eine kleine Agentur in Berlin, verstehe.",
            said
        ));
        assert!(!speaks_as_lead(
            "Wie viele Anfragen bekommen Sie pro Woche?",
            said
        ));
    }

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
            assert!(speaks_as_lead(s, ""), "{s}");
        }
        for s in [
            "Thanks for reaching out about the program!",
            "Glad our ad caught your eye.",
            "What made you reach out today?",
        ] {
            assert!(!speaks_as_lead(s, ""), "{s}");
        }
    }
}
