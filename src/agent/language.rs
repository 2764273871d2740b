//! The language a DM is written in. Small models answer a Spanish lead in
//! English unless told "write in Spanish", so the agent names the lead's
//! language in the reply prompt; evals check replies with the same reading.
//!
//! DMs are too short for statistical detection alone (whatlang reads "Hi! I
//! appreciate your message." as Portuguese), so common function words decide
//! first and whatlang only breaks ties.

use whatlang::Lang;

/// The languages told apart, with their ISO 639-1 codes. A wider list makes
/// the detector guess exotic languages for three-word messages.
pub const LANGUAGES: &[(&str, Lang)] = &[
    ("en", Lang::Eng),
    ("es", Lang::Spa),
    ("pt", Lang::Por),
    ("fr", Lang::Fra),
    ("de", Lang::Deu),
    ("it", Lang::Ita),
    ("nl", Lang::Nld),
];

/// Frequent words that belong to one of the languages (shared ones left out).
fn function_words(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Eng => &[
            "the", "you", "your", "i", "i'm", "what", "is", "are", "and", "to", "for", "with",
            "we", "how", "this", "that", "my", "it", "do", "can", "of", "our", "have", "would",
            "when", "hi", "hello", "thanks", "thank", "about", "just", "here", "great", "please",
            "yes", "sure",
        ],
        Lang::Spa => &[
            "el", "los", "las", "que", "qué", "y", "es", "una", "por", "para", "muy", "hola",
            "gracias", "cuándo", "cómo", "nuestro", "nuestra", "usted", "tu", "mi", "pero", "más",
            "está", "tengo", "tenemos", "del", "al", "somos", "esto", "cuánto",
        ],
        Lang::Por => &[
            "você", "não", "é", "um", "com", "mas", "obrigado", "obrigada", "olá", "nós", "meu",
            "minha", "nossa", "nosso", "os", "ao", "da", "dos", "das", "temos", "tenho", "em",
            "hoje", "agora", "isso", "fez", "disso", "nisso", "sua", "seu", "essa", "esse", "quem",
            "faz",
        ],
        Lang::Fra => &[
            "le",
            "les",
            "et",
            "est",
            "vous",
            "je",
            "nous",
            "pour",
            "avec",
            "pas",
            "des",
            "du",
            "bonjour",
            "merci",
            "mon",
            "ma",
            "notre",
            "c'est",
            "qui",
            "sur",
            "votre",
            "vos",
            "comme",
            "aujourd'hui",
        ],
        Lang::Deu => &[
            "der", "die", "das", "und", "ist", "ich", "sie", "wir", "nicht", "mit", "ein", "eine",
            "zu", "für", "hallo", "danke", "wie", "was", "aber", "auch", "bei", "über", "unser",
            "unsere", "haben", "habe", "sind",
        ],
        Lang::Ita => &[
            "il", "gli", "che", "è", "sono", "ciao", "grazie", "della", "nella", "questo",
            "questa", "mio", "mia", "abbiamo", "ho", "cosa", "ti", "di", "vuoi", "oggi", "hai",
        ],
        Lang::Nld => &[
            "het", "een", "ik", "je", "van", "niet", "wat", "wij", "bedankt", "dank", "onze",
            "ons", "zijn", "hebben", "maar",
        ],
        _ => &[],
    }
}

/// The language of `text` among [`LANGUAGES`], links ignored; `None` when
/// there is too little to tell it by.
pub fn detect(text: &str) -> Option<Lang> {
    let lowered = text.to_lowercase();
    let words: Vec<&str> = lowered
        .split_whitespace()
        .filter(|w| !w.starts_with("http"))
        .flat_map(|w| w.split(|c: char| !(c.is_alphanumeric() || c == '\'')))
        .filter(|w| !w.is_empty())
        .collect();
    let mut scores: Vec<(usize, Lang)> = LANGUAGES
        .iter()
        .map(|(_, lang)| {
            let list = function_words(*lang);
            (words.iter().filter(|w| list.contains(w)).count(), *lang)
        })
        .collect();
    scores.sort_by_key(|s| std::cmp::Reverse(s.0));
    match scores.as_slice() {
        [(best, lang), (second, _), ..] if *best > *second => Some(*lang),
        // No function word at all ("hey", "quick q"): too little to tell.
        [(0, _), ..] => None,
        _ => whatlang::Detector::with_allowlist(LANGUAGES.iter().map(|(_, l)| *l).collect())
            .detect(&words.join(" "))
            .filter(|info| info.is_reliable())
            .map(|info| info.lang()),
    }
}

/// A language from its ISO 639-1 (`es`) or 639-3 (`spa`) code.
pub fn from_code(code: &str) -> Result<Lang, String> {
    let code = code.trim().to_lowercase();
    LANGUAGES
        .iter()
        .find(|(two, lang)| *two == code || lang.code() == code)
        .map(|(_, lang)| *lang)
        .ok_or_else(|| {
            let known: Vec<&str> = LANGUAGES.iter().map(|(c, _)| *c).collect();
            format!(
                "language \"{code}\" is not supported; one of {}",
                known.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_dms_are_read_right() {
        for (text, lang) in [
            (
                "Hi! I appreciate your message. What made you reach out?",
                Lang::Eng,
            ),
            ("Hola! Tengo una clínica dental en Madrid", Lang::Spa),
            ("Hallo, ich habe eine kleine Agentur in Berlin", Lang::Deu),
            ("Bonjour, je vends des vêtements", Lang::Fra),
            ("Olá, você trabalha com clínicas?", Lang::Por),
            ("O que fez você nos procurar hoje?", Lang::Por),
            ("Cosa ti ha spinto a scriverci oggi?", Lang::Ita),
            ("Great! Book here: https://cal.example.com/x", Lang::Eng),
        ] {
            assert_eq!(detect(text), Some(lang), "{text}");
        }
        assert_eq!(detect("👍"), None);
        // Whatlang alone calls these Dutch and French.
        assert_eq!(detect("hey"), None);
        assert_eq!(detect("quick q"), None);
    }

    #[test]
    fn codes_are_two_or_three_letters() {
        assert_eq!(from_code("es"), Ok(Lang::Spa));
        assert_eq!(from_code("DEU"), Ok(Lang::Deu));
        assert!(from_code("xx").unwrap_err().contains("one of en, es"));
    }
}
