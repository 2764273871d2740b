//! Qualification frameworks: the slots to fill and the question intent for each.
//!
//! A slot's `role` is what scoring and cadence key on (budget timing, intent
//! signals), so `money` in CHAMP and `funds` in FAINT behave like BANT's `budget`.

use super::Issue;
use serde::{Deserialize, Serialize};

/// Value type of a slot; drives the extraction JSON schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotKind {
    String,
    Number,
    Enum,
    Bool,
}

/// What a slot means to scoring and cadence, independent of its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlotRole {
    Pain,
    Outcome,
    Timing,
    Budget,
    Authority,
    Fit,
    Other,
}

/// One piece of information the bot tries to learn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub id: String,
    pub description: String,
    /// What the next reply should ask, as an instruction to the writer model.
    #[serde(default)]
    pub question: String,
    /// A literal question used when the model's wording fails a guard.
    #[serde(default)]
    pub ask: String,
    #[serde(rename = "type", default = "string_kind")]
    pub kind: SlotKind,
    #[serde(default = "other_role")]
    pub role: SlotRole,
    #[serde(default)]
    pub values: Vec<String>,
}

fn string_kind() -> SlotKind {
    SlotKind::String
}
fn other_role() -> SlotRole {
    SlotRole::Other
}

/// A named, ordered list of slots; order is the default asking order.
#[derive(Debug, Clone, PartialEq)]
pub struct Framework {
    pub id: String,
    pub slots: Vec<Slot>,
}

/// The built-in packs' ids, in the order `setter check` lists them.
pub const BUILT_IN: [&str; 7] = [
    "pif",
    "bant",
    "gpct",
    "champ",
    "meddic",
    "faint",
    "gpctba-ci",
];

/// (id, role, description, question instruction, literal fallback question)
type SlotSpec = (
    &'static str,
    SlotRole,
    &'static str,
    &'static str,
    &'static str,
);

fn pack(id: &str) -> Option<&'static [SlotSpec]> {
    use SlotRole::*;
    const PIF: &[SlotSpec] = &[
        (
            "pain",
            Pain,
            "The problem the lead wants solved, in their words",
            "Ask what made them reach out / what is not working right now",
            "What made you reach out today?",
        ),
        (
            "business",
            Fit,
            "What the lead's business is and roughly how big (offer, team, revenue)",
            "Ask what their business does and roughly how big it is",
            "What does your business do, and roughly how big is it?",
        ),
        (
            "desired_outcome",
            Outcome,
            "The result the lead wants",
            "Ask what result they want, e.g. what getting it in 90 days would mean for them",
            "If this worked perfectly, what would be different for you in 90 days?",
        ),
        (
            "timeline",
            Timing,
            "When the lead wants to start or needs results",
            "Ask when they would want this in place",
            "When would you ideally want this in place?",
        ),
        (
            "budget",
            Budget,
            "Money the lead can invest, with currency and period",
            "Ask, gently, what they have set aside to invest in fixing this",
            "What have you set aside to invest in solving this?",
        ),
    ];
    const BANT: &[SlotSpec] = &[
        (
            "need",
            Pain,
            "What the lead needs and why",
            "Ask what they need help with and why now",
            "What do you need help with right now?",
        ),
        (
            "timeline",
            Timing,
            "When they plan to buy or start",
            "Ask when they want to have this solved",
            "When would you ideally want this in place?",
        ),
        (
            "authority",
            Authority,
            "Who decides on the purchase (the lead's role)",
            "Ask who else is involved in deciding",
            "Who else is involved in deciding on something like this?",
        ),
        (
            "budget",
            Budget,
            "Budget available, with currency and period",
            "Ask what budget they have in mind",
            "What have you set aside to invest in solving this?",
        ),
    ];
    const GPCT: &[SlotSpec] = &[
        (
            "goals",
            Outcome,
            "What the lead wants to achieve",
            "Ask what they want to achieve",
            "What are you hoping to achieve?",
        ),
        (
            "plans",
            Other,
            "How they plan to reach the goal today",
            "Ask how they plan to get there",
            "How are you planning to get there today?",
        ),
        (
            "challenges",
            Pain,
            "What stands in their way",
            "Ask what is getting in the way",
            "What's getting in the way right now?",
        ),
        (
            "timeline",
            Timing,
            "When they want the goal reached",
            "Ask by when they want to get there",
            "When would you ideally want this in place?",
        ),
    ];
    const CHAMP: &[SlotSpec] = &[
        (
            "challenges",
            Pain,
            "The challenge the lead wants solved",
            "Ask what challenge made them reach out",
            "What's getting in the way right now?",
        ),
        (
            "authority",
            Authority,
            "Who decides (the lead's role)",
            "Ask who else weighs in on a decision like this",
            "Who else is involved in deciding on something like this?",
        ),
        (
            "prioritization",
            Timing,
            "How urgent it is / when they want to start",
            "Ask how high this is on their list and when they want to start",
            "How high is this on your list, and when would you want to start?",
        ),
        (
            "money",
            Budget,
            "Budget available, with currency and period",
            "Ask what they have set aside for this",
            "What have you set aside for this?",
        ),
    ];
    const MEDDIC: &[SlotSpec] = &[
        (
            "identified_pain",
            Pain,
            "The pain the lead wants to solve",
            "Ask what problem they want to solve",
            "What problem are you trying to solve?",
        ),
        (
            "metrics",
            Outcome,
            "The measurable result expected (ROI, revenue, hours)",
            "Ask how they would measure success",
            "How would you measure success here?",
        ),
        (
            "economic_buyer",
            Authority,
            "Who signs off on the spend",
            "Ask who signs off on a purchase like this",
            "Who signs off on a purchase like this?",
        ),
        (
            "decision_criteria",
            Other,
            "How they will judge options",
            "Ask what matters most when they compare options",
            "What matters most to you when comparing options?",
        ),
        (
            "decision_process",
            Timing,
            "Steps and timing of their decision",
            "Ask what their decision process and timing look like",
            "What does your decision process look like, and on what timing?",
        ),
        (
            "champion",
            Other,
            "Someone inside who pushes for the purchase",
            "Ask who on their side is most keen to fix this",
            "Who on your side is most keen to get this fixed?",
        ),
    ];
    const FAINT: &[SlotSpec] = &[
        (
            "need",
            Pain,
            "What the lead needs",
            "Ask what they need help with",
            "What do you need help with right now?",
        ),
        (
            "interest",
            Outcome,
            "How interested they are and in what",
            "Ask what caught their interest",
            "What caught your interest?",
        ),
        (
            "timing",
            Timing,
            "How urgently they need it",
            "Ask how soon they need this",
            "How soon do you need this?",
        ),
        (
            "authority",
            Authority,
            "Who decides (the lead's role)",
            "Ask who makes the call on this",
            "Who else is involved in deciding on something like this?",
        ),
        (
            "funds",
            Budget,
            "Money available, with currency and period",
            "Ask what they can invest",
            "What can you invest in this?",
        ),
    ];
    const GPCTBA_CI: &[SlotSpec] = &[
        (
            "goals",
            Outcome,
            "What the lead wants to achieve",
            "Ask what they want to achieve",
            "What are you hoping to achieve?",
        ),
        (
            "challenges",
            Pain,
            "What stands in their way",
            "Ask what is in the way",
            "What's getting in the way right now?",
        ),
        (
            "plans",
            Other,
            "How they plan to reach the goal",
            "Ask how they plan to get there",
            "How are you planning to get there today?",
        ),
        (
            "timeline",
            Timing,
            "When they want the goal reached",
            "Ask by when",
            "When would you ideally want this in place?",
        ),
        (
            "authority",
            Authority,
            "What decision makers think of the plan",
            "Ask who else needs to agree",
            "Who else is involved in deciding on something like this?",
        ),
        (
            "consequences",
            Other,
            "What happens if they do or don't reach the goal",
            "Ask what changes for them if this gets solved (or doesn't)",
            "What changes for you if this gets solved, or if it doesn't?",
        ),
        (
            "budget",
            Budget,
            "How they will fund it",
            "Ask what they have set aside for this",
            "What have you set aside to invest in solving this?",
        ),
    ];
    Some(match id {
        "pif" => PIF,
        "bant" => BANT,
        "gpct" => GPCT,
        "champ" => CHAMP,
        "meddic" => MEDDIC,
        "faint" => FAINT,
        "gpctba-ci" => GPCTBA_CI,
        _ => return None,
    })
}

