//! Intent signals and fact parsing, in code: keyword detection over what the
//! lead wrote (in the languages leads most often write in) and parsing of
//! budget amounts and timing phrases from extracted slots.
//!
//! Deterministic on purpose: a closer can read exactly why a lead is "high".

use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};

/// Keyword signals, as (signal name, phrases). Matching is case-insensitive on
/// word boundaries, so "cost" does not fire on "Costa Rica".
const KEYWORD_SIGNALS: &[(&str, &[&str])] = &[
    (
        "asked_price",
        &[
            "price",
            "pricing",
            "prices",
            "cost",
            "costs",
            "how much",
            "what do you charge",
            "rates",
            "fee",
            "fees",
            "precio",
            "precios",
            "cuánto",
            "cuanto cuesta",
            "cuesta",
            "preis",
            "preise",
            "kosten",
            "kostet",
            "prix",
            "combien",
            "tarif",
            "quanto",
            "preço",
            "prezzo",
            "quanto custa",
            "qual o valor",
            "quanto costa",
            "costo",
            "wie viel",
            "wieviel",
            "was kostet",
            "c'est combien",
            "tarifs",
            "tarifa",
        ],
    ),
    (
        "asked_call",
        &[
            // Not bare "call": "I make the call" is a decision, not a request.
            "a call",
            "quick call",
            "call me",
            "call tomorrow",
            "call today",
            "call this week",
            "can we talk",
            "talk tomorrow",
            "talk today",
            "demo",
            "meeting",
            "book a",
            "schedule",
            "zoom",
            "talk to someone",
            "speak to someone",
            "llamada",
            "reunión",
            "reunion",
            "anruf",
            "termin",
            "gespräch",
            "appel",
            "rendez-vous",
            "un appel",
            "démo",
            "visio",
            "ligação",
            "chamada",
            "reunião",
            "chiamata",
            "telefonata",
            "videochiamata",
            "appuntamento",
            "telefonat",
            "rückruf",
        ],
    ),
    (
        "urgent_pain",
        &[
            "asap",
            "urgent",
            "urgently",
            "right away",
            "immediately",
            "desperate",
            "losing",
            "drowning",
            "urgente",
            "dringend",
            "sofort",
            "tout de suite",
            "perdiendo",
            "perdemos",
            "perdendo",
            "verlieren",
            "on perd",
            "nous perdons",
            "perdiamo",
            "subito",
        ],
    ),
    (
        "just_browsing",
        &[
            "just browsing",
            "just looking",
            "just curious",
            "only curious",
            "window shopping",
            "solo mirando",
            "nur schauen",
            "just testing",
            "only testing",
            "sólo mirando",
            "solo estoy mirando",
            "solo curiosidad",
            "só olhando",
            "apenas olhando",
            "só curiosidade",
            "je regarde juste",
            "juste curieux",
            "juste curieuse",
            "simple curiosité",
            "nur neugierig",
            "schaue nur",
            "solo curiosità",
            "sto solo guardando",
            "solo guardando",
        ],
    ),
    (
        "no_budget",
        &[
            "no budget",
            "can't afford",
            "cannot afford",
            "too expensive",
            "no money",
            "broke",
            "sin presupuesto",
            "kein budget",
            "zu teuer",
            "muy caro",
            "demasiado caro",
            "no tengo presupuesto",
            "no tengo dinero",
            "sem orçamento",
            "sem dinheiro",
            "muito caro",
            "caro demais",
            "pas de budget",
            "trop cher",
            "pas les moyens",
            "nessun budget",
            "troppo caro",
            "non ho budget",
            "kein geld",
        ],
    ),
    (
        "later",
        &[
            "later",
            "not now",
            "next year",
            "not right now",
            "maybe someday",
            "in a few months",
            "más tarde",
            "mas tarde",
            "später",
            "plus tard",
            "ahora no",
            "el año que viene",
            "mais tarde",
            "agora não",
            "ano que vem",
            "nicht jetzt",
            "nächstes jahr",
            "pas maintenant",
            "l'année prochaine",
            "più tardi",
            "non ora",
            "non adesso",
            "l'anno prossimo",
        ],
    ),
];

