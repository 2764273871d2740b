//! Per-turn assertions on the bot's regenerated replies (`replay` and
//! `simulate` modes), e.g. `{"turn": 2, "kind": "asks_about", "slot": "budget"}`.
//!
//! Each JSON object holds one check. They are parsed when the case file is
//! read, so a typo is an error with `file:line`, not a silent pass.

use crate::agent::{language, topics};
use crate::config::Framework;
use serde::{Deserialize, Serialize};

/// The JSON shape, as written in `expect.assertions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    turn: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    slot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_questions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    not_contains: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    llm_judge: Option<String>,
}

/// What one assertion checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    AsksAbout(String),
    NotAsksAbout(String),
    MaxQuestions(u32),
    Contains(String),
    NotContains(String),
    /// ISO 639-1 or 639-3 code as written, and the detector's language.
    Language(String, whatlang::Lang),
    /// A rubric for a model judge; skipped unless judging is on.
    Judge(String),
}

/// One check on the reply to lead message `turn` (1-based), or on every reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Raw", into = "Raw")]
pub struct Assertion {
    pub turn: Option<u32>,
    pub check: Check,
}

impl TryFrom<Raw> for Assertion {
    type Error = String;

    fn try_from(r: Raw) -> Result<Self, String> {
        if r.turn == Some(0) {
            return Err("\"turn\" counts lead messages from 1".into());
        }
        let mut checks = Vec::new();
        match (r.kind.as_deref(), r.slot) {
            (Some("asks_about"), Some(s)) => checks.push(Check::AsksAbout(s)),
            (Some("not_asks_about"), Some(s)) => checks.push(Check::NotAsksAbout(s)),
            (Some(k @ ("asks_about" | "not_asks_about")), None) => {
                return Err(format!("\"kind\": \"{k}\" needs a \"slot\""))
            }
            (Some(k), _) => {
                return Err(format!(
                    "unknown kind \"{k}\"; kind is asks_about or not_asks_about (other checks are keys: max_questions, contains, not_contains, language, llm_judge)"
                ))
            }
            (None, Some(_)) => return Err("\"slot\" needs \"kind\": \"asks_about\" or \"not_asks_about\"".into()),
            (None, None) => {}
        }
        checks.extend(r.max_questions.map(Check::MaxQuestions));
        checks.extend(r.contains.map(Check::Contains));
        checks.extend(r.not_contains.map(Check::NotContains));
        if let Some(code) = r.language {
            let lang = language::from_code(&code)?;
            checks.push(Check::Language(code, lang));
        }
        checks.extend(r.llm_judge.map(Check::Judge));
        match checks.len() {
            1 => Ok(Assertion {
                turn: r.turn,
                check: checks.remove(0),
            }),
            0 => Err("an assertion needs one check: kind+slot, max_questions, contains, not_contains, language or llm_judge".into()),
            _ => Err("one check per assertion object; split them into several objects".into()),
        }
    }
}

impl From<Assertion> for Raw {
    fn from(a: Assertion) -> Raw {
        let mut r = Raw {
            turn: a.turn,
            ..Raw::default()
        };
        match a.check {
            Check::AsksAbout(s) => {
                r.kind = Some("asks_about".into());
                r.slot = Some(s);
            }
            Check::NotAsksAbout(s) => {
                r.kind = Some("not_asks_about".into());
                r.slot = Some(s);
            }
            Check::MaxQuestions(n) => r.max_questions = Some(n),
            Check::Contains(s) => r.contains = Some(s),
            Check::NotContains(s) => r.not_contains = Some(s),
            Check::Language(code, _) => r.language = Some(code),
            Check::Judge(s) => r.llm_judge = Some(s),
        }
        r
    }
}

impl Assertion {
    /// A short name for reports, e.g. `asks_about budget`.
    pub fn describe(&self) -> String {
        match &self.check {
            Check::AsksAbout(s) => format!("asks_about {s}"),
            Check::NotAsksAbout(s) => format!("not_asks_about {s}"),
            Check::MaxQuestions(n) => format!("max_questions {n}"),
            Check::Contains(s) => format!("contains \"{s}\""),
            Check::NotContains(s) => format!("not_contains \"{s}\""),
            Check::Language(code, _) => format!("language {code}"),
            Check::Judge(rubric) => format!("llm_judge \"{rubric}\""),
        }
    }

    /// The slot this assertion names, for checking it against the framework.
    pub fn slot(&self) -> Option<&str> {
        match &self.check {
            Check::AsksAbout(s) | Check::NotAsksAbout(s) => Some(s),
            _ => None,
        }
    }

