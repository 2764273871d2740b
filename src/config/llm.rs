//! `[llm]` (which model answers, and how patiently) and `[storage]`.

use serde::{Deserialize, Serialize};

/// Which model answers, and how patiently.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmConfig {
    #[serde(default = "default_provider")]
    pub provider: Provider,
    #[serde(default)]
    pub model_path: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_model")]
    pub model: String,
    #[serde(default = "default_api_key_env")]
    pub api_key_env: String,
    #[serde(default = "default_temperature")]
    pub temperature: f32,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    #[serde(default = "super::three")]
    pub max_retries: u32,
    #[serde(default = "default_context_tokens")]
    pub context_tokens: usize,
    #[serde(default)]
    pub price_per_1k_prompt: f64,
    #[serde(default)]
    pub price_per_1k_completion: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Local,
    Openai,
}

fn default_provider() -> Provider {
    Provider::Local
}
fn default_base_url() -> String {
    "https://api.openai.com/v1".into()
}
fn default_model() -> String {
    "gpt-4o-mini".into()
}
fn default_api_key_env() -> String {
    "OPENAI_API_KEY".into()
}
fn default_temperature() -> f32 {
    0.3
}
fn default_timeout() -> u64 {
    60
}
fn default_context_tokens() -> usize {
    4096
}

impl Default for LlmConfig {
    fn default() -> Self {
        toml::from_str("").expect("every llm key has a default")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    #[serde(default = "default_storage_url")]
    pub url: String,
}

fn default_storage_url() -> String {
    "sqlite://setter.db".into()
}

impl Default for Storage {
    fn default() -> Self {
        Self {
            url: default_storage_url(),
        }
    }
}
