//! The recommended approach for the call: a paragraph the model writes from
//! the transcript, kept only claim by claim where code can see the lead
//! said it. A claim that cites nothing, cites a message that does not
//! exist, cites no message of the lead's, or cites messages that do not say
//! it is dropped — and listed with why, so a reviewer sees what the model
//! tried. Pure: [`super::recommend`] makes the model call.

use super::claims::{self, RawClaim};
use super::packet::Line;
use super::support::{self, Gap};
use crate::store::Author;
use schemars::JsonSchema;
use serde::Serialize;

/// The checked recommendation, as it goes into the packet.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Approach {
    /// The kept claims as one paragraph, each with its citations ("… [3, 5].").
    /// Empty when no claim survived.
    pub text: String,
    /// The claims kept, in the model's order.
    pub claims: Vec<Claim>,
    /// What the model wrote that the transcript does not back, and why.
    pub dropped: Vec<Dropped>,
}

/// One kept sentence and the message numbers that back it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Claim {
    pub text: String,
    /// Transcript message numbers (1-based), sorted.
    pub cites: Vec<usize>,
}

/// One dropped sentence: what it said and why code left it out.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Dropped {
    pub text: String,
    pub why: String,
}

/// Why a claim was dropped (rendered into [`Dropped::why`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum Unbacked {
    #[error("cites no message")]
    NoCitation,
    #[error("cites message {0}, which does not exist")]
    NoSuchMessage(usize),
    #[error("cites only messages the lead did not write ({})", list(.0))]
    NotTheLeads(Vec<usize>),
    #[error("\"{word}\" is not in message(s) {}", list(.cited))]
    Missing { word: String, cited: Vec<usize> },
    #[error("message(s) {} do not say it", list(.0))]
    NotSaid(Vec<usize>),
}

fn list(numbers: &[usize]) -> String {
    numbers
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks the model's `answer` against `transcript`. `known` are names the
/// packet states anyway (the lead's, the offer's, the bot's).
pub fn check(answer: &str, transcript: &[Line], known: &[String]) -> Approach {
    let mut approach = Approach {
        text: String::new(),
        claims: Vec::new(),
        dropped: Vec::new(),
    };
    for raw in claims::split(answer) {
        match backed(&raw, transcript, known) {
            Ok(()) => approach.claims.push(Claim {
                text: raw.text,
                cites: raw.cites,
            }),
            Err(why) => approach.dropped.push(Dropped {
                text: raw.text,
                why: why.to_string(),
            }),
        }
    }
    approach.text = paragraph(&approach.claims);
    approach
}

/// Ok when the cited messages exist, include the lead's, and say it.
fn backed(claim: &RawClaim, transcript: &[Line], known: &[String]) -> Result<(), Unbacked> {
    if claim.cites.is_empty() {
        return Err(Unbacked::NoCitation);
    }
    let mut cited = Vec::new();
    for &n in &claim.cites {
        let line = n
            .checked_sub(1)
            .and_then(|i| transcript.get(i))
            .ok_or(Unbacked::NoSuchMessage(n))?;
        cited.push(line);
    }
    let is_lead = |l: &&&Line| l.from == Author::Lead.as_str();
    let lead: Vec<&str> = cited
        .iter()
        .filter(is_lead)
        .map(|l| l.text.as_str())
        .collect();
    if lead.is_empty() {
        return Err(Unbacked::NotTheLeads(claim.cites.clone()));
    }
    let all: Vec<&str> = cited.iter().map(|l| l.text.as_str()).collect();
    let lead_numbers: Vec<usize> = cited.iter().filter(is_lead).map(|l| l.number).collect();
    match support::gap(&claim.text, &lead, &all, known) {
        None => Ok(()),
        Some(Gap::Number(word) | Gap::Name(word)) => Err(Unbacked::Missing {
            word,
            cited: lead_numbers,
        }),
        Some(Gap::Words) => Err(Unbacked::NotSaid(claim.cites.clone())),
    }
}

/// The kept claims as one paragraph, citations before each full stop.
fn paragraph(claims: &[Claim]) -> String {
    claims
        .iter()
        .map(|c| {
            let body = c.text.trim_end_matches(['.', '!', '?', ';', ',']);
            let end = if c.text.ends_with(['!', '?']) {
                &c.text[body.len()..]
            } else {
                "."
            };
            format!("{body} [{}]{end}", list(&c.cites))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transcript() -> Vec<Line> {
        let line = |number, from: &str, text: &str| Line {
            number,
            from: from.into(),
            text: text.into(),
            at: 0,
        };
        vec![
            line(
                1,
                "lead",
                "hi, I run a roofing company and we miss calls at night",
            ),
            line(
                2,
                "bot",
                "Sorry to hear that! When would you want this fixed?",
            ),
            line(3, "lead", "we'd want this next month"),
            line(
                4,
                "bot",
                "Here is the booking link: https://cal.example.com",
            ),
        ]
    }

    fn checked(answer: &str) -> Approach {
        check(answer, &transcript(), &["Test Lead".to_string()])
    }

    #[test]
    fn backed_claims_are_kept_with_their_citations() {
        let a = checked(
            "They run a roofing company and miss calls at night [1]. They want it fixed next month [2, 3].",
        );
        assert_eq!(a.dropped, vec![]);
        assert_eq!(a.claims.len(), 2);
        assert_eq!(a.claims[1].cites, vec![2, 3]);
        assert_eq!(
            a.text,
            "They run a roofing company and miss calls at night [1]. They want it fixed next month [2, 3]."
        );
    }

    #[test]
    fn a_claim_citing_nothing_is_dropped() {
        let a = checked("Open with their missed calls at night.");
        assert!(a.claims.is_empty());
        assert_eq!(a.dropped[0].why, "cites no message");
        assert_eq!(a.text, "");
    }

    #[test]
    fn a_claim_citing_a_message_that_does_not_exist_is_dropped() {
        let a = checked("They miss calls at night [1, 9]. Budget is fine [0].");
        let why: Vec<&str> = a.dropped.iter().map(|d| d.why.as_str()).collect();
        assert_eq!(
            why,
            [
                "cites message 9, which does not exist",
                "cites message 0, which does not exist"
            ]
        );
    }

    #[test]
    fn a_claim_citing_a_message_that_does_not_say_it_is_dropped() {
        let a = checked(
            "Their budget is $5k [3]. They are ready to buy today [1]. They miss calls at night [1].",
        );
        assert_eq!(a.claims.len(), 1, "{a:?}");
        assert_eq!(a.claims[0].text, "They miss calls at night.");
        assert_eq!(a.dropped[0].text, "Their budget is $5k.");
        assert_eq!(a.dropped[0].why, "\"5k\" is not in message(s) 3");
        assert_eq!(a.dropped[1].why, "message(s) 1 do not say it");
    }

    #[test]
    fn the_bots_words_alone_back_nothing_about_the_lead() {
        let a = checked("They already got the booking link [4].");
        assert_eq!(
            a.dropped[0].why,
            "cites only messages the lead did not write (4)"
        );
    }
}
