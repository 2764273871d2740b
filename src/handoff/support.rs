//! Whether the cited messages say what a claim says — in code, so a model
//! cannot vouch for itself. Words are compared lowercased with simple prefix
//! stemming ("roofing" ~ "roof"); numbers are compared by value ("$5k" ~
//! "5,000") and must match exactly; a name must appear as written. Numbers
//! and names must come from the lead's own words: a bot that asked "do you
//! make $10k?" is not a lead who said so. Other words may come from any
//! cited message, so "revenue is 10k [4, 5]" can lean on the question.

/// What the cited messages lack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Gap {
    /// A number (as the claim wrote it) no cited lead message has.
    Number(String),
    /// A name no cited lead message has.
    Name(String),
    /// Too few of the claim's words are in the cited messages.
    Words,
}

/// Words that carry no fact: function words, and the vocabulary of advice
/// ("open with", "ask about", "they mentioned").
const STOPWORDS: &[&str] = &[
    "the",
    "and",
    "for",
    "with",
    "our",
    "your",
    "their",
    "they",
    "them",
    "this",
    "that",
    "these",
    "those",
    "then",
    "than",
    "there",
    "here",
    "per",
    "are",
    "was",
    "were",
    "been",
    "being",
    "have",
    "has",
    "had",
    "not",
    "but",
    "from",
    "into",
    "onto",
    "about",
    "over",
    "under",
    "very",
    "just",
    "also",
    "still",
    "some",
    "any",
    "all",
    "each",
    "more",
    "most",
    "less",
    "much",
    "many",
    "such",
    "what",
    "when",
    "where",
    "which",
    "who",
    "whom",
    "whose",
    "why",
    "how",
    "can",
    "could",
    "would",
    "should",
    "will",
    "shall",
    "may",
    "might",
    "must",
    "does",
    "did",
    "its",
    "she",
    "her",
    "his",
    "him",
    "you",
    "yours",
    "ours",
    "out",
    "off",
    "too",
    "yet",
    "only",
    "even",
    "both",
    "because",
    "since",
    "while",
    "after",
    "before",
    "during",
    "again",
    "once",
    "now",
    "well",
    "really",
    "quite",
    "already",
    "likely",
    "probably",
    "clearly",
    "directly",
    "briefly",
    "way",
    "lead",
    "prospect",
    "closer",
    "approach",
    "recommended",
    "rapport",
    "point",
    "points",
];

/// Advice verbs, matched with their endings ("asked", "mentioning").
const META: &[&str] = &[
    "ask",
    "open",
    "mention",
    "confirm",
    "start",
    "focus",
    "explain",
    "show",
    "suggest",
    "recommend",
    "use",
    "say",
    "said",
    "state",
    "tell",
    "told",
    "wrote",
    "note",
    "share",
    "express",
    "indicate",
    "discuss",
    "cover",
    "address",
    "highlight",
    "emphasize",
    "emphasise",
    "acknowledge",
    "reference",
    "seem",
    "appear",
    "lean",
    "steer",
];

/// One word or number of a text.
#[derive(Debug, Clone, PartialEq)]
struct Token {
    /// As written.
    text: String,
    lower: String,
    /// The value of a number ("5k" → "5000"); `None` for words.
    number: Option<String>,
    /// Capitalised, and not where a sentence starts: a name.
    name: bool,
}

/// What in `claim` the cited messages do not back, if anything. `lead` are
/// the cited messages the lead wrote (at least one), `all` every cited one;
/// `known` are names the packet already states (the lead's, the offer's).
pub(super) fn gap(claim: &str, lead: &[&str], all: &[&str], known: &[String]) -> Option<Gap> {
    let claim = tokens(claim);
    let lead: Vec<Token> = lead.iter().flat_map(|t| tokens(t)).collect();
    let all: Vec<Token> = all.iter().flat_map(|t| tokens(t)).collect();
    let lead_numbers: Vec<&str> = lead.iter().filter_map(|t| t.number.as_deref()).collect();
    if let Some(n) = claim.iter().find(|t| {
        t.number
            .as_deref()
            .is_some_and(|n| !lead_numbers.contains(&n))
    }) {
        return Some(Gap::Number(n.text.clone()));
    }
    let known: Vec<Token> = known.iter().flat_map(|k| tokens(k)).collect();
    let is_known = |t: &Token| known.iter().any(|k| k.lower == t.lower);
    let said_in = |t: &Token, words: &[Token]| words.iter().any(|w| same_token(t, w));
    if let Some(n) = claim
        .iter()
        .filter(|t| t.name && is_content(t) && !is_known(t))
        .find(|t| !said_in(t, &lead))
    {
        return Some(Gap::Name(n.text.clone()));
    }
    let mut wanted: Vec<&Token> = claim
        .iter()
        .filter(|t| is_content(t) && !is_known(t))
        .collect();
    wanted.sort_by(|a, b| a.lower.cmp(&b.lower));
    wanted.dedup_by(|a, b| a.lower == b.lower);
    let found = wanted.iter().filter(|t| said_in(t, &all)).count();
    let from_lead = wanted.iter().filter(|t| said_in(t, &lead)).count();
    let enough = !wanted.is_empty() && found * 2 >= wanted.len() && from_lead > 0;
    (!enough).then_some(Gap::Words)
}

