//! What each prompt template sees. One builder per template, shared by the
//! turn and by `setter check` (which renders every template against a sample).

use super::directives::Directives;
use super::plan::{Action, Plan};
use crate::config::{Config, Framework};
use crate::prompts::Prompts;
use serde_json::{json, Value};
use std::collections::BTreeMap;

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
        "plan": {
            "action": plan.action.as_str(),
            "slot": plan.slot,
            "question": plan.question,
            "question_text": plan.question_text,
            "budget_allowed": plan.budget_allowed,
            "link": plan.link,
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
    let mut decline = nurture.clone();
    decline.action = Action::Decline;
    let mut asked = base.clone();
    asked.directives = Directives {
        answer_price: true,
        say_assistant: true,
    };
    vec![base, nurture, close, decline, asked]
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
    for plan in sample_plans(framework) {
        let ctx = reply(config, &BTreeMap::new(), &plan, None);
        for name in ["system.j2", "turn.j2"] {
            out.push(prompts.render(name, &ctx)?);
        }
    }
    Ok(out)
}
