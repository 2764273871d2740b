//! Domain vocabulary shared by the agent, the store and reports: levels,
//! tiers, lifecycle stages. Stored as their lowercase names.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        named_enum!($(#[$meta])* $name [format!("a {}", stringify!($name).to_lowercase())] {
            $($variant => $text),+
        });
    };
    // `[noun]`: how an error names the kind ("an outcome"), when the type's
    // own name does not read well.
    ($(#[$meta:meta])* $name:ident [$noun:expr] { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "\"{other}\" is not {}; expected one of {}",
                        $noun,
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

named_enum!(
    /// Fit or intent strength. Ordered low < medium < high.
    Level { Low => "low", Medium => "medium", High => "high" }
);

named_enum!(
    /// The seed matrix's temperature tag. Ordered cold < warm < hot.
    Tier { Cold => "cold", Warm => "warm", Hot => "hot" }
);

named_enum!(
    /// Where a lead is in its life; see `agent::stage` for the transitions.
    Stage {
        New => "new",
        Engaged => "engaged",
        Mql => "mql",
        Sql => "sql",
        HandedOff => "handed_off",
        Closed => "closed",
        Disqualified => "disqualified",
        Unresponsive => "unresponsive",
    }
);

named_enum!(
    /// Message direction, from Setter's point of view.
    Direction { In => "in", Out => "out" }
);

named_enum!(
    /// Where the conversation happens.
    Channel {
        Webchat => "webchat",
        Whatsapp => "whatsapp",
        Instagram => "instagram",
        Messenger => "messenger",
    }
);

impl Channel {
    /// Whether replies leave through a channel sender (the Meta send APIs) via
    /// the outbox. The terminal and web chat hand the reply back to the caller.
    pub fn has_sender(self) -> bool {
        matches!(
            self,
            Channel::Whatsapp | Channel::Instagram | Channel::Messenger
        )
    }
}

named_enum!(
    /// What a piece of scoring evidence is about.
    EvidenceKind { Trait => "trait", Disqualifier => "disqualifier", Signal => "signal" }
);

named_enum!(
    /// What really happened to a lead after the bot, as the closer (or a
    /// payment confirmation) reports it. A lead collects several over time
    /// (booked → showed → won). Not `eval::Outcome`, which is an eval's verdict.
    LeadOutcome ["an outcome"] {
        Booked => "booked",
        Showed => "showed",
        Won => "won",
        Lost => "lost",
        Paid => "paid",
    }
);

impl LeadOutcome {
    /// The sale is made: the lead moves to stage `closed`.
    pub fn closes_the_sale(self) -> bool {
        matches!(self, LeadOutcome::Won | LeadOutcome::Paid)
    }

    /// The lead reached at least a booked call (paying in the DM skips the
    /// call but counts): what the calibration report calls a booking.
    pub fn is_booking_or_better(self) -> bool {
        !matches!(self, LeadOutcome::Lost)
    }
}

named_enum!(
    /// Who reported an outcome: the operator's terminal or the HTTP API.
    OutcomeSource ["a source"] { Cli => "cli", Api => "api" }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_names_explain() {
        for s in Stage::ALL {
            assert_eq!(s.as_str().parse::<Stage>().unwrap(), *s);
        }
        assert_eq!(
            "lukewarm".parse::<Tier>().unwrap_err(),
            "\"lukewarm\" is not a tier; expected one of cold, warm, hot"
        );
        assert!(Level::High > Level::Medium && Tier::Hot > Tier::Warm);
        assert_eq!(
            "refunded".parse::<LeadOutcome>().unwrap_err(),
            "\"refunded\" is not an outcome; expected one of booked, showed, won, lost, paid"
        );
    }
}

named_enum!(
    /// Where a follow-up step is in its life (the `jobs.state` column).
    JobState {
        Pending => "pending",
        Claimed => "claimed",
        Sent => "sent",
        Cancelled => "cancelled",
        Skipped => "skipped",
    }
);

named_enum!(
    /// Why a follow-up step did not go out: stored beside the reason in
    /// words, so metrics, `followups list --json` and eval expectations match
    /// on a code instead of parsing sentences.
    JobReason {
        LeadWrote => "lead_wrote",
        Restarted => "restarted",
        OptedOut => "opted_out",
        HandedOff => "handed_off",
        Takeover => "takeover",
        Operator => "operator",
        Outcome => "outcome",
        Superseded => "superseded",
        Stage => "stage",
        Human => "human",
        Window => "window",
        QuietHours => "quiet_hours",
        MinGap => "min_gap",
        Guard => "guard",
    }
);

impl JobReason {
    /// The reason in words, when the code says it all.
    pub fn describe(self) -> &'static str {
        match self {
            JobReason::LeadWrote => "the lead wrote again",
            JobReason::Restarted => "a newer reply restarted the ladder",
            JobReason::OptedOut => "the lead opted out",
            JobReason::HandedOff => "the lead was handed off",
            JobReason::Takeover => "a human took over the conversation",
            JobReason::Operator => "cancelled by the operator",
            JobReason::Outcome => "a closer reported the lead's outcome",
            JobReason::Superseded => "a later step was due at the same time",
            JobReason::Stage => "the lead's stage ends follow-ups",
            JobReason::Human => "a human has the conversation",
            JobReason::Window => "outside the platform's 24 h messaging window",
            JobReason::QuietHours => "quiet hours last past the 24 h window",
            JobReason::MinGap => {
                "the minimum gap after the bot's last message lasts past the 24 h window"
            }
            JobReason::Guard => "the step's text failed a guard",
        }
    }
}
