//! ICP traits that are a money threshold ("Makes at least $5k a month"),
//! decided in code from the revenue the lead states. The model's "true" for
//! such a trait was a guess (it said so with no number anywhere); a stated
//! "around $45k a month" in answer to a revenue question is a fact, and
//! "I'm at around 12k a month" under a $15k bar is a fact the other way.

use super::budget::{read_use, Use};
use super::money::{self, Money};
use crate::config::Icp;
use crate::lead::{Direction, EvidenceKind};
use crate::store::{EvidenceRow, Message};

/// Evidence for threshold traits from the revenue stated in `pending`
/// (each read with the bot message before it in `messages`), for traits
/// with no evidence among `so_far` yet.
pub(super) fn evidence(
    icp: &Icp,
    messages: &[Message],
    pending: &[Message],
    so_far: &[EvidenceRow],
) -> Vec<EvidenceRow> {
    let stated = revenue_in(messages, pending);
    let Some((m, revenue, words)) = stated.last() else {
        return Vec::new();
    };
    icp.traits
        .iter()
        .filter(|t| {
            !so_far
                .iter()
                .any(|e| e.kind == EvidenceKind::Trait && e.key == t.id)
        })
        .filter_map(|t| {
            let bar = money::amounts(&t.text).into_iter().next()?;
            let comparable = match (bar.currency, revenue.currency) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            comparable.then(|| EvidenceRow {
                kind: EvidenceKind::Trait,
                key: t.id.clone(),
                matched: revenue.monthly() >= bar.monthly(),
                quote: words.clone(),
                message_id: m.id,
                at: m.at,
            })
        })
        .collect()
}

/// Revenue amounts in the pending lead messages, oldest first, each with its
/// message and the lead's words for it.
fn revenue_in<'a>(
    messages: &[Message],
    pending: &'a [Message],
) -> Vec<(&'a Message, Money, String)> {
    let mut out = Vec::new();
    for m in pending.iter().filter(|m| m.direction == Direction::In) {
        let asked = messages
            .iter()
            .rfind(|b| b.id < m.id && b.direction == Direction::Out)
            .map(|b| b.text.as_str());
        for amount in money::amounts(&m.text) {
            if read_use(&m.text, &amount, asked) == Use::Revenue {
                let words = m.text[amount.span.clone()].trim().to_string();
                out.push((m, amount, words));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::store::test_message as msg;

    fn revenue_rows(convo: &[Message]) -> Vec<(String, bool, String)> {
        let icp = Config::example().icp;
        let pending = &convo[convo.len() - 1..];
        evidence(&icp, convo, pending, &[])
            .into_iter()
            .map(|e| (e.key, e.matched, e.quote))
            .collect()
    }

    #[test]
    fn stated_revenue_decides_a_threshold_trait_both_ways() {
        let asked = msg(
            1,
            Direction::Out,
            "How big is the team, and monthly revenue?",
        );
        let above = [
            asked.clone(),
            msg(2, Direction::In, "8 people, around $45k a month."),
        ];
        assert_eq!(
            revenue_rows(&above),
            vec![("revenue".into(), true, "$45k a month".into())]
        );
        let below = [
            msg(1, Direction::In, "I'm a coach"),
            msg(2, Direction::In, "Honestly I'm at around 3k a month"),
        ];
        assert_eq!(
            revenue_rows(&below),
            vec![("revenue".into(), false, "3k a month".into())]
        );
        let facturan = [msg(2, Direction::In, "Facturamos unos 30.000 € al mes")];
        // Euros against a dollar bar: not comparable, no evidence either way.
        assert!(revenue_rows(&facturan).is_empty());
    }

    #[test]
    fn a_budget_or_a_bare_number_is_not_revenue() {
        let budget = [msg(2, Direction::In, "We can invest $3k/month if it works")];
        assert!(revenue_rows(&budget).is_empty());
        let count = [msg(2, Direction::In, "We get 40 leads a month")];
        assert!(revenue_rows(&count).is_empty());
    }
}
