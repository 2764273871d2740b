//! Intent signals and fact parsing, in code: keyword detection over what the
//! lead wrote (in the languages leads most often write in) and parsing of
//! budget amounts and timing phrases from extracted slots.
//!
//! Deterministic on purpose: a closer can read exactly why a lead is "high".

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
        ],
    ),
];

/// Lowercases and pads with spaces so phrases match on word boundaries.
fn normalise(text: &str) -> String {
    let lowered: String = text
        .to_lowercase()
        .chars()
        .map(|c| {
            // A hyphen joins words ("Shopify-Shop", "co-founder"): both the
            // text and the phrase split on it, so "shopify" matches either.
            if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect();
    format!(
        " {} ",
        lowered.split_whitespace().collect::<Vec<_>>().join(" ")
    )
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

/// Days until a stated timing, when the phrase says ("2 weeks", "tomorrow",
/// "next month", "asap"). `None` when it cannot be told.
pub fn parse_days(text: &str) -> Option<f64> {
    let t = normalise(text);
    const NOW: &[&str] = &[
        "asap",
        "now",
        "today",
        "tomorrow",
        "immediately",
        "this week",
        "right away",
        "urgent",
        "ya",
        "sofort",
        "mañana",
    ];
    if NOW.iter().any(|w| t.contains(&format!(" {w} "))) {
        return Some(1.0);
    }
    if t.contains(" next week ") {
        return Some(7.0);
    }
    if t.contains(" next month ") || t.contains(" this month ") {
        return Some(30.0);
    }
    if t.contains(" next quarter ") {
        return Some(90.0);
    }
    if t.contains(" next year ") {
        return Some(365.0);
    }
    let words: Vec<&str> = t.split_whitespace().collect();
    for pair in words.windows(2) {
        let n = match pair[0] {
            "a" | "one" | "un" | "una" | "ein" | "eine" => Some(1.0),
            "two" | "couple" => Some(2.0),
            "three" => Some(3.0),
            w => w.parse::<f64>().ok(),
        };
        let Some(n) = n else { continue };
        let unit = pair[1];
        let days = if unit.starts_with("day") || unit.starts_with("día") || unit.starts_with("tag")
        {
            1.0
        } else if unit.starts_with("week")
            || unit.starts_with("semana")
            || unit.starts_with("woche")
        {
            7.0
        } else if unit.starts_with("month") || unit.starts_with("mes") || unit.starts_with("monat")
        {
            30.0
        } else if unit.starts_with("year") || unit.starts_with("año") || unit.starts_with("jahr") {
            365.0
        } else {
            continue;
        };
        return Some(n * days);
    }
    None
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
    fn amounts_parse_with_suffixes_and_separators() {
        assert_eq!(parse_amount("$3k/month"), Some(3000.0));
        assert_eq!(parse_amount("2.500 €"), Some(2500.0));
        assert_eq!(parse_amount("about 2,000 dollars"), Some(2000.0));
        assert_eq!(parse_amount("1.5k"), Some(1500.0));
        assert_eq!(parse_amount("$500k going to $1M"), Some(1_000_000.0));
        assert_eq!(parse_amount("not sure"), None);
    }

    #[test]
    fn timing_phrases_become_days() {
        assert_eq!(parse_days("in 2 weeks"), Some(14.0));
        assert_eq!(parse_days("ASAP"), Some(1.0));
        assert_eq!(parse_days("next month"), Some(30.0));
        assert_eq!(parse_days("in a year or so"), Some(365.0));
        assert_eq!(parse_days("when the time is right"), None);
    }
}