    /// Checks one reply; `Err` says what was wrong. Judge checks are not
    /// decided here (they need a model): they pass this function.
    pub fn check(&self, framework: &Framework, reply: &str) -> Result<(), String> {
        let asked = || {
            let found = topics::asked(framework, reply);
            let list: Vec<String> = found
                .iter()
                .map(|(s, w)| format!("{s} (\"{w}\")"))
                .collect();
            (
                found,
                if list.is_empty() {
                    "nothing".to_string()
                } else {
                    list.join(", ")
                },
            )
        };
        match &self.check {
            Check::AsksAbout(slot) => {
                let (found, list) = asked();
                if found.iter().any(|(s, _)| s == slot) {
                    Ok(())
                } else {
                    Err(format!(
                        "expected a question about {slot}; the reply asked about {list}"
                    ))
                }
            }
            Check::NotAsksAbout(slot) => {
                let (found, _) = asked();
                match found.iter().find(|(s, _)| s == slot) {
                    Some((_, word)) => Err(format!("the reply asked about {slot} (\"{word}\")")),
                    None => Ok(()),
                }
            }
            Check::MaxQuestions(max) => {
                let n = topics::questions(reply).len() as u32;
                if n <= *max {
                    Ok(())
                } else {
                    Err(format!("{n} questions, at most {max} allowed"))
                }
            }
            Check::Contains(s) => {
                if reply.to_lowercase().contains(&s.to_lowercase()) {
                    Ok(())
                } else {
                    Err(format!("the reply does not contain \"{s}\""))
                }
            }
            Check::NotContains(s) => {
                if reply.to_lowercase().contains(&s.to_lowercase()) {
                    Err(format!("the reply contains \"{s}\""))
                } else {
                    Ok(())
                }
            }
            Check::Language(code, want) => match language::detect(reply) {
                Some(got) if got == *want => Ok(()),
                Some(got) => Err(format!(
                    "expected language {code}; the reply reads as {}",
                    got.eng_name()
                )),
                None => Err(format!(
                    "expected language {code}; the reply has no words to tell"
                )),
            },
            Check::Judge(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Assertion, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn each_shape_parses_and_round_trips() {
        for json in [
            r#"{"turn":2,"kind":"asks_about","slot":"budget"}"#,
            r#"{"kind":"not_asks_about","slot":"budget"}"#,
            r#"{"turn":1,"max_questions":1}"#,
            r#"{"contains":"cal.example.com"}"#,
            r#"{"not_contains":"discount"}"#,
            r#"{"turn":3,"language":"es"}"#,
            r#"{"llm_judge":"polite and on topic"}"#,
        ] {
            let a = parse(json).unwrap();
            assert_eq!(serde_json::to_string(&a).unwrap(), json);
        }
    }

    #[test]
    fn mistakes_are_named() {
        let err = |json| parse(json).unwrap_err();
        assert!(err(r#"{"kind":"asks"}"#).contains("unknown kind \"asks\""));
        assert!(err(r#"{"kind":"asks_about"}"#).contains("needs a \"slot\""));
        assert!(err(r#"{"turn":1}"#).contains("needs one check"));
        assert!(err(r#"{"contains":"a","max_questions":1}"#).contains("one check per"));
        assert!(err(r#"{"language":"xx"}"#).contains("one of en, es"));
        assert!(err(r#"{"turn":0,"max_questions":1}"#).contains("from 1"));
        assert!(err(r#"{"contain":"a"}"#).contains("unknown field `contain`"));
    }

    #[test]
    fn checks_read_the_reply() {
        let pif = Framework::resolve("pif", &[]).unwrap();
        let a = |json| parse(json).unwrap();
        let reply = "Got it! When would you want this in place?";
        assert_eq!(
            a(r#"{"kind":"asks_about","slot":"timeline"}"#).check(&pif, reply),
            Ok(())
        );
        assert_eq!(
            a(r#"{"kind":"asks_about","slot":"budget"}"#).check(&pif, reply),
            Err(
                "expected a question about budget; the reply asked about timeline (\"when\")"
                    .into()
            )
        );
        assert_eq!(
            a(r#"{"kind":"not_asks_about","slot":"timeline"}"#).check(&pif, reply),
            Err("the reply asked about timeline (\"when\")".into())
        );
        assert!(a(r#"{"max_questions":1}"#).check(&pif, "A? B?").is_err());
        assert!(a(r#"{"contains":"IN PLACE"}"#).check(&pif, reply).is_ok());
        assert!(a(r#"{"not_contains":"when"}"#).check(&pif, reply).is_err());
        let es = a(r#"{"language":"es"}"#);
        assert!(es
            .check(&pif, "¡Genial! ¿Cuándo te gustaría empezar con el sistema?")
            .is_ok());
        assert!(es.check(&pif, reply).is_err());
    }
}
