//! `[followups.<channel>]`: the ladder of follow-ups sent when a lead goes
//! quiet, counted from the lead's last message (only the lead's messages move
//! a platform's messaging window). Defaults from the seed playbook: Instagram
//! and Messenger +4 h (soft re-engage), +23 h (value-add), +3 d (gentle
//! exit); WhatsApp +1 h, +24 h; web chat +15 min, +24 h.

use super::Validator;
use crate::lead::Channel;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a step says; each kind has its template `prompts/followup_<kind>.j2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// "Didn't want this to slip…": a light nudge, one easy question.
    Soft,
    /// A case study, a tip or a stat from the offer: news, no question.
    Value,
    /// "I'll let this one go for now…": the door left open.
    Exit,
}

impl StepKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Soft => "soft",
            StepKind::Value => "value",
            StepKind::Exit => "exit",
        }
    }
    pub fn template(self) -> &'static str {
        match self {
            StepKind::Soft => "followup_soft.j2",
            StepKind::Value => "followup_value.j2",
            StepKind::Exit => "followup_exit.j2",
        }
    }
}

/// One step: how long after the lead's last message, and what kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(with = "humantime_serde")]
    pub after: Duration,
    pub kind: StepKind,
}

/// One channel's ladder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ladder {
    pub steps: Vec<Step>,
    /// WhatsApp only: the approved template a step becomes outside the 24 h
    /// window (free-form text there fails with 131047). Without it the step
    /// is skipped, with that reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Template>,
}

/// An approved WhatsApp message template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    /// The template's language code, e.g. "en_US".
    pub language: String,
    /// Body parameters in order; `{lead_name}` is replaced by the lead's
    /// first name (or "there").
    #[serde(default)]
    pub params: Vec<String>,
}

/// `[followups]`: a ladder per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FollowupsConfig {
    /// Off: no follow-ups are scheduled (those already scheduled still run).
    pub enabled: bool,
    /// No follow-up lands in these local hours ("21:00-08:00"; empty: none).
    pub quiet_hours: String,
    /// The lead's zone when their number does not tell it (IANA name).
    pub timezone: String,
    /// The least time between any two bot messages to one lead: a step due
    /// sooner after the bot's last message waits (a burst of bot messages
    /// reads as spam, whatever the ladder says).
    #[serde(with = "humantime_serde")]
    pub min_gap: Duration,
    /// Let the model reword each step from what the lead said, in their
    /// language (`prompts/followup_personalise.j2`); the static text goes
    /// out when the rewrite breaks a rule or the model fails. Off by
    /// default: one more model call per step.
    pub personalise: bool,
    pub whatsapp: Ladder,
    pub instagram: Ladder,
    pub messenger: Ladder,
    pub webchat: Ladder,
}

fn ladder(steps: &[(u64, StepKind)]) -> Ladder {
    Ladder {
        steps: steps
            .iter()
            .map(|&(secs, kind)| Step {
                after: Duration::from_secs(secs),
                kind,
            })
            .collect(),
        template: None,
    }
}

const HOUR: u64 = 3600;

impl Default for FollowupsConfig {
    fn default() -> Self {
        use StepKind::*;
        let meta = || ladder(&[(4 * HOUR, Soft), (23 * HOUR, Value), (72 * HOUR, Exit)]);
        FollowupsConfig {
            enabled: true,
            quiet_hours: "21:00-08:00".into(),
            timezone: "UTC".into(),
            min_gap: Duration::from_secs(10 * 60),
            personalise: false,
            whatsapp: ladder(&[(HOUR, Soft), (24 * HOUR, Value)]),
            instagram: meta(),
            messenger: meta(),
            webchat: ladder(&[(15 * 60, Soft), (24 * HOUR, Value)]),
        }
    }
}

impl FollowupsConfig {
    /// Quiet hours as (start, end), `None` when off or unreadable.
    pub fn quiet(&self) -> Option<(chrono::NaiveTime, chrono::NaiveTime)> {
        let (a, b) = self.quiet_hours.split_once('-')?;
        let time = |s: &str| chrono::NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
        Some((time(a)?, time(b)?))
    }

    /// The fallback zone (UTC when unreadable; validation reports it).
    pub fn zone(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    /// The ladder for `channel`.
    pub fn ladder(&self, channel: Channel) -> &Ladder {
        match channel {
            Channel::Whatsapp => &self.whatsapp,
            Channel::Instagram => &self.instagram,
            Channel::Messenger => &self.messenger,
            Channel::Webchat => &self.webchat,
        }
    }
}

/// Steps must be in time order, at least a minute apart, and at most 5.
pub(super) fn validate(f: &FollowupsConfig, v: &mut Validator) {
    if f.min_gap > Duration::from_secs(12 * HOUR) {
        v.error(
            "followups.min_gap",
            "must be at most 12h: a longer gap pushes most steps past the 24 h messaging window",
        );
    }
    if !f.quiet_hours.is_empty() && f.quiet().is_none() {
        v.error(
            "followups.quiet_hours",
            "must look like \"21:00-08:00\" (or be empty)",
        );
    }
    if f.timezone.parse::<chrono_tz::Tz>().is_err() {
        v.error(
            "followups.timezone",
            &format!(
                "\"{}\" is not an IANA time zone like \"Europe/Madrid\"",
                f.timezone
            ),
        );
    }
    for channel in Channel::ALL {
        let steps = &f.ladder(*channel).steps;
        let key = format!("followups.{channel}.steps");
        if steps.len() > 5 {
            v.error(
                &key,
                "has more than 5 steps; a ladder that long reads as spam",
            );
        }
        for (i, pair) in steps.windows(2).enumerate() {
            if pair[1].after < pair[0].after + Duration::from_secs(60) {
                v.error(
                    &format!("{key}[{}].after", i + 1),
                    "must be at least 1m after the step before it",
                );
            }
        }
        if steps
            .first()
            .is_some_and(|s| s.after < Duration::from_secs(60))
        {
            v.error(&format!("{key}[0].after"), "must be at least 1m");
        }
        match (&f.ladder(*channel).template, channel) {
            (Some(t), Channel::Whatsapp) => {
                v.non_empty("followups.whatsapp.template.name", &t.name);
                v.non_empty("followups.whatsapp.template.language", &t.language);
            }
            (Some(_), _) => v.error(
                &format!("followups.{channel}.template"),
                "templates exist only on WhatsApp; Instagram and Messenger allow nothing automated outside the window",
            ),
            (None, _) => {}
        }
    }
}
