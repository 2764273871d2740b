//! Handoff: the packet a closer reads instead of re-asking the lead (this
//! slice), and later its triggers, durable delivery and outcomes.

pub mod packet;

pub use packet::{build, schema, Packet, SCHEMA_VERSION};
