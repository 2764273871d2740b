//! Words that say nothing about a lead: greetings, "I saw your ad", "I'd like
//! to know more", in the languages leads write in. A model's trait claim that
//! rests only on such words is no evidence (a greeting never makes a fit).

use super::signals::contains_phrase;

/// Greetings, pleasantries and interest in *our* offer, longest first.
const FILLER: &[&str] = &[
    "wanted to know more about",
    "want to know more about",
    "would like to know more",
    "wanted to know more",
    "want to know more",
    "know more",
    "learn more",
    "more info",
    "more information",
    "i saw your",
    "saw your",
    "your ad",
    "your post",
    "your video",
    "your website",
    "your page",
    "the program",
    "your program",
    "your service",
    "i'm interested",
    "interested",
    "good morning",
    "good afternoon",
    "good evening",
    "hi there",
    "hello there",
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank you",
    "please",
    "quiero saber más",
    "saber más",
    "me interesa",
    "vi su anuncio",
    "vi tu anuncio",
    "buenos días",
    "buenas tardes",
    "buenas",
    "hola",
    "gracias",
    "quero saber mais",
    "saber mais",
    "tenho interesse",
    "vi seu anúncio",
    "bom dia",
    "boa tarde",
    "olá",
    "oi",
    "obrigado",
    "obrigada",
    "mehr erfahren",
    "mehr wissen",
    "interessiert",
    "ihre anzeige",
    "guten tag",
    "hallo",
    "danke",
    "en savoir plus",
    "intéressé",
    "intéressée",
    "votre annonce",
    "bonjour",
    "salut",
    "merci",
    "saperne di più",
    "interessato",
    "ciao",
    "buongiorno",
    "grazie",
];

/// Words too small to carry a fact.
const SMALL: &[&str] = &[
    "the", "and", "about", "with", "for", "you", "your", "this", "that", "wanted", "want", "would",
    "like", "just", "some", "una", "uno", "los", "las", "que", "por", "para", "con", "del", "mais",
    "sobre", "und", "der", "die", "das", "mit", "ich", "bin", "les", "des", "pour", "avec", "vous",
    "vorrei", "are", "was", "i'm", "have", "had",
];

/// Whether `quote` says something beyond greetings and interest in the offer:
/// at least one word of three or more letters that is not filler.
pub(crate) fn says_something(quote: &str) -> bool {
    let mut rest = format!(" {} ", quote.to_lowercase());
    for f in FILLER {
        while contains_phrase(&rest, f) {
            rest = strip_phrase(&rest, f);
        }
    }
    rest.split(|c: char| !c.is_alphanumeric())
        .any(|w| w.chars().count() >= 3 && !SMALL.contains(&w))
}

/// `text` with the first whole-word occurrence of `phrase` blanked out.
fn strip_phrase(text: &str, phrase: &str) -> String {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .collect();
    let wanted: Vec<&str> = phrase.split_whitespace().collect();
    let at = words
        .windows(wanted.len())
        .position(|w| w.iter().zip(&wanted).all(|(a, b)| a == b));
    match at {
        Some(i) => {
            let kept: Vec<&str> = words[..i]
                .iter()
                .chain(&words[i + wanted.len()..])
                .copied()
                .collect();
            format!(" {} ", kept.join(" "))
        }
        // contains_phrase matched across punctuation this split keeps: stop.
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::says_something;

    #[test]
    fn greetings_and_interest_say_nothing_in_six_languages() {
        for quote in [
            "Hi! I saw your ad and wanted to know more about the program.",
            "I saw your ad",
            "know more",
            "Hola, me interesa, quiero saber más",
            "Olá! Vi seu anúncio, tenho interesse",
            "Hallo, ich bin interessiert",
            "Bonjour, j'ai vu votre annonce",
            "Ciao, vorrei saperne di più",
        ] {
            assert!(!says_something(quote), "{quote:?}");
        }
    }

    #[test]
    fn facts_say_something() {
        for quote in [
            "plumbing company",
            "I run ads on facebook",
            "tengo una agencia",
            "Inhaber einer Praxis",
            "we're the owners",
        ] {
            assert!(says_something(quote), "{quote:?}");
        }
    }
}