/// Lowercases, folds what people type differently on phones, and pads
/// with spaces so phrases match on word boundaries. Both the text and each
/// keyword go through it, so a lead who writes "we haven’t launched" (a
/// curly apostrophe), "havent launched", "have not launched" or "aun no he
/// lanzado" (no accent) matches the keywords "haven't launched" and "aún
/// no he lanzado": a disqualifier missed over typing is the costliest miss.
fn normalise(text: &str) -> String {
    let folded: String = text
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            '\u{2019}' | '\u{2018}' | '\u{02bc}' | '\u{00b4}' | '`' => '\'',
            c if c.is_alphanumeric() || c == '\'' => c,
            // A hyphen joins words ("Shopify-Shop", "co-founder"): both the
            // text and the phrase split on it, so "shopify" matches either.
            _ => ' ',
        })
        .collect();
    let words: Vec<String> = folded.split_whitespace().map(uncontract).collect();
    format!(" {} ", words.join(" "))
}

/// English negative contractions, with or without the apostrophe, as the
/// stem and "not" ("haven't", "havent" → "have not"; "can't" → "ca not",
/// the same on both sides of a match).
fn uncontract(word: &str) -> String {
    const BARE: [&str; 15] = [
        "arent", "cant", "couldnt", "didnt", "doesnt", "dont", "hadnt", "hasnt", "havent", "isnt",
        "shouldnt", "wasnt", "werent", "wont", "wouldnt",
    ];
    if let Some(stem) = word.strip_suffix("n't").filter(|s| !s.is_empty()) {
        format!("{stem} not")
    } else if BARE.contains(&word) {
        format!("{} not", &word[..word.len() - 2])
    } else {
        word.to_string()
    }
}

/// Whether `phrase` occurs in `text` as whole words.
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    let phrase = normalise(phrase);
    !phrase.trim().is_empty() && normalise(text).contains(&phrase)
}

/// The first of `phrases` found in `text`.
pub fn first_match<'a>(
    text: &str,
    phrases: impl IntoIterator<Item = &'a String>,
) -> Option<&'a str> {
    let hay = normalise(text);
    phrases
        .into_iter()
        .find(|p| {
            let p = normalise(p);
            !p.trim().is_empty() && hay.contains(&p)
        })
        .map(String::as_str)
}

/// Keyword signals in one message: (signal, the phrase that fired).
pub fn keyword_signals(text: &str) -> Vec<(&'static str, &'static str)> {
    let hay = normalise(text);
    KEYWORD_SIGNALS
        .iter()
        .filter_map(|(signal, phrases)| {
            phrases
                .iter()
                .find(|p| hay.contains(&normalise(p)))
                .map(|p| (*signal, *p))
        })
        .collect()
}

/// The largest money amount in a phrase ("$3k/month" → 3000, "2.500 €" → 2500).
pub fn parse_amount(text: &str) -> Option<f64> {
    let lower = text.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let mut best: Option<f64> = None;
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let mut digits = String::new();
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',' || chars[i] == '.') {
            digits.push(chars[i]);
            i += 1;
        }
        // "2,500" and "2.500" are thousands; "2.5" is a decimal.
        let cleaned = match digits.rfind(['.', ',']) {
            Some(p) if digits.len() - p - 1 == 3 => digits.replace([',', '.'], ""),
            Some(_) => digits.replace(',', "."),
            None => digits,
        };
        let Ok(mut n) = cleaned.trim_end_matches('.').parse::<f64>() else {
            continue;
        };
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        match chars.get(i) {
            Some('k') => n *= 1_000.0,
            Some('m') if chars.get(i + 1).is_none_or(|c| !c.is_alphabetic()) => n *= 1_000_000.0,
            _ => {}
        }
        best = Some(best.map_or(n, |b: f64| b.max(n)));
    }
    best
}

