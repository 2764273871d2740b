//! Nothing invented: an extracted slot value counts only if the lead's own
//! words support it. Small models fill every field ("timeline: immediately")
//! and move values between fields ("budget: 2 weeks"); a hallucinated slot
//! would make the planner skip a question the lead never answered.

use crate::config::{Framework, SlotKind, SlotRole};
use serde_json::Value;

/// Words too common to show that a value came from the lead.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "with", "our", "their", "they", "this", "that", "per", "are", "was",
    "from", "have", "has", "want", "wants", "need", "needs", "about", "into", "more", "less",
    "very", "just", "lead", "leads'",
];

/// Units that make a number a duration, not money.
const TIME_UNITS: &[&str] = &[
    "day", "week", "month", "year", "hour", "semana", "mes", "woche", "monat", "jahr", "jour",
    "mois",
];

/// Lowercased words of `text` (letters and digits; a hyphen or an
/// apostrophe splits): how grounding and the reply rules compare texts.
pub(super) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Content words of a value: 3+ letters or containing a digit, not a stopword.
fn content_words(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| {
            (w.chars().count() >= 3 || w.chars().any(|c| c.is_ascii_digit()))
                && !STOPWORDS.contains(&w.as_str())
        })
        .collect()
}

/// Same word, or one a 4+ letter prefix of the other ("call" ~ "calls").
fn same_word(a: &str, b: &str) -> bool {
    a == b || (a.len().min(b.len()) >= 4 && (a.starts_with(b) || b.starts_with(a)))
}

/// Whether most of `value`'s content words occur in what the lead wrote.
pub fn is_grounded(value: &str, lead_text: &str) -> bool {
    let wanted = content_words(value);
    if wanted.is_empty() {
        return false;
    }
    let have = words(lead_text);
    let found = wanted
        .iter()
        .filter(|w| have.iter().any(|h| same_word(w, h)))
        .count();
    found * 5 >= wanted.len() * 3 // at least 60 %
}

/// A budget is money: a number not followed by a time unit, or a money word.
fn looks_like_money(value: &str) -> bool {
    const MONEY: &[&str] = &[
        "budget",
        "money",
        "dollar",
        "euro",
        "usd",
        "eur",
        "gbp",
        "afford",
        "invest",
        "spend",
        "presupuesto",
        "geld",
    ];
    if value.contains(['$', '€', '£']) || MONEY.iter().any(|m| value.to_lowercase().contains(m))
    {
        return true;
    }
    let w = words(value);
    match w.iter().position(|t| t.chars().any(|c| c.is_ascii_digit())) {
        Some(i) => !w
            .get(i + 1)
            .is_some_and(|next| TIME_UNITS.iter().any(|u| next.starts_with(u))),
        None => false,
    }
}

/// A money amount: a currency sign, or a number written with k/m ("60k").
fn has_amount(value: &str) -> bool {
    value.contains(['$', '€', '£'])
        || words(value).iter().any(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_digit())
                && (w.ends_with('k') || w.ends_with('m'))
        })
}

/// Removes ungrounded string values from `slots`; returns the removed slot ids.
pub fn drop_ungrounded(
    framework: &Framework,
    slots: &mut std::collections::BTreeMap<String, Value>,
    lead_text: &str,
) -> Vec<String> {
    let mut dropped = Vec::new();
    slots.retain(|id, value| {
        let (Some(slot), Some(text)) = (framework.slot(id), value.as_str()) else {
            return true;
        };
        if slot.kind != SlotKind::String {
            return true;
        }
        let fits_role = match slot.role {
            SlotRole::Budget => looks_like_money(text),
            // "we do 60k a month" is revenue or budget, never a timeline.
            SlotRole::Timing => !has_amount(text),
            _ => true,
        };
        let ok = fits_role && is_grounded(text, lead_text);
        if !ok {
            dropped.push(id.clone());
        }
        ok
    });
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEAD: &str = "hi, I run a roofing company and we miss calls from leads at night";

    #[test]
    fn values_in_the_leads_words_are_kept() {
        assert!(is_grounded("roofing company", LEAD));
        assert!(is_grounded("miss calls from leads at night", LEAD));
        assert!(is_grounded("missing call", LEAD));
    }

    #[test]
    fn invented_values_are_not() {
        assert!(!is_grounded("immediately", LEAD));
        assert!(!is_grounded("increase call volume at night", LEAD));
        assert!(!is_grounded("ok", LEAD));
    }

    #[test]
    fn a_budget_must_be_money() {
        let fw = Framework::resolve("pif", &[]).unwrap();
        let lead = "how much is it? we'd want to start in 2 weeks, we can do $300 a month";
        let mut slots = std::collections::BTreeMap::from([
            ("budget".to_string(), serde_json::json!("2 weeks")),
            ("timeline".to_string(), serde_json::json!("in 2 weeks")),
        ]);
        assert_eq!(drop_ungrounded(&fw, &mut slots, lead), vec!["budget"]);
        assert!(
            looks_like_money("$300 a month")
                && looks_like_money("300 a month")
                && looks_like_money("60k per month")
        );
        assert!(!looks_like_money("in 3 months"));
        let mut timing = std::collections::BTreeMap::from([(
            "timeline".to_string(),
            serde_json::json!("about 6 guys, we do maybe 60k a month"),
        )]);
        let said = "about 6 guys, we do maybe 60k a month";
        assert_eq!(drop_ungrounded(&fw, &mut timing, said), vec!["timeline"]);
    }
}
