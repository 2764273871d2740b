//! Warm starts: the system prompt's KV state, saved next to the model file,
//! so a new process's first model turn does not evaluate it again.
//!
//! The system prompts are the same for every lead, and on two cores
//! evaluating one (~500 tokens at ~20 tok/s) is most of a cold turn. After
//! the first call of each slot in a process, the system prompt's cells are
//! copied into a scratch sequence — no lead's words are ever written — and
//! saved with its tokens; a process that loads the engine later starts each
//! slot from that file. Prefix reuse compares tokens, so a saved prefix that no longer
//! matches (the config or prompts changed) is simply not reused, and the
//! next process saves the new one. Anything that fails here is logged and
//! costs only the warm start.

use super::lanes::SCRATCH_SEQ;
use super::Slot;
use llama_cpp_2::token::LlamaToken;
use std::path::{Path, PathBuf};

/// Where each slot's prefix lives, and which slots this process saved.
pub(super) struct WarmFiles {
    dir: PathBuf,
    stem: String,
    saved: Vec<bool>,
}

impl WarmFiles {
    /// Files beside `model` (named after the model, its size, the context
    /// size and the slot), for `slots` slots.
    pub(super) fn beside(model: &Path, n_ctx: u32, slots: usize) -> Option<WarmFiles> {
        let dir = model.parent()?.to_path_buf();
        let name = model.file_name()?.to_string_lossy();
        let size = std::fs::metadata(model).ok()?.len();
        Some(WarmFiles {
            dir,
            stem: format!("{name}.{size}.ctx{n_ctx}"),
            saved: vec![false; slots],
        })
    }

    fn path(&self, slot: usize) -> PathBuf {
        self.dir.join(format!("{}.slot{slot}.kv", self.stem))
    }

    /// Starts `slot` from its saved prefix, if there is a usable one.
    pub(super) fn load(&self, slot: &mut Slot, index: usize, n_ctx: u32) {
        let path = self.path(index);
        if !path.is_file() {
            return;
        }
        match slot.ctx.state_seq_load_file(&path, 0, n_ctx as usize) {
            Ok((tokens, bytes)) => {
                tracing::info!(
                    slot = index,
                    tokens = tokens.len(),
                    bytes,
                    "local model: warm prefix loaded"
                );
                slot.cached = tokens;
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "local model: warm prefix unusable; it will be saved again");
                slot.ctx.clear_kv_cache();
                slot.cached.clear();
            }
        }
    }

    /// Whether `slot`'s prefix is still to be saved by this process.
    pub(super) fn due(&self, index: usize) -> bool {
        !self.saved.get(index).copied().unwrap_or(true)
    }

    /// Saves the first `prefix.len()` cells of the active lane (the system
    /// prompt), copied into a scratch sequence so the lane keeps the rest.
    pub(super) fn save(&mut self, slot: &mut Slot, index: usize, prefix: &[LlamaToken]) {
        if let Some(s) = self.saved.get_mut(index) {
            *s = true;
        }
        let n = prefix.len();
        if n == 0 || slot.cached.len() < n || slot.cached[..n] != *prefix {
            return;
        }
        let scratch = SCRATCH_SEQ;
        if let Err(e) = slot
            .ctx
            .copy_kv_cache_seq(slot.seq, scratch, Some(0), Some(n as u32))
        {
            tracing::warn!(error = %e, "local model: could not copy the warm prefix");
            return;
        }
        let path = self.path(index);
        // Per process: two processes saving at once never share a temp file.
        let tmp = path.with_extension(format!("kv.{}.tmp", std::process::id()));
        let saved = slot
            .ctx
            .state_seq_save_file(&tmp, scratch, prefix)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                std::fs::rename(&tmp, &path)
                    .map(|_| bytes)
                    .map_err(|e| e.to_string())
            });
        let _ = slot
            .ctx
            .clear_kv_cache_seq(Some(scratch as u32), None, None);
        match saved {
            Ok(bytes) => {
                tracing::info!(
                    slot = index,
                    tokens = n,
                    bytes,
                    "local model: warm prefix saved"
                )
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                tracing::warn!(path = %path.display(), error = %e, "local model: could not save the warm prefix");
            }
        }
    }
}
