//! Question cadence, decided in code: what this reply should do.
//!
//! Rules from the playbook: one question per message; 3–5 questions spread
//! over the conversation; never budget before the configured lead message;
//! stop asking once enough is known; a disqualified lead is declined, not
//! questioned; a Hot lead gets the next step instead of another question.

use super::directives::Directives;
use super::score::{self, Assessment};
use crate::config::{Config, Framework, SlotRole};
use crate::lead::Tier;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the reply does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Ask about `slot`.
    Ask,
    /// Acknowledge and add value without a question (e.g. only budget is left
    /// and it is too early to ask).
    Nurture,
    /// Send the booking or payment link.
    Close,
    /// Politely end: a hard disqualifier matched.
    Decline,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Ask => "ask",
            Action::Nurture => "nurture",
            Action::Close => "close",
            Action::Decline => "decline",
        }
    }
}

/// Which of the offer's links a closing reply carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// `offer.booking_url`: a call with a closer (high-ticket offers).
    Booking,
    /// `offer.payment_url`: the sale closes in the DM (offers priced below
    /// `[scoring] close_in_dm_below`).
    Payment,
}

/// The plan for one reply; rendered into the system prompt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub action: Action,
    /// The slot to ask about (with `Ask`).
    pub slot: Option<String>,
    /// Instruction for the writer model.
    pub question: Option<String>,
    /// Literal question for the fallback reply.
    pub question_text: Option<String>,
    /// Whether budget may be mentioned in this reply.
    pub budget_allowed: bool,
    pub link: Option<String>,
    /// What `link` is (with `Close` and a configured link).
    pub link_kind: Option<LinkKind>,
    pub reason: String,
    /// What the reply must say because the lead asked (the price, that it
    /// is an assistant); set from the lead's words after planning.
    pub directives: Directives,
}

impl Plan {
    /// Whether `reply` (as it will be sent) carries this plan's payment link:
    /// what makes a turn record that the payment link was sent.
    pub fn payment_link_in(&self, reply: &str) -> bool {
        self.link_kind == Some(LinkKind::Payment)
            && self.link.as_deref().is_some_and(|l| reply.contains(l))
    }
}

/// Decides the next reply. `asked` lists the slot asked in each earlier turn;
/// `message_no` is the 1-based number of the lead message being answered;
/// `wants_next_step`: that message asks for the price or a call.
pub fn plan(
    config: &Config,
    framework: &Framework,
    assessment: &Assessment,
    known: &BTreeMap<String, serde_json::Value>,
    asked: &[Option<String>],
    message_no: usize,
    wants_next_step: bool,
) -> Plan {
    let q = &config.qualification;
    let budget_allowed = message_no >= q.budget_not_before_message as usize;
    let mut plan = Plan {
        action: Action::Nurture,
        slot: None,
        question: None,
        question_text: None,
        budget_allowed,
        link: None,
        link_kind: None,
        reason: String::new(),
        directives: Directives::default(),
    };
    if let Some(d) = &assessment.disqualified {
        plan.action = Action::Decline;
        plan.reason = config
            .icp
            .disqualifiers
            .iter()
            .find(|x| x.id == d.id)
            .map(|x| x.text.clone())
            .unwrap_or_else(|| d.id.clone());
        return plan;
    }
    let questions_asked = asked.iter().flatten().count();
    let all_known = framework.slots.iter().all(|s| known.contains_key(&s.id));
    // A Hot lead gets the next step once the minimum questions are asked, or
    // at once when they ask for it: holding back a buyer to ask more loses them.
    let hot = assessment.tier == Tier::Hot;
    if hot && (questions_asked >= q.min_questions as usize || all_known || wants_next_step) {
        let why = if wants_next_step && questions_asked < q.min_questions as usize {
            "tier hot and the lead asked for the next step".to_string()
        } else {
            format!("tier hot after {questions_asked} questions")
        };
        return close(config, assessment, plan, why);
    }
    if questions_asked >= q.max_questions as usize {
        plan.reason = format!("asked the maximum of {} questions", q.max_questions);
        return plan;
    }
    // Don't nag: a slot asked twice without an answer is left for the closer.
    let times_asked = |id: &str| asked.iter().flatten().filter(|s| s.as_str() == id).count();
    let just_asked = asked.last().cloned().flatten();
    let next = framework.slots.iter().find(|s| {
        !known.contains_key(&s.id)
            && (s.role != SlotRole::Budget || budget_allowed)
            && times_asked(&s.id) < 2
            && just_asked.as_deref() != Some(s.id.as_str())
    });
    match next {
        Some(slot) => {
            plan.action = Action::Ask;
            plan.slot = Some(slot.id.clone());
            plan.question = Some(Framework::question_for(slot));
            plan.question_text = Some(Framework::ask_for(slot));
            plan.reason = format!("{} is the next unknown slot", slot.id);
        }
        // Nothing to ask yet: a Hot lead is not left to nurture.
        None if hot => {
            return close(
                config,
                assessment,
                plan,
                "tier hot, nothing left to ask now".into(),
            )
        }
        None => {
            plan.reason = if all_known {
                "every slot is known".into()
            } else {
                format!(
                    "only budget is left and it waits until lead message {}",
                    q.budget_not_before_message
                )
            };
        }
    }
    plan
}

