//! `[icp.disqualifiers.check]`: a question the model answers about a new
//! lead's words, for disqualifiers stated without any keyword ("I just
//! finished my degree and want to get into marketing" is a job seeker).
//!
//! Keyword lists cannot cover every phrasing in every language, and a small
//! model asked to quote a disqualifier inside the extraction call rarely
//! does (docs/local-models.md). Asked one contrastive question on its own
//! ("a job for themselves, or a business?"), the same model separates the
//! two well, and the embedded model reports how its probability split
//! between the answers, so a threshold can favour precision.

use super::Validator;
use serde::{Deserialize, Serialize};

/// One disqualifier's question and its two answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DqCheck {
    /// A question with two answers, about the person who wrote the
    /// messages ("Is the person … asking about a job for themselves, or
    /// writing about a business?"). Naming both sides works much better
    /// with a small model than a yes/no question.
    pub question: String,
    /// The answer that disqualifies (`job`).
    pub disqualifying: String,
    /// The other answer (`business`).
    pub otherwise: String,
    /// How much of the model's probability the disqualifying answer needs
    /// (more than 0, at most 1; default 0.5, the model's own pick). Models
    /// that report none count their answer as 1 or 0. A small model leans
    /// to one answer whatever it reads (the embedded one gave product
    /// sellers' "products" 0.18–0.52), so measure the min per model
    /// (docs/local-models.md) rather than assume 0.5.
    #[serde(default = "default_min")]
    pub min: f64,
    /// Messages answered, shown to the model before the lead's words as
    /// earlier turns of the same conversation. A small model reads a few
    /// worked cases much better than the question alone (the embedded
    /// model's job check: AUC 0.93 → 0.995 on new messages, docs/local-models.md): write
    /// both answers, in the languages leads write, with the cases that look
    /// alike (a clinic hiring a receptionist is a business). They are part
    /// of the check's cached prompt, so they cost time once per process.
    #[serde(default)]
    pub examples: Vec<CheckExample>,
}

/// One worked case of a check: a message and the answer it gets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckExample {
    /// What a lead might write.
    pub text: String,
    /// One of the check's two answers.
    pub answer: String,
}

fn default_min() -> f64 {
    0.5
}

impl DqCheck {
    /// What `check.j2` is rendered with: the question and both answers,
    /// trimmed, as the model will be asked to write them. The agent and
    /// `setter init`'s sample rendering share it, so what init shows is
    /// what the model reads.
    pub fn prompt_context(&self) -> serde_json::Value {
        let [disqualifying, otherwise] = self.answers();
        serde_json::json!({
            "question": self.question.trim(),
            "disqualifying": disqualifying,
            "otherwise": otherwise,
        })
    }

    /// The two answers, trimmed, the disqualifying one first: the order
    /// the prompt names them and the answer schema lists them.
    pub fn answers(&self) -> [&str; 2] {
        [self.disqualifying.trim(), self.otherwise.trim()]
    }

    /// Which of [`Self::answers`] `given` names, in any case: an example's
    /// answer is validated and written to the model through this one test.
    pub fn answer_index(&self, given: &str) -> Option<usize> {
        self.answers()
            .iter()
            .position(|a| a.eq_ignore_ascii_case(given.trim()))
    }

    /// Errors under `key` (`icp.disqualifiers[1].check`): a question, two
    /// different one-line answers, and a threshold that can be met.
    pub(super) fn validate(&self, key: &str, v: &mut Validator) {
        v.non_empty(&format!("{key}.question"), &self.question);
        for (name, answer) in [
            ("disqualifying", &self.disqualifying),
            ("otherwise", &self.otherwise),
        ] {
            let field = format!("{key}.{name}");
            if answer.trim().is_empty() || answer.contains(['\n', '"']) {
                v.error(&field, "must be a short answer on one line, without quotes");
            }
        }
        let [disqualifying, otherwise] = self.answers();
        if disqualifying.eq_ignore_ascii_case(otherwise) {
            v.error(
                &format!("{key}.otherwise"),
                "must differ from `disqualifying` (the model picks one of the two)",
            );
        }
        self.validate_examples(key, v);
        if !(self.min > 0.0 && self.min <= 1.0) {
            v.error(
                &format!("{key}.min"),
                "must be more than 0 and at most 1 (the disqualifying answer's share of the model's probability)",
            );
        }
    }

    /// Each example is a message with one of the two answers; examples
    /// that show only one answer teach the model to give it (a warning).
    fn validate_examples(&self, key: &str, v: &mut Validator) {
        let answers = self.answers();
        let mut shown = [false; 2];
        for (i, example) in self.examples.iter().enumerate() {
            let field = format!("{key}.examples[{i}]");
            v.non_empty(&format!("{field}.text"), &example.text);
            match self.answer_index(&example.answer) {
                Some(which) => shown[which] = true,
                None => v.error(
                    &format!("{field}.answer"),
                    &format!(
                        "must be \"{}\" or \"{}\", the check's two answers",
                        answers[0], answers[1]
                    ),
                ),
            }
        }
        if !self.examples.is_empty() && shown.contains(&false) {
            v.warn(
                &format!("{key}.examples"),
                "show both answers: examples with one answer only teach the model to give it",
            );
        }
    }
}
