//! What each prompt template sees. One builder per template, shared by the
//! turn and by `setter check` (which renders every template against a sample).

use super::directives::Directives;
use super::plan::{Action, LinkKind, Plan};
use crate::config::{Config, Framework, SlotRole};
use crate::prompts::Prompts;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Who a reply speaks to: the lead's first name and the result they said
/// they want, when known. A closing reply uses both, so the link arrives as
/// "Ana, here is how you get to a full calendar", not as a bare URL.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Addressee {
    pub first_name: Option<String>,
    pub desired_outcome: Option<String>,
}

impl Addressee {
    /// From the lead's profile name and the framework's outcome slot (the
    /// slot with role `outcome`) among the `known` values.
    pub fn of(name: Option<&str>, framework: &Framework, known: &BTreeMap<String, Value>) -> Self {
        let first_name = name
            .and_then(|n| n.split_whitespace().next())
            .filter(|w| w.chars().any(char::is_alphabetic))
            .map(str::to_string);
        let desired_outcome = framework
            .slots
            .iter()
            .find(|s| s.role == SlotRole::Outcome)
            .and_then(|s| known.get(&s.id))
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            });
        Addressee {
            first_name,
            desired_outcome,
        }
    }
}

/// `extract.j2`: the offer, slots and ICP — identical for every lead, so a
/// local model can keep the whole rendered prompt in its KV cache.
pub fn extract(config: &Config, framework: &Framework) -> Value {
    json!({
        "offer": config.offer,
        "slots": framework.slots,
        "traits": config.icp.traits,
        "disqualifiers": config.icp.disqualifiers,
    })
}

/// `system.j2` and `turn.j2` (reply writer) and `fallback.j2`. `lead_language`
/// names the lead's language when a reply must be written in it.
pub fn reply(
    config: &Config,
    known: &BTreeMap<String, Value>,
    plan: &Plan,
    lead_language: Option<&str>,
    lead: &Addressee,
) -> Value {
    let known: Vec<Value> = known
        .iter()
        .map(|(id, v)| {
            let value = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            json!({"id": id, "value": value})
        })
        .collect();
    let mut offer = json!(config.offer);
    // 2000.0 reads as a machine wrote it; 2000 and 49.5 read as a person would.
    offer["price"] = json!(format_price(config.offer.price));
    json!({
        "offer": offer,
        "persona": config.persona,
        "language": config.persona.language,
        "lead_language": lead_language,
        "known": known,
        "lead": lead,
        "plan": {
            "action": plan.action.as_str(),
            "slot": plan.slot,
            "question": plan.question,
            "question_text": plan.question_text,
            "budget_allowed": plan.budget_allowed,
            "link": plan.link,
            "link_kind": plan.link_kind,
            "reason": plan.reason,
            "answer_price": plan.directives.answer_price,
            "say_assistant": plan.directives.say_assistant,
        },
    })
}

fn format_price(price: f64) -> String {
    if price.fract() == 0.0 {
        format!("{price:.0}")
    } else {
        format!("{price:.2}")
    }
}

/// Sample plans covering every branch of the templates, for `setter check`.
pub fn sample_plans(framework: &Framework) -> Vec<Plan> {
    let slot = framework.slots.first();
    let base = Plan {
        action: Action::Ask,
        slot: slot.map(|s| s.id.clone()),
        question: slot.map(Framework::question_for),
        question_text: slot.map(Framework::ask_for),
        budget_allowed: false,
        link: None,
        link_kind: None,
        reason: "sample".into(),
        directives: Default::default(),
    };
    let mut nurture = base.clone();
    nurture.action = Action::Nurture;
    nurture.question = None;
    nurture.question_text = None;
    let mut close = nurture.clone();
    close.action = Action::Close;
    close.link = Some("https://example.com/book".into());
    close.link_kind = Some(LinkKind::Booking);
    let mut pay = close.clone();
    pay.link = Some("https://example.com/pay".into());
    pay.link_kind = Some(LinkKind::Payment);
    let mut decline = nurture.clone();
    decline.action = Action::Decline;
    let mut asked = base.clone();
    asked.directives = Directives {
        answer_price: true,
        say_assistant: true,
    };
    vec![base, nurture, close, pay, decline, asked]
}

/// `opener.j2` contexts covering its branches: every language it is written
/// in, with and without a name, with the price and assistant sentences.
pub fn opener_samples(config: &Config, framework: &Framework) -> Vec<Value> {
    use whatlang::Lang;
    let Some(slot) = framework.slots.first() else {
        return Vec::new();
    };
    let asked = Directives {
        answer_price: true,
        say_assistant: true,
    };
    [
        Lang::Eng,
        Lang::Spa,
        Lang::Por,
        Lang::Fra,
        Lang::Deu,
        Lang::Ita,
    ]
    .into_iter()
    .flat_map(|lang| {
        [
            super::opener::context(config, slot, Directives::default(), lang, None),
            super::opener::context(config, slot, asked, lang, Some("Ana")),
        ]
    })
    .collect()
}

/// The reply prompts' instructions, rendered for every sample plan: the
/// text a reply must not copy (see [`super::copies::ConfigText`]).
pub(crate) fn instructions(
    config: &Config,
    framework: &Framework,
    prompts: &Prompts,
) -> Result<Vec<String>, crate::prompts::Error> {
    let mut out = Vec::new();
    // With and without the lead's name and goal: the close's instructions
    // about them ("Tie the link to the result…") render only when known.
    for addressee in [Addressee::default(), sample_addressee()] {
        for plan in sample_plans(framework) {
            let ctx = reply(config, &BTreeMap::new(), &plan, None, &addressee);
            for name in ["system.j2", "turn.j2"] {
                out.push(prompts.render(name, &ctx)?);
            }
        }
    }
    Ok(out)
}

/// A sample lead for `setter check`: both optional parts known, so every
/// branch that uses them renders.
pub fn sample_addressee() -> Addressee {
    Addressee {
        first_name: Some("Ana".into()),
        desired_outcome: Some("a full calendar".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_addressee_is_the_first_name_and_the_outcome_slot() {
        let fw = Framework::resolve("pif", &[]).unwrap();
        let known = BTreeMap::from([
            ("desired_outcome".to_string(), json!("fill my calendar")),
            ("pain".to_string(), json!("no leads")),
        ]);
        let a = Addressee::of(Some("  Ana María Souza"), &fw, &known);
        assert_eq!(a.first_name.as_deref(), Some("Ana"));
        assert_eq!(a.desired_outcome.as_deref(), Some("fill my calendar"));
        // A profile name that is no name (an emoji, digits) is left out.
        assert_eq!(Addressee::of(Some("🔥 123"), &fw, &known).first_name, None);
        assert_eq!(
            Addressee::of(None, &fw, &BTreeMap::new()),
            Addressee::default()
        );
    }

    #[test]
    fn the_instructions_a_reply_must_not_copy_include_the_close_about_the_lead() {
        let c = Config::example();
        let fw = Framework::resolve("pif", &[]).unwrap();
        let prompts = Prompts::load(None).unwrap();
        let all = instructions(&c, &fw, &prompts).unwrap().join("\n");
        // Seen copied into a close: "Tie the link to the result you told me you want".
        assert!(all.contains("Tie the link to the result"), "{all}");
        assert!(all.contains("Address them by their first name"), "{all}");
    }
}
