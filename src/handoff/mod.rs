//! Handoff: the packet a closer reads instead of re-asking the lead, the
//! record that a lead was handed off (once), and its durable delivery.

pub mod deliver;
pub mod packet;

pub use deliver::{deliver_due, hand_off};
pub use packet::{build, schema, Packet, SCHEMA_VERSION};