impl Framework {
    /// Resolves a framework id (or `custom` with its slots) to its slot list.
    pub fn resolve(id: &str, custom: &[Slot]) -> Result<Framework, String> {
        if id == "custom" {
            return Ok(Framework {
                id: id.into(),
                slots: custom.to_vec(),
            });
        }
        let specs = pack(id).ok_or_else(|| {
            format!(
                "unknown framework \"{id}\"; choose one of {}, or custom",
                BUILT_IN.join(", ")
            )
        })?;
        let slots = specs
            .iter()
            .map(|&(id, role, description, question, ask)| Slot {
                id: id.into(),
                description: description.into(),
                question: question.into(),
                ask: ask.into(),
                kind: SlotKind::String,
                role,
                values: Vec::new(),
            })
            .collect();
        Ok(Framework {
            id: id.into(),
            slots,
        })
    }

    /// Checks custom slots; built-in packs are valid by construction.
    pub fn validate_slots(&self, key: &str) -> Vec<Issue> {
        let mut v = super::Validator::default();
        if self.slots.is_empty() {
            v.error(
                key,
                "a custom framework needs at least one [[qualification.slots]]",
            );
        }
        let mut seen = std::collections::HashSet::new();
        for (i, s) in self.slots.iter().enumerate() {
            v.id(&format!("{key}[{i}].id"), &s.id, &mut seen);
            v.non_empty(&format!("{key}[{i}].description"), &s.description);
            if s.kind == SlotKind::Enum && s.values.is_empty() {
                v.error(
                    &format!("{key}[{i}].values"),
                    "an enum slot needs at least one value",
                );
            }
        }
        v.issues
    }

    pub fn slot(&self, id: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.id == id)
    }

    /// The question instruction for a slot (custom slots may leave it empty).
    pub fn question_for(slot: &Slot) -> String {
        if slot.question.is_empty() {
            format!("Ask about: {}", slot.description)
        } else {
            slot.question.clone()
        }
    }

    /// The literal fallback question for a slot.
    pub fn ask_for(slot: &Slot) -> String {
        if slot.ask.is_empty() {
            format!(
                "Could you tell me a bit about this: {}?",
                slot.description.to_lowercase()
            )
        } else {
            slot.ask.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_pack_resolves_with_unique_slots() {
        for id in BUILT_IN {
            let fw = Framework::resolve(id, &[]).unwrap();
            assert!(fw.validate_slots("s").is_empty(), "{id}");
            assert!(fw.slots.len() >= 4, "{id}");
        }
    }

    #[test]
    fn unknown_framework_lists_the_choices() {
        let err = Framework::resolve("spin", &[]).unwrap_err();
        assert_eq!(
            err,
            "unknown framework \"spin\"; choose one of pif, bant, gpct, champ, meddic, faint, gpctba-ci, or custom"
        );
    }
}