/// Turns `plan` into sending the booking or payment link. A cheap offer
/// without a payment link configured falls back to the booking link.
fn close(config: &Config, assessment: &Assessment, mut plan: Plan, why: String) -> Plan {
    plan.action = Action::Close;
    let offer = &config.offer;
    let pay_in_dm = assessment.next_action == score::SEND_PAYMENT_LINK;
    let (kind, link) = match (pay_in_dm, offer.payment_url.is_empty()) {
        (true, false) => (LinkKind::Payment, &offer.payment_url),
        _ => (LinkKind::Booking, &offer.booking_url),
    };
    if !link.is_empty() {
        plan.link = Some(link.clone());
        plan.link_kind = Some(kind);
    }
    plan.reason = format!("{why}: {}", assessment.next_action);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::score;
    use crate::config::Config;
    use serde_json::json;

    fn fixture() -> (Config, Framework) {
        let c = Config::example();
        let fw = Framework::resolve("pif", &[]).unwrap();
        (c, fw)
    }

    fn neutral(c: &Config, fw: &Framework) -> Assessment {
        score::assess(c, fw, &[], &BTreeMap::new(), 0)
    }

    #[test]
    fn asks_slots_in_order_one_at_a_time() {
        let (c, fw) = fixture();
        let known = BTreeMap::from([("pain".to_string(), json!("no leads"))]);
        let p = plan(
            &c,
            &fw,
            &neutral(&c, &fw),
            &known,
            &[Some("pain".into())],
            2,
            false,
        );
        assert_eq!(
            (p.action, p.slot.as_deref()),
            (Action::Ask, Some("business"))
        );
    }

    #[test]
    fn budget_waits_for_its_message() {
        let (c, fw) = fixture();
        let known: BTreeMap<String, serde_json::Value> =
            ["pain", "business", "desired_outcome", "timeline"]
                .iter()
                .map(|k| (k.to_string(), json!("x")))
                .collect();
        let asked = vec![Some("pain".into()), Some("business".into())];
        let early = plan(&c, &fw, &neutral(&c, &fw), &known, &asked, 4, false);
        assert_eq!(early.action, Action::Nurture);
        assert!(!early.budget_allowed);
        let on_time = plan(&c, &fw, &neutral(&c, &fw), &known, &asked, 5, false);
        assert_eq!(on_time.slot.as_deref(), Some("budget"));
    }

    #[test]
    fn stops_after_max_questions() {
        let (c, fw) = fixture();
        let asked: Vec<Option<String>> =
            ["pain", "business", "desired_outcome", "timeline", "budget"]
                .iter()
                .map(|s| Some(s.to_string()))
                .collect();
        let p = plan(
            &c,
            &fw,
            &neutral(&c, &fw),
            &BTreeMap::new(),
            &asked,
            9,
            false,
        );
        assert_eq!(p.action, Action::Nurture);
        assert_eq!(p.reason, "asked the maximum of 5 questions");
    }

    #[test]
    fn a_hot_lead_asking_for_the_next_step_gets_the_link_at_once() {
        let (c, fw) = fixture();
        let mut hot = neutral(&c, &fw);
        hot.tier = Tier::Hot;
        hot.next_action = "send_payment_link".into();
        let asked = [Some("pain".to_string())];
        let waiting = plan(&c, &fw, &hot, &BTreeMap::new(), &asked, 2, false);
        assert_eq!(waiting.action, Action::Ask, "{}", waiting.reason);
        let now = plan(&c, &fw, &hot, &BTreeMap::new(), &asked, 2, true);
        assert_eq!(now.action, Action::Close);
        assert_eq!(now.link.as_deref(), Some(c.offer.payment_url.as_str()));
        assert_eq!(now.link_kind, Some(LinkKind::Payment));
        assert!(now.payment_link_in(&format!("Here you go: {}", c.offer.payment_url)));
        assert!(!now.payment_link_in("Here you go."));
        assert_eq!(
            now.reason,
            "tier hot and the lead asked for the next step: send_payment_link"
        );
        // Nothing askable (budget waits): close rather than nurture.
        let known = ["pain", "business", "desired_outcome", "timeline"]
            .iter()
            .map(|k| (k.to_string(), json!("x")))
            .collect();
        let idle = plan(&c, &fw, &hot, &known, &asked, 2, false);
        assert_eq!(idle.action, Action::Close, "{}", idle.reason);
        // A warm lead asking for the price still gets qualified.
        let warm = plan(
            &c,
            &fw,
            &neutral(&c, &fw),
            &BTreeMap::new(),
            &asked,
            2,
            true,
        );
        assert_eq!(warm.action, Action::Ask);
    }

    #[test]
    fn a_high_ticket_offer_closes_with_the_booking_link() {
        let (mut c, fw) = fixture();
        c.offer.price = 8000.0;
        let mut hot = neutral(&c, &fw);
        hot.tier = Tier::Hot;
        hot.next_action = c.scoring.next_actions.hot.clone();
        let asked = [Some("pain".to_string())];
        let p = plan(&c, &fw, &hot, &BTreeMap::new(), &asked, 2, true);
        assert_eq!(p.link.as_deref(), Some(c.offer.booking_url.as_str()));
        assert_eq!(p.link_kind, Some(LinkKind::Booking));
        assert!(!p.payment_link_in(&c.offer.booking_url));
        // A cheap offer without a payment link books a call instead.
        c.offer.price = 200.0;
        c.offer.payment_url.clear();
        hot.next_action = score::SEND_PAYMENT_LINK.into();
        let p = plan(&c, &fw, &hot, &BTreeMap::new(), &asked, 2, true);
        assert_eq!(p.link_kind, Some(LinkKind::Booking));
    }
}
