//! Handoff: the packet a closer reads instead of re-asking the lead, the
//! record that a lead was handed off (once), and its durable delivery.

mod approach;
mod claims;
pub mod deliver;
pub mod packet;
pub(crate) mod recommend;
pub(crate) mod sample;
mod support;

pub use approach::{check as check_approach, Approach, Claim, Dropped};
pub use deliver::{deliver_due, full_packet, hand_off, markdown, Desk};
pub use packet::{build, schema, Packet, SCHEMA_VERSION};
