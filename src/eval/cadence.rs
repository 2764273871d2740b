//! What the bot said, turn by turn, when an eval regenerates its replies
//! (`replay`, `simulate`), and the cadence metrics read off those transcripts:
//! questions per reply, budget asked too early, messages until a lead is
//! qualified in or out, and how many per-turn assertions held.

use crate::lead::Stage;
use serde::{Deserialize, Serialize};

/// One regenerated reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnTrace {
    /// The 1-based lead message this reply answers.
    pub message: u32,
    pub lead: String,
    pub reply: String,
    /// What the plan decided: ask, nurture, close or decline.
    pub action: String,
    /// The slot the plan chose to ask about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<String>,
    /// Slots the reply's questions ask about, read from its text.
    #[serde(default)]
    pub asked: Vec<String>,
    pub questions: u32,
    /// A question of the reply is about money.
    #[serde(default)]
    pub asks_budget: bool,
    /// ... before the lead message `qualification.budget_not_before_message`.
    #[serde(default)]
    pub budget_early: bool,
    pub stage: Stage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<String>,
}

impl TurnTrace {
    /// Whether the lead was qualified in or out by this turn.
    pub fn qualified(&self) -> bool {
        !matches!(
            self.stage,
            Stage::New | Stage::Engaged | Stage::Unresponsive
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    /// An `llm_judge` assertion without `--judge`.
    Skipped,
}

/// One assertion applied to one reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub message: u32,
    /// e.g. `asks_about budget`.
    pub assertion: String,
    pub status: CheckStatus,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// Cadence over every regenerated reply of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cadence {
    pub replies: u32,
    pub questions: u32,
    /// Replies with more than one question.
    pub multi_question_replies: u32,
    /// Replies that asked about budget, and those asked too early (`case#message`).
    pub budget_questions: u32,
    pub budget_too_early: Vec<String>,
    /// Cases qualified in or out, and the lead messages each took.
    pub qualified_cases: u32,
    pub messages_to_qualify: Vec<u32>,
    pub checks: u32,
    pub checks_passed: u32,
    pub checks_skipped: u32,
}

impl Cadence {
    /// Adds one case's transcript and assertion results.
    pub fn add(&mut self, case: &str, trace: &[TurnTrace], checks: &[CheckResult]) {
        for t in trace {
            self.replies += 1;
            self.questions += t.questions;
            if t.questions > 1 {
                self.multi_question_replies += 1;
            }
            if t.asks_budget {
                self.budget_questions += 1;
            }
            if t.budget_early {
                self.budget_too_early.push(format!("{case}#{}", t.message));
            }
        }
        if let Some(t) = trace.iter().find(|t| t.qualified()) {
            self.qualified_cases += 1;
            self.messages_to_qualify.push(t.message);
        }
        for c in checks {
            self.checks += 1;
            match c.status {
                CheckStatus::Pass => self.checks_passed += 1,
                CheckStatus::Skipped => self.checks_skipped += 1,
                CheckStatus::Fail => {}
            }
        }
    }

    /// Named metrics (all but the last two are higher-is-better).
    pub fn named(&self) -> [(&'static str, Option<f64>); 5] {
        use super::metrics::ratio;
        let replies = self.replies as f64;
        let mean_to_qualify = ratio(
            self.messages_to_qualify.iter().map(|&m| m as f64).sum(),
            self.messages_to_qualify.len() as f64,
        );
        [
            (
                "assertion_pass_rate",
                ratio(
                    self.checks_passed as f64,
                    (self.checks - self.checks_skipped) as f64,
                ),
            ),
            (
                "single_question_rate",
                ratio(replies - self.multi_question_replies as f64, replies),
            ),
            (
                "budget_timing_rate",
                ratio(
                    (self.budget_questions as usize - self.budget_too_early.len()) as f64,
                    self.budget_questions as f64,
                ),
            ),
            ("questions_per_reply", ratio(self.questions as f64, replies)),
            ("messages_to_qualify", mean_to_qualify),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(message: u32, questions: u32, budget: bool, early: bool, stage: Stage) -> TurnTrace {
        TurnTrace {
            message,
            lead: String::new(),
            reply: String::new(),
            action: "ask".into(),
            planned: None,
            asked: Vec::new(),
            questions,
            asks_budget: budget,
            budget_early: early,
            stage,
            guard: None,
        }
    }

    #[test]
    fn hand_computed_cadence() {
        let mut c = Cadence::default();
        c.add(
            "a",
            &[
                trace(1, 1, false, false, Stage::Engaged),
                trace(2, 2, true, true, Stage::Mql),
                trace(3, 0, false, false, Stage::Sql),
            ],
            &[CheckResult {
                message: 2,
                assertion: "x".into(),
                status: CheckStatus::Fail,
                detail: String::new(),
            }],
        );
        c.add("b", &[trace(1, 1, true, false, Stage::Engaged)], &[]);
        let m: std::collections::BTreeMap<_, _> = c.named().into_iter().collect();
        // 4 replies, 1 with two questions; 2 budget questions, 1 early;
        // only case a qualified, at message 2; the one check failed.
        assert_eq!(m["single_question_rate"], Some(0.75));
        assert_eq!(m["budget_timing_rate"], Some(0.5));
        assert_eq!(m["questions_per_reply"], Some(1.0));
        assert_eq!(m["messages_to_qualify"], Some(2.0));
        assert_eq!(m["assertion_pass_rate"], Some(0.0));
        assert_eq!(c.budget_too_early, vec!["a#2"]);
        assert_eq!(Cadence::default().named()[0].1, None);
    }
}
