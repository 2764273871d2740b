//! Checks for values that parse but cannot be meant (a weight of 1e9, a
//! language nobody supports), and for what the config points at outside
//! itself (a prompts directory, an environment variable), which only
//! surfaced at the first turn before.

use super::{Config, Issue, Provider, Validator};
use std::path::Path;

/// Trait and signal weights are relative; 1–5 is typical.
const MAX_WEIGHT: f64 = 100.0;
/// An offer price above this is a typo, not a price.
const MAX_PRICE: f64 = 1e9;
/// Dollars per 1,000 tokens; the dearest hosted models cost well under this.
const MAX_TOKEN_PRICE: f64 = 1000.0;

/// Errors for values out of any sensible range, each naming its key.
pub(super) fn values(c: &Config) -> Vec<Issue> {
    let mut v = Validator::default();
    let language = c.persona.language.as_str();
    if language != "match_lead" {
        if let Err(message) = crate::agent::language::from_code(language) {
            v.error("persona.language", &format!("{message}, or \"match_lead\""));
        }
    }
    for (i, t) in c.icp.traits.iter().enumerate() {
        if t.weight > MAX_WEIGHT {
            v.error(&format!("icp.traits[{i}].weight"), &too_big(MAX_WEIGHT));
        }
    }
    for (name, value) in fields(&c.scoring.signals) {
        if value.as_f64().is_some_and(|w| w.abs() > MAX_WEIGHT) {
            let key = format!("scoring.signals.{name}");
            v.error(
                &key,
                &format!("must be between -{MAX_WEIGHT} and {MAX_WEIGHT}"),
            );
        }
    }
    for (name, value) in fields(&c.scoring.next_actions) {
        if value.as_str().is_some_and(|a| a.trim().is_empty()) {
            let key = format!("scoring.next_actions.{name}");
            v.error(&key, "must not be empty: closers read it as the next step");
        }
    }
    if c.offer.price > MAX_PRICE {
        v.error("offer.price", &too_big(MAX_PRICE));
    }
    for (key, price) in [
        ("llm.price_per_1k_prompt", c.llm.price_per_1k_prompt),
        ("llm.price_per_1k_completion", c.llm.price_per_1k_completion),
    ] {
        if price > MAX_TOKEN_PRICE {
            v.error(key, &too_big(MAX_TOKEN_PRICE));
        }
    }
    v.issues
}

fn too_big(max: f64) -> String {
    format!("must be at most {max}")
}

