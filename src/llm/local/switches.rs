//! The engine's on-by-default switches, read from the environment once
//! when a process loads the engine. Each exists to measure what its
//! feature saves (`cargo bench --bench core` runs with each turned off).

/// Set to `0` (or `false`, `off`, `no`) to turn KV prefix reuse off: every
/// call then clears its slot's cache and evaluates the whole prompt from
/// scratch. Read once, when a process loads the engine. On by default; off
/// exists to measure what reuse saves (`cargo bench --bench core` runs the
/// scripted conversation both ways).
pub const PREFIX_REUSE_ENV: &str = "SETTER_LOCAL_PREFIX_REUSE";

/// Set to `0` (or `false`, `off`, `no`) to start every process cold: no
/// system-prompt state is loaded from or saved beside the model file (see
/// `local::warm`). On by default (with prefix reuse); off exists to measure it.
pub const WARM_START_ENV: &str = "SETTER_LOCAL_WARM_START";

/// Set to `0` (or `false`, `off`, `no`) to keep one KV sequence per context
/// instead of one per conversation (see `local::lanes`): interleaved leads
/// then evict each other's cached prompt. On by default; off exists to
/// measure what lanes save (`cargo bench --bench core`).
pub const LANES_ENV: &str = "SETTER_LOCAL_LANES";

/// Set to `0` (or `false`, `off`, `no`) to decode span leaves and replies
/// token by token instead of checking drafts of their next tokens (see
/// `local::draft`). Each token is still the model's own choice either way,
/// up to near ties batched logits can tip. On by default; off exists to
/// measure what drafting saves (`cargo bench --bench core`).
pub const DRAFT_ENV: &str = "SETTER_LOCAL_DRAFT";

/// Set to `0` (or `false`, `off`, `no`) to leave the next turn's known
/// prompt prefix for the next turn to evaluate instead of evaluating it
/// once a reply is sent (see `local::prefill`). On by default (with prefix
/// reuse); off exists to measure what it takes off the lead's wait.
pub const PREFILL_ENV: &str = "SETTER_LOCAL_PREFILL";

/// Whether an on-by-default switch ([`PREFIX_REUSE_ENV`], [`WARM_START_ENV`],
/// [`LANES_ENV`], [`DRAFT_ENV`], [`PREFILL_ENV`]) with this value is on: anything but `0`, `false`, `off`, `no`.
pub(super) fn switch_on(value: Option<&str>) -> bool {
    !matches!(
        value.map(|v| v.trim().to_ascii_lowercase()).as_deref(),
        Some("0" | "false" | "off" | "no")
    )
}

/// Whether the switch in environment variable `name` is on (see [`switch_on`]).
pub(super) fn env_switch(name: &str) -> bool {
    switch_on(std::env::var(name).ok().as_deref())
}

#[cfg(test)]
mod tests {
    use super::switch_on;

    #[test]
    fn a_switch_is_on_unless_turned_off() {
        for on in [None, Some("1"), Some("yes"), Some(""), Some("on")] {
            assert!(switch_on(on), "{on:?}");
        }
        for off in ["0", "false", "OFF", " no "] {
            assert!(!switch_on(Some(off)), "{off:?}");
        }
    }
}
