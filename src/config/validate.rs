//! `Config::validate`'s steps, one per section: each names the key to fix
//! and what a valid value looks like.

use super::validator::Validator;
use super::{Config, Framework, Provider};

impl Config {
    /// `[offer]`: a name, a description, a price and currency, and links
    /// that are URLs.
    pub(super) fn validate_offer(&self, v: &mut Validator) {
        v.non_empty("offer.name", &self.offer.name);
        v.non_empty("offer.description", &self.offer.description);
        if !(self.offer.price.is_finite() && self.offer.price >= 0.0) {
            v.error("offer.price", "must be a number >= 0");
        }
        v.non_empty("offer.currency", &self.offer.currency);
        for (key, url) in [
            ("offer.booking_url", &self.offer.booking_url),
            ("offer.payment_url", &self.offer.payment_url),
        ] {
            if !url.is_empty() && !url.starts_with("https://") && !url.starts_with("http://") {
                v.error(key, "must start with https:// (or be empty)");
            }
        }
    }

    /// `[icp]`: traits and disqualifiers with unique ids and text; how many
    /// of each score reliably is a warning, not an error.
    pub(super) fn validate_icp(&self, v: &mut Validator) {
        let n = self.icp.traits.len();
        if !(4..=6).contains(&n) {
            v.warn(
                "icp.traits",
                &format!("has {n} traits; 4–6 sharp traits score more reliably"),
            );
        }
        let mut ids = std::collections::HashSet::new();
        for (i, t) in self.icp.traits.iter().enumerate() {
            v.id(&format!("icp.traits[{i}].id"), &t.id, &mut ids);
            v.non_empty(&format!("icp.traits[{i}].text"), &t.text);
            if !(t.weight.is_finite() && t.weight > 0.0) {
                v.error(&format!("icp.traits[{i}].weight"), "must be a number > 0");
            }
        }
        let n = self.icp.disqualifiers.len();
        if !(2..=3).contains(&n) {
            v.warn(
                "icp.disqualifiers",
                &format!("has {n} disqualifiers; 2–3 hard ones are recommended"),
            );
        }
        for (i, d) in self.icp.disqualifiers.iter().enumerate() {
            v.id(&format!("icp.disqualifiers[{i}].id"), &d.id, &mut ids);
            v.non_empty(&format!("icp.disqualifiers[{i}].text"), &d.text);
            if let Some(check) = &d.check {
                check.validate(&format!("icp.disqualifiers[{i}].check"), v);
            }
        }
    }

    /// `[qualification]`: question counts, the budget gate, the confidence
    /// floor and the framework with its slots.
    pub(super) fn validate_qualification(&self, v: &mut Validator) {
        let q = &self.qualification;
        if q.min_questions == 0 {
            v.error("qualification.min_questions", "must be at least 1");
        }
        if q.max_questions < q.min_questions {
            v.error(
                "qualification.max_questions",
                &format!("must be >= min_questions ({})", q.min_questions),
            );
        }
        if q.budget_not_before_message == 0 {
            v.error(
                "qualification.budget_not_before_message",
                "must be at least 1 (the first lead message)",
            );
        }
        for (key, value) in [
            ("qualification.min_confidence", q.min_confidence),
            (
                "qualification.min_confidence_forced",
                q.min_confidence_forced,
            ),
        ] {
            if !(0.0..=1.0).contains(&value) {
                v.error(
                    key,
                    "must be between 0 and 1 (a probability; 0 keeps every value)",
                );
            }
        }
        match Framework::resolve(&q.framework, &q.slots) {
            Ok(fw) => {
                if q.framework != "custom" && !q.slots.is_empty() {
                    v.error(
                        "qualification.slots",
                        "only allowed with framework = \"custom\"",
                    );
                }
                v.issues.extend(fw.validate_slots("qualification.slots"));
            }
            Err(message) => v.error("qualification.framework", &message),
        }
    }

    /// `[llm]`: sampling, timeouts, the context size, the endpoint, prices,
    /// and a key pasted where its variable's name belongs.
    pub(super) fn validate_llm(&self, v: &mut Validator) {
        if !(0.0..=2.0).contains(&self.llm.temperature) {
            v.error("llm.temperature", "must be between 0 and 2");
        }
        if self.llm.timeout_secs == 0 {
            v.error("llm.timeout_secs", "must be at least 1");
        }
        if self.llm.context_tokens < 512 {
            v.error("llm.context_tokens", "must be at least 512");
        }
        if self.llm.provider == Provider::Openai {
            v.non_empty("llm.base_url", &self.llm.base_url);
            v.non_empty("llm.model", &self.llm.model);
        }
        if self.llm.api_key_env.starts_with("sk-") {
            v.error(
                "llm.api_key_env",
                "looks like a key; put the NAME of an environment variable here, not the key",
            );
        }
        for (key, price) in [
            ("llm.price_per_1k_prompt", self.llm.price_per_1k_prompt),
            (
                "llm.price_per_1k_completion",
                self.llm.price_per_1k_completion,
            ),
        ] {
            if !(price.is_finite() && price >= 0.0) {
                v.error(key, "must be a number >= 0");
            }
        }
    }
}
