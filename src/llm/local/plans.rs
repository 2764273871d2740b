//! How the embedded model answers a request: a JSON skeleton whose leaves it
//! fills (object schemas), one grammar for the whole answer (other schemas),
//! or free text. Grammars and skeletons are cached per schema, except those
//! holding a lead's words (span leaves), which are built per call.

use super::decode::{Plan, Sampling};
use super::skeleton::{skeleton, Step};
use super::Engine;
use crate::llm::ChatRequest;
use llama_cpp_2::sampling::LlamaSampler;

impl Engine {
    /// The decoding plan for `request`.
    pub(super) fn plan_for(&mut self, request: &ChatRequest) -> std::result::Result<Plan, String> {
        let model = self.model;
        Ok(match &request.schema {
            Some(schema) => match self.skeleton_for(&schema.schema)? {
                Some(steps) => Plan::Skeleton(steps),
                None => {
                    let gbnf = self.grammar_for(&schema.schema)?;
                    Plan::Sample(Sampling::Grammar(
                        LlamaSampler::grammar(model, &gbnf, "root")
                            .map_err(|e| format!("grammar: {e}"))?,
                        0,
                    ))
                }
            },
            None if request.temperature <= 0.0 => Plan::Sample(Sampling::Greedy),
            None => {
                self.seed = self
                    .seed
                    .wrapping_mul(1_664_525)
                    .wrapping_add(1_013_904_223);
                Plan::Sample(Sampling::Chain(LlamaSampler::chain_simple([
                    LlamaSampler::top_k(40),
                    LlamaSampler::top_p(0.95, 1),
                    LlamaSampler::temp(request.temperature),
                    LlamaSampler::dist(self.seed),
                ])))
            }
        })
    }

    fn grammar_for(&mut self, schema: &serde_json::Value) -> std::result::Result<String, String> {
        let key = schema.to_string();
        if let Some(g) = self.grammars.get(&key) {
            return Ok(g.clone());
        }
        let grammar = llama_cpp_2::json_schema_to_grammar(&key)
            .map_err(|e| format!("JSON schema to grammar: {e}"))?;
        tracing::trace!(%grammar, "grammar for schema");
        self.grammars.insert(key, grammar.clone());
        Ok(grammar)
    }

    fn skeleton_for(
        &mut self,
        schema: &serde_json::Value,
    ) -> std::result::Result<Option<Vec<Step>>, String> {
        let key = schema.to_string();
        if let Some(steps) = self.skeletons.get(&key) {
            return Ok(steps.clone());
        }
        // Span leaves carry the lead's words: a skeleton used once.
        let cache = !key.contains(crate::llm::SPAN_OF);
        let steps = if key.contains("\"$ref\"") {
            None
        } else {
            let mut steps = Vec::new();
            skeleton(schema, "", 0, &mut steps)?;
            // Merge adjacent literal text.
            let mut merged: Vec<Step> = Vec::new();
            for step in steps {
                match (merged.last_mut(), step) {
                    (Some(Step::Text(prev)), Step::Text(t)) => prev.push_str(&t),
                    (_, step) => merged.push(step),
                }
            }
            Some(merged).filter(|m| m.iter().any(|s| matches!(s, Step::Value { .. })))
        };
        if cache {
            self.skeletons.insert(key, steps.clone());
        }
        Ok(steps)
    }
}
