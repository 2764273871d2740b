//! `[scoring]`: every number of the fit × intent rubric, so closers can read
//! and operators can tune exactly what decides Hot / Warm / Cold.

use super::Issue;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScoringConfig {
    /// Weighted share of matched traits (over known traits) for fit "high".
    pub fit_high_at: f64,
    pub fit_medium_at: f64,
    /// Fit cannot be "high" on one lucky trait: at least this many must be known.
    pub min_known_traits_for_high: usize,
    /// Sum of signal weights for intent "high" / "medium".
    pub intent_high_at: f64,
    pub intent_medium_at: f64,
    pub timing_horizon_days: u32,
    /// Offers below this price close in the DM with the payment link.
    pub close_in_dm_below: f64,
    /// Signals older than this weigh half (0 disables decay).
    pub intent_half_life_days: f64,
    /// The two cells the seed matrix leaves open: "hot" | "warm" | "cold".
    pub medium_medium: String,
    pub medium_low: String,
    pub signals: SignalWeights,
    pub next_actions: NextActions,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        Self {
            fit_high_at: 0.7,
            fit_medium_at: 0.4,
            min_known_traits_for_high: 2,
            intent_high_at: 4.0,
            intent_medium_at: 2.0,
            timing_horizon_days: 90,
            close_in_dm_below: 5000.0,
            intent_half_life_days: 30.0,
            medium_medium: "warm".into(),
            medium_low: "cold".into(),
            signals: SignalWeights::default(),
            next_actions: NextActions::default(),
        }
    }
}

/// Weight of each intent signal; negative signals lower intent.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SignalWeights {
    pub asked_price: f64,
    pub asked_call: f64,
    pub timing_within_horizon: f64,
    pub budget_at_or_above_price: f64,
    /// A stated budget under the price: the seed's "not a big enough budget".
    pub budget_below_price: f64,
    pub authority_confirmed: f64,
    pub urgent_pain: f64,
    pub just_browsing: f64,
    pub no_budget: f64,
    pub later: f64,
}

impl Default for SignalWeights {
    fn default() -> Self {
        Self {
            asked_price: 3.0,
            asked_call: 3.0,
            timing_within_horizon: 2.0,
            budget_at_or_above_price: 2.0,
            budget_below_price: -2.0,
            authority_confirmed: 1.0,
            urgent_pain: 1.0,
            just_browsing: -3.0,
            no_budget: -3.0,
            later: -2.0,
        }
    }
}

impl SignalWeights {
    /// Every signal's name, as evidence keys and `[scoring.signals]` spell it.
    pub const NAMES: [&'static str; 10] = [
        "asked_price",
        "asked_call",
        "timing_within_horizon",
        "budget_at_or_above_price",
        "budget_below_price",
        "authority_confirmed",
        "urgent_pain",
        "just_browsing",
        "no_budget",
        "later",
    ];

    /// The weight of the signal named `name` (`None` for an unknown name).
    pub fn get(&self, name: &str) -> Option<f64> {
        Some(match name {
            "asked_price" => self.asked_price,
            "asked_call" => self.asked_call,
            "timing_within_horizon" => self.timing_within_horizon,
            "budget_at_or_above_price" => self.budget_at_or_above_price,
            "budget_below_price" => self.budget_below_price,
            "authority_confirmed" => self.authority_confirmed,
            "urgent_pain" => self.urgent_pain,
            "just_browsing" => self.just_browsing,
            "no_budget" => self.no_budget,
            "later" => self.later,
            _ => return None,
        })
    }
}

/// The action each cell of the matrix leads to (free text, shown to closers).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NextActions {
    pub hot: String,
    pub warm_nurture: String,
    pub warm_deepen: String,
    pub cold_decline: String,
    pub cold_nurture: String,
}

impl Default for NextActions {
    fn default() -> Self {
        Self {
            hot: "book_call".into(),
            warm_nurture: "nurture_and_invite".into(),
            warm_deepen: "send_case_study".into(),
            cold_decline: "decline_with_resource".into(),
            cold_nurture: "long_form_nurture".into(),
        }
    }
}

impl ScoringConfig {
    pub(crate) fn validate(&self) -> Vec<Issue> {
        let mut v = super::Validator::default();
        for (key, x) in [
            ("scoring.fit_high_at", self.fit_high_at),
            ("scoring.fit_medium_at", self.fit_medium_at),
        ] {
            if !(0.0..=1.0).contains(&x) {
                v.error(key, "must be between 0 and 1");
            }
        }
        if self.fit_medium_at > self.fit_high_at {
            v.error("scoring.fit_medium_at", "must be <= fit_high_at");
        }
        if self.intent_medium_at > self.intent_high_at {
            v.error("scoring.intent_medium_at", "must be <= intent_high_at");
        }
        if self.intent_half_life_days.is_nan() || self.intent_half_life_days < 0.0 {
            v.error("scoring.intent_half_life_days", "must be >= 0");
        }
        for (key, tier) in [
            ("scoring.medium_medium", &self.medium_medium),
            ("scoring.medium_low", &self.medium_low),
        ] {
            if !["hot", "warm", "cold"].contains(&tier.as_str()) {
                v.error(key, "must be \"hot\", \"warm\" or \"cold\"");
            }
        }
        v.issues
    }
}

#[cfg(test)]
mod tests {
    use super::SignalWeights;

    /// `NAMES` and `get` stay in step with the fields `[scoring.signals]` reads.
    #[test]
    fn every_configured_signal_is_named_and_weighed() {
        let w = SignalWeights::default();
        let table = toml::Value::try_from(&w).unwrap();
        let table = table.as_table().unwrap();
        let mut keys: Vec<&str> = table.keys().map(String::as_str).collect();
        let mut names = SignalWeights::NAMES.to_vec();
        keys.sort_unstable();
        names.sort_unstable();
        assert_eq!(keys, names);
        for (key, value) in table {
            assert_eq!(w.get(key), value.as_float(), "{key}");
        }
        assert_eq!(w.get("no_such_signal"), None);
    }
}