/// Numbers by value, words by [`same_word`].
fn same_token(a: &Token, b: &Token) -> bool {
    match (&a.number, &b.number) {
        (Some(x), Some(y)) => x == y,
        (None, None) => same_word(&a.lower, &b.lower),
        _ => false,
    }
}

/// A number, or a word of 3+ letters that is neither a stopword nor advice.
fn is_content(t: &Token) -> bool {
    t.number.is_some()
        || (t.lower.chars().count() >= 3
            && !STOPWORDS.contains(&t.lower.as_str())
            && !META.iter().any(|m| {
                t.lower
                    .strip_prefix(m)
                    .is_some_and(|end| ["", "s", "es", "d", "ed", "ing"].contains(&end))
            }))
}

/// Same word; a short word with an ending ("get" ~ "gets"); or sharing a
/// prefix of 4+ letters that is all of the shorter word but its last two
/// ("roof" ~ "roofing", "company" ~ "companies").
fn same_word(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long
        .strip_prefix(short)
        .is_some_and(|end| ["", "s", "es", "d", "ed"].contains(&end))
    {
        return true;
    }
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    common >= 4.max(short.chars().count().saturating_sub(2))
}

/// Words and numbers; "5,000" and "3.5k" stay one token each.
fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_alphanumeric() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (chars[i].is_alphanumeric() || inside_number(&chars, i)) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let before = chars[..start].iter().rev().find(|c| !c.is_whitespace());
        let starts_sentence = before.is_none_or(|c| ".!?:\"“'‘(".contains(*c));
        out.push(Token {
            lower: word.to_lowercase(),
            number: number_value(&word),
            name: !starts_sentence && word.starts_with(char::is_uppercase),
            text: word,
        });
    }
    out
}

/// A `.` or `,` between two digits ("3.5", "5,000").
fn inside_number(chars: &[char], i: usize) -> bool {
    matches!(chars[i], '.' | ',')
        && i > 0
        && chars[i - 1].is_ascii_digit()
        && chars.get(i + 1).is_some_and(char::is_ascii_digit)
}

/// The value of a token that starts with a digit: "5,000" and "5k" are
/// "5000", "1.5m" is "1500000"; anything else ("24h", "2nd") as written.
fn number_value(word: &str) -> Option<String> {
    if !word.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let plain: String = word.chars().filter(|&c| c != ',').collect();
    let split = plain
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(plain.len());
    let (digits, unit) = plain.split_at(split);
    let scale = match unit.to_lowercase().as_str() {
        "" => 1.0,
        "k" => 1e3,
        "m" | "mm" => 1e6,
        _ => return Some(plain.to_lowercase()),
    };
    match digits.parse::<f64>() {
        Ok(v) => Some(format!("{}", v * scale)),
        Err(_) => Some(plain.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(claim: &str, lead: &[&str]) -> Option<Gap> {
        gap(claim, lead, lead, &["Test Lead".to_string()])
    }

    #[test]
    fn numbers_compare_by_value_and_must_be_the_leads() {
        let said = ["we could spend about 5,000 a month"];
        assert_eq!(check("Budget is about $5k a month.", &said), None);
        assert_eq!(
            check("Budget is about $6k a month.", &said),
            Some(Gap::Number("6k".into()))
        );
        assert_eq!(number_value("3.5k").as_deref(), Some("3500"));
        assert_eq!(number_value("24h").as_deref(), Some("24h"));
        // A number only the bot said is not the lead's.
        let bot = "Do you make $10k a month?";
        assert_eq!(
            gap("They make 10k a month.", &["yes"], &["yes", bot], &[]),
            Some(Gap::Number("10k".into()))
        );
    }

    #[test]
    fn words_match_with_prefix_stemming() {
        let said = ["hi, I run a roofing company and we miss calls at night"];
        assert_eq!(
            check(
                "Open with the missed calls at night, for their roof business.",
                &said
            ),
            None
        );
        assert_eq!(
            check("They are ready to buy today.", &said),
            Some(Gap::Words)
        );
        assert!(same_word("company", "companies"));
        assert!(!same_word("plan", "plumbing"));
    }

    #[test]
    fn a_name_must_be_in_the_leads_words_unless_the_packet_knows_it() {
        let said = ["we get our leads from instagram"];
        assert_eq!(check("Test gets leads from Instagram.", &said), None);
        assert_eq!(
            check("They get leads from Instagram and TikTok.", &said),
            Some(Gap::Name("TikTok".into()))
        );
    }

    #[test]
    fn the_bots_question_can_give_words_but_the_lead_must_say_something() {
        let (bot, lead) = ("What's your monthly revenue?", "about 10k");
        assert_eq!(
            gap("Revenue is about $10k a month.", &[lead], &[bot, lead], &[]),
            None
        );
        assert_eq!(
            gap(
                "They want to book a call.",
                &["no thanks"],
                &["Want to book a call?", "no thanks"],
                &[]
            ),
            Some(Gap::Words)
        );
    }
}