/// A struct's fields by name, as serialized (so a new field is checked too).
fn fields(s: &impl serde::Serialize) -> Vec<(String, serde_json::Value)> {
    match serde_json::to_value(s) {
        Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Warnings about `[persona] instant_opener`: what the first reply, written
/// from a template with no model, would say badly.
pub(super) fn opener(c: &Config) -> Vec<Issue> {
    let mut v = Validator::default();
    if !c.persona.instant_opener {
        return v.warnings;
    }
    const WRITTEN_IN: [&str; 6] = ["en", "es", "pt", "fr", "de", "it"];
    let language = c.persona.language.as_str();
    if language != "match_lead" && !WRITTEN_IN.contains(&language) {
        v.warn(
            "persona.instant_opener",
            &format!(
                "the opener is written in {}; with language \"{language}\" it greets in English \
                 (translate prompts/opener.j2, or set instant_opener = false)",
                WRITTEN_IN.join(", ")
            ),
        );
    }
    let q = &c.qualification;
    let first = q
        .slots
        .iter()
        .position(|s| s.role != super::SlotRole::Budget);
    if let Some(i) = first.filter(|_| q.framework == "custom") {
        if q.slots[i].ask.trim().is_empty() {
            v.warn(
                &format!("qualification.slots[{i}].ask"),
                "is empty, and the instant opener asks this slot's question word for word: \
                 write the question as a person would ask it",
            );
        }
    }
    v.warnings
}

/// (errors, warnings) about what the config refers to, relative to `base_dir`.
pub(super) fn surroundings(c: &Config, base_dir: &Path) -> (Vec<Issue>, Vec<Issue>) {
    let mut v = Validator::default();
    let dir = if c.prompts_dir.is_absolute() {
        c.prompts_dir.clone()
    } else {
        base_dir.join(&c.prompts_dir)
    };
    // The default `prompts` is optional (the embedded templates stand in);
    // a directory named on purpose must be there.
    if !dir.is_dir() && c.prompts_dir != super::default_prompts_dir() {
        v.error(
            "prompts_dir",
            &format!(
                "directory {} does not exist (remove the key to use the built-in prompts)",
                dir.display()
            ),
        );
    }
    let system = dir.join("system.j2");
    if std::fs::read_to_string(&system).is_ok_and(|t| t.trim().is_empty()) {
        v.warn(
            &system.display().to_string(),
            "is empty: replies get no persona, offer or rules",
        );
    }
    let key_var = &c.llm.api_key_env;
    if c.llm.provider == Provider::Openai
        && !is_loopback(&c.llm.base_url)
        && std::env::var_os(key_var).is_none_or(|k| k.is_empty())
    {
        v.warn(
            "llm.api_key_env",
            &format!("environment variable {key_var} is not set; the first model call will fail"),
        );
    }
    (v.issues, v.warnings)
}

/// Local servers (llama.cpp, Ollama, vLLM on this machine) usually need no key.
fn is_loopback(base_url: &str) -> bool {
    let rest = base_url.split_once("://").map_or(base_url, |(_, r)| r);
    let host = rest.split(['/', ':']).next().unwrap_or_default();
    matches!(host, "localhost" | "127.0.0.1") || rest.starts_with("[::1]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(issues: &[Issue]) -> Vec<String> {
        issues.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_opener_warns_about_what_it_cannot_say_well() {
        let mut c = Config::example();
        assert!(opener(&c).is_empty());
        c.persona.language = "nl".into();
        c.qualification.framework = "custom".into();
        c.qualification.slots = vec![serde_json::from_value(serde_json::json!({
            "id": "team_size", "description": "How many people work in the business"
        }))
        .unwrap()];
        assert_eq!(
            keys(&opener(&c)),
            [
                "persona.instant_opener: the opener is written in en, es, pt, fr, de, it; with language \"nl\" it greets in English (translate prompts/opener.j2, or set instant_opener = false)",
                "qualification.slots[0].ask: is empty, and the instant opener asks this slot's question word for word: write the question as a person would ask it",
            ]
        );
        c.persona.instant_opener = false;
        assert!(opener(&c).is_empty());
    }

    #[test]
    fn values_that_cannot_be_meant_are_named() {
        let mut c = Config::example();
        c.persona.language = "klingon".into();
        c.scoring.next_actions.hot = " ".into();
        c.icp.traits[0].weight = 1e9;
        c.scoring.signals.later = -1e9;
        c.offer.price = 1e308;
        c.llm.price_per_1k_prompt = 1e6;
        assert_eq!(
            keys(&values(&c)),
            [
                "persona.language: language \"klingon\" is not supported; one of en, es, pt, fr, de, it, nl, or \"match_lead\"",
                "icp.traits[0].weight: must be at most 100",
                "scoring.signals.later: must be between -100 and 100",
                "scoring.next_actions.hot: must not be empty: closers read it as the next step",
                "offer.price: must be at most 1000000000",
                "llm.price_per_1k_prompt: must be at most 1000",
            ]
        );
        c.persona.language = "es".into();
        assert!(!keys(&values(&c)).iter().any(|k| k.starts_with("persona")));
    }

    #[test]
    fn loopback_servers_need_no_key() {
        assert!(is_loopback("http://127.0.0.1:8080/v1"));
        assert!(is_loopback("http://localhost/v1"));
        assert!(is_loopback("http://[::1]:11434/v1"));
        assert!(!is_loopback("https://api.openai.com/v1"));
        assert!(!is_loopback("https://localhost.example.com/v1"));
    }
}
