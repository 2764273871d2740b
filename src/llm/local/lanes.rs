//! One KV sequence per conversation ("lane") in each slot's context, so
//! leads whose turns interleave do not evict each other's cached prompt.
//!
//! Each context is created with `LANES` sequences over one unified KV cache.
//! A call that names its conversation (`ChatRequest::conversation`, a lead
//! id) runs in that conversation's lane; a conversation seen for the first
//! time gets a free lane (or the least recently used one) and starts from
//! the longest prefix any lane already holds — the system prompt, evaluated
//! once per process (or loaded from disk, see `local::warm`) — copied with
//! `llama_memory_seq_cp`, which shares the cells instead of evaluating them
//! again. Calls that name no conversation share lane 0.
//!
//! The active lane's tokens live in `Slot::cached` and its id in
//! `Slot::seq`, so the decoding code works on "the slot" and never needs to
//! know about lanes.

use super::Slot;
use llama_cpp_2::token::LlamaToken;

/// Conversations kept side by side per context: five leads answered in
/// turn keep their caches next to two disqualifier checks' lanes (each
/// check's prompt is the same for every lead), with lane 0 for calls that
/// name none. Lanes share one KV cache of `context_tokens` cells, so more
/// of them cost no memory; when the cells run out the least recently used
/// lane goes (`make_room`).
pub(super) const LANES: usize = 8;

/// A sequence id outside the lanes, used to save a warm prefix without
/// cutting the lane it was evaluated in.
pub(super) const SCRATCH_SEQ: i32 = LANES as i32;

/// Sequences each context is created with: the lanes and the scratch one.
pub(super) const SEQUENCES: u32 = LANES as u32 + 1;

/// What one lane holds while it is not the active one.
#[derive(Default)]
pub(super) struct Lane {
    /// The conversation it belongs to (`None`: lane 0, or free).
    owner: Option<String>,
    /// Its tokens (empty while it is the active lane: see `Slot::cached`).
    cached: Vec<LlamaToken>,
    /// When it was last used (a counter), for eviction.
    used: u64,
}

/// The lanes of one context.
pub(super) struct Lanes {
    lanes: Vec<Lane>,
    clock: u64,
    /// One lane per conversation (off: every call uses lane 0, as one
    /// sequence did before lanes).
    enabled: bool,
}

impl Lanes {
    pub(super) fn new(enabled: bool) -> Lanes {
        Lanes {
            lanes: (0..LANES).map(|_| Lane::default()).collect(),
            clock: 0,
            enabled,
        }
    }

    /// Forgets every lane (the context's cache was cleared).
    pub(super) fn clear(&mut self) {
        for lane in &mut self.lanes {
            *lane = Lane::default();
        }
    }
}

impl Slot {
    /// Makes the lane for `conversation` the active one, ready for a prompt
    /// of `tokens` that needs `need` cells in all: an existing lane for the
    /// conversation, else a free or least recently used lane started from
    /// the longest prefix any lane holds. Lanes are evicted (least recently
    /// used first) until everything fits in `n_ctx` cells.
    pub(super) fn enter(
        &mut self,
        conversation: Option<&str>,
        tokens: &[LlamaToken],
        need: usize,
        n_ctx: usize,
    ) {
        let conversation = conversation.filter(|_| self.lanes.enabled);
        let target = self.lane_for(conversation);
        self.lanes.clock += 1;
        if target != self.seq as usize {
            self.switch_to(target);
        }
        let lane = &mut self.lanes.lanes[target];
        lane.used = self.lanes.clock;
        if lane.owner.as_deref() != conversation {
            lane.owner = conversation.map(str::to_string);
            self.forget_active();
            self.start_from_best_prefix(tokens);
        }
        self.make_room(need, n_ctx);
    }

    /// Which lane a call for `conversation` runs in.
    fn lane_for(&self, conversation: Option<&str>) -> usize {
        let Some(key) = conversation else {
            return 0;
        };
        let lanes = &self.lanes.lanes;
        if let Some(i) = (1..LANES).find(|&i| lanes[i].owner.as_deref() == Some(key)) {
            return i;
        }
        let free = (1..LANES).find(|&i| lanes[i].owner.is_none() && self.len_of(i) == 0);
        free.unwrap_or_else(|| (1..LANES).min_by_key(|&i| lanes[i].used).unwrap_or(0))
    }

    /// Tokens lane `i` holds.
    fn len_of(&self, i: usize) -> usize {
        if i == self.seq as usize {
            self.cached.len()
        } else {
            self.lanes.lanes[i].cached.len()
        }
    }

    /// Parks the active lane's tokens and makes `target` active.
    fn switch_to(&mut self, target: usize) {
        let active = self.seq as usize;
        self.lanes.lanes[active].cached = std::mem::take(&mut self.cached);
        self.cached = std::mem::take(&mut self.lanes.lanes[target].cached);
        self.seq = target as i32;
    }

    /// Empties the active lane (its cells are freed unless another lane
    /// shares them).
    pub(super) fn forget_active(&mut self) {
        if !self.cached.is_empty() {
            let _ = self
                .ctx
                .clear_kv_cache_seq(Some(self.seq as u32), None, None);
            self.cached.clear();
        }
    }

    /// Starts the (empty) active lane from the longest prefix of `tokens`
    /// another lane holds, copied cell by reference.
    fn start_from_best_prefix(&mut self, tokens: &[LlamaToken]) {
        let best = (0..LANES)
            .filter(|&i| i != self.seq as usize)
            .map(|i| (i, common_prefix(&self.lanes.lanes[i].cached, tokens)))
            .max_by_key(|&(_, n)| n);
        let Some((source, n)) = best.filter(|&(_, n)| n > 0) else {
            return;
        };
        // Leave one token to evaluate: the call needs fresh logits.
        let n = n.min(tokens.len().saturating_sub(1));
        if n == 0 {
            return;
        }
        self.ctx
            .copy_kv_cache_seq(source as i32, self.seq, Some(0), Some(n as u32))
            .map(|_| self.cached.extend_from_slice(&tokens[..n]))
            .unwrap_or_else(|e| tracing::warn!(error = %e, "local model: could not share a prefix between lanes"));
    }

    /// Evicts other lanes, least recently used first, until all lanes'
    /// tokens and `need` more fit in `n_ctx` cells. Shared prefixes are
    /// counted once per lane: the estimate errs towards evicting.
    fn make_room(&mut self, need: usize, n_ctx: usize) {
        loop {
            let parked: usize = self.lanes.lanes.iter().map(|l| l.cached.len()).sum();
            if parked + need <= n_ctx {
                return;
            }
            let victim = (0..LANES)
                .filter(|&i| i != self.seq as usize && !self.lanes.lanes[i].cached.is_empty())
                .min_by_key(|&i| self.lanes.lanes[i].used);
            let Some(victim) = victim else {
                return;
            };
            let _ = self.ctx.clear_kv_cache_seq(Some(victim as u32), None, None);
            self.lanes.lanes[victim] = Lane::default();
        }
    }
}

/// How many leading tokens `a` and `b` share.
pub(super) fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