/// Whether a stated role means the lead decides.
pub fn is_decision_maker(text: &str) -> bool {
    const ROLES: &[&str] = &[
        "owner",
        "founder",
        "co-founder",
        "ceo",
        "partner",
        "i decide",
        "my decision",
        "me",
        "myself",
        "i do",
        "dueño",
        "dueña",
        "inhaber",
        "geschäftsführer",
        "propriétaire",
        "yo",
    ];
    ROLES.iter().any(|r| contains_phrase(text, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_whole_words_in_several_languages() {
        assert_eq!(
            keyword_signals("How much is it?"),
            vec![("asked_price", "how much")]
        );
        assert_eq!(
            keyword_signals("¿Cuánto cuesta?"),
            vec![("asked_price", "cuánto")]
        );
        assert!(keyword_signals("We are based in Costa Rica").is_empty());
        assert_eq!(
            keyword_signals("Can we talk tomorrow?"),
            vec![("asked_call", "can we talk")]
        );
        assert!(keyword_signals("I make the call on tools").is_empty());
        for (text, signal) in [
            ("Quanto custa? Quero começar", "asked_price"),
            ("On peut faire un appel demain ?", "asked_call"),
            ("perdemos a maioria dos leads", "urgent_pain"),
            ("nothing yet, just testing your bot", "just_browsing"),
            ("è troppo caro per noi", "no_budget"),
            ("agora não, talvez ano que vem", "later"),
        ] {
            let fired: Vec<&str> = keyword_signals(text).iter().map(|(s, _)| *s).collect();
            assert!(fired.contains(&signal), "{text}: {fired:?}");
        }
        assert!(contains_phrase("unseren Shopify-Shop", "shopify"));
        assert!(contains_phrase("I'm the co-founder", "co-founder"));
        assert_eq!(
            keyword_signals("just browsing, maybe later"),
            vec![("just_browsing", "just browsing"), ("later", "later")]
        );
    }

    #[test]
    fn the_example_disqualifiers_are_caught_in_six_languages() {
        let icp = crate::config::Config::example().icp;
        let caught = |id: &str, text: &str| {
            let d = icp.disqualifiers.iter().find(|d| d.id == id).unwrap();
            first_match(text, &d.keywords).is_some()
        };
        assert!(caught("job_seeker", "Hola! Busco empleo de closer remoto"));
        assert!(caught(
            "job_seeker",
            "Oi, procuro trabalho como SDR, vocês estão contratando?"
        ));
        assert!(caught("job_seeker", "Ich suche Arbeit als Setter"));
        assert!(caught("job_seeker", "Je cherche du travail dans la vente"));
        assert!(caught("job_seeker", "Ciao, cerco lavoro come setter"));
        assert!(caught("physical_products", "We sell mugs on Etsy"));
        assert!(caught(
            "physical_products",
            "Tengo una tienda online de ropa"
        ));
        assert!(caught(
            "physical_products",
            "Unser Online-Shop verkauft Tee"
        ));
        assert!(caught("pre_launch", "Ainda não lancei meu curso"));
        assert!(caught("pre_launch", "Mein Kurs ist noch nicht gestartet"));
        assert!(caught("job_seeker", "Estoy buscando trabajo de setter"));
        assert!(caught("job_seeker", "Je suis à la recherche d'emploi"));
        assert!(caught("pre_launch", "My course is not live yet"));
        assert!(caught(
            "physical_products",
            "Vendo produtos naturais pelo Instagram"
        ));
        assert!(!caught(
            "job_seeker",
            "We're hiring two setters for our agency"
        ));
        assert!(!caught("physical_products", "I run a roofing company"));
    }

    #[test]
    fn keywords_match_however_a_phone_typed_them() {
        let icp = crate::config::Config::example().icp;
        let caught = |id: &str, text: &str| {
            let d = icp.disqualifiers.iter().find(|d| d.id == id).unwrap();
            first_match(text, &d.keywords)
        };
        // A curly apostrophe (iOS smart punctuation), none, or no contraction.
        for text in [
            "We haven\u{2019}t launched yet",
            "we havent launched yet lol",
            "We have not launched, the course is almost done",
        ] {
            assert_eq!(
                caught("pre_launch", text),
                Some("haven't launched"),
                "{text}"
            );
        }
        // Accents left out, or typed where the keyword has none.
        assert_eq!(
            caught("pre_launch", "todavia no lance mi curso"),
            Some("todavía no lancé")
        );
        assert_eq!(
            caught("job_seeker", "voces estao contratando?"),
            Some("estão contratando")
        );
        // Folding does not join or split words.
        assert_eq!(caught("pre_launch", "We have noted launch dates"), None);
        assert!(contains_phrase("Clínica dental", "clinica"));
        assert!(!contains_phrase("I can't wait", "can"));
    }

    #[test]
    fn amounts_parse_with_suffixes_and_separators() {
        assert_eq!(parse_amount("$3k/month"), Some(3000.0));
        assert_eq!(parse_amount("2.500 €"), Some(2500.0));
        assert_eq!(parse_amount("about 2,000 dollars"), Some(2000.0));
        assert_eq!(parse_amount("1.5k"), Some(1500.0));
        assert_eq!(parse_amount("$500k going to $1M"), Some(1_000_000.0));
        assert_eq!(parse_amount("not sure"), None);
    }
}
