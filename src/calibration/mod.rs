//! Closer outcome → a calibrated rubric: `setter report calibration`.
//!
//! Over leads with recorded outcomes, compares what the rubric predicted
//! (tier, score, the intent signals that counted) with what happened: the
//! booking rate per tier, each signal's lift, a reliability table of score
//! vs booking rate, warnings where counts are too small to trust, and
//! suggested signal weights — printed for the operator to paste, never
//! applied. The figures come from plain rows ([`compute`]); the store reads
//! them (`Store::calibration_samples`).

mod compute;
mod html;
mod text;

pub use compute::{
    compute, BucketRow, Calibration, Rate, SignalRow, SuggestedWeight, TierRow, DEFAULT_MIN_COUNT,
};
pub use html::render as render_html;
pub use text::{render as render_text, toml_snippet};
