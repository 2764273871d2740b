//! OpenAI-compatible backend (async-openai): OpenAI, vLLM, llama.cpp server,
//! Ollama — anything that speaks `/v1/chat/completions` at `base_url`.
//!
//! Retries (backon: exponential with jitter) only on what can succeed later:
//! timeouts, connection errors, 429 and 5xx. A 400 or 401 fails at once, with
//! the provider, model and server message in the error. async-openai's own
//! retry layer is replaced by a plain transport, so `max_retries = 3` means at
//! most 4 requests (with both layers it was 16), and the whole call, retries
//! included, ends after twice `timeout_secs` (a hung server held a turn for
//! four full timeouts).

use super::{ChatModel, ChatRequest, ChatResponse, Error, ModelInfo, Result, Role, Usage};
use crate::config::LlmConfig;
use async_openai::config::OpenAIConfig;
use async_openai::error::OpenAIError;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    CreateChatCompletionRequestArgs, ResponseFormat, ResponseFormatJsonSchema,
};
use async_openai::Client;
use backon::{ExponentialBuilder, Retryable};
use std::time::Duration;

pub struct OpenAiModel {
    client: Client<OpenAIConfig>,
    model: String,
    base_url: String,
    timeout: Duration,
    max_retries: u32,
}

/// Why one attempt failed, and whether another could succeed.
struct Attempt {
    message: String,
    retryable: bool,
    timed_out: bool,
}

impl OpenAiModel {
    /// Reads the key from the environment variable named in `api_key_env`
    /// (local servers usually need none, so a missing variable is not an error).
    pub fn from_config(llm: &LlmConfig) -> Result<Self> {
        let key = std::env::var(&llm.api_key_env).unwrap_or_default();
        let config = OpenAIConfig::new()
            .with_api_base(llm.base_url.trim_end_matches('/'))
            .with_api_key(key);
        // The per-call timeout is ours (tokio), so the HTTP client gets none;
        // retries are ours too (backon), so the transport has no retry layer.
        let transport = async_openai::middleware::ReqwestService::new(reqwest::Client::new());
        Ok(Self {
            client: Client::with_config(config).with_http_service(transport),
            model: llm.model.clone(),
            base_url: llm.base_url.clone(),
            timeout: Duration::from_secs(llm.timeout_secs),
            max_retries: llm.max_retries,
        })
    }

    async fn attempt(&self, request: &ChatRequest) -> Result<ChatResponse, Attempt> {
        let wire = self.wire_request(request).map_err(|e| Attempt {
            message: e.to_string(),
            retryable: false,
            timed_out: false,
        })?;
        let chat = self.client.chat();
        let response = match tokio::time::timeout(self.timeout, chat.create(wire)).await {
            Err(_) => {
                return Err(Attempt {
                    message: format!("timed out after {}s", self.timeout.as_secs()),
                    retryable: true,
                    timed_out: true,
                })
            }
            Ok(Err(e)) => return Err(classify(e)),
            Ok(Ok(r)) => r,
        };
        let text = response
            .choices
            .into_iter()
            .next()
            .and_then(|c| c.message.content)
            .unwrap_or_default();
        let usage = response
            .usage
            .map(|u| Usage {
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
            })
            .unwrap_or_default();
        Ok(ChatResponse {
            text,
            usage,
            speed: None,
            confidence: Default::default(),
            forced: Default::default(),
        })
    }

    fn wire_request(
        &self,
        request: &ChatRequest,
    ) -> Result<async_openai::types::chat::CreateChatCompletionRequest, OpenAIError> {
        let messages: Vec<ChatCompletionRequestMessage> = request
            .messages
            .iter()
            .map(|m| match m.role {
                Role::System => ChatCompletionRequestSystemMessage::from(m.content.as_str()).into(),
                Role::User => ChatCompletionRequestUserMessage::from(m.content.as_str()).into(),
                Role::Assistant => {
                    ChatCompletionRequestAssistantMessage::from(m.content.as_str()).into()
                }
            })
            .collect();
        let mut args = CreateChatCompletionRequestArgs::default();
        args.model(&self.model)
            .messages(messages)
            .temperature(request.temperature)
            .max_completion_tokens(request.max_tokens);
        if let Some(schema) = &request.schema {
            args.response_format(ResponseFormat::JsonSchema {
                json_schema: ResponseFormatJsonSchema {
                    description: None,
                    name: schema.name.clone(),
                    schema: schema.without_extensions(),
                    strict: Some(true),
                },
            });
        }
        args.build()
    }
}

fn classify(e: OpenAIError) -> Attempt {
    let (retryable, message) = match &e {
        OpenAIError::ApiError(api) => {
            let status = api.status_code.as_u16();
            (
                status == 429 || status >= 500,
                format!("HTTP {status}: {}", api.api_error.message),
            )
        }
        OpenAIError::Reqwest(r) => (
            r.is_timeout() || r.is_connect() || r.is_request(),
            format!("HTTP error: {r}"),
        ),
        OpenAIError::JSONDeserialize(err, body) => (
            false,
            format!("unreadable response ({err}); body: {}", truncate(body, 300)),
        ),
        other => (false, other.to_string()),
    };
    Attempt {
        message,
        retryable,
        timed_out: false,
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[async_trait::async_trait]
impl ChatModel for OpenAiModel {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let mut attempts = 0usize;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(10))
            .with_max_times(self.max_retries as usize)
            .with_jitter();
        let retried = (|| {
            attempts += 1;
            self.attempt(request)
        })
        .retry(backoff)
        .when(|a: &Attempt| a.retryable)
        .notify(|a: &Attempt, wait: Duration| {
            tracing::warn!(model = %self.model, wait_ms = wait.as_millis() as u64, error = %a.message, "model call failed, retrying");
        });
        let outcome = match tokio::time::timeout(2 * self.timeout, retried).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Attempt {
                message: format!(
                    "gave up after {}s in all (twice llm.timeout_secs)",
                    2 * self.timeout.as_secs()
                ),
                retryable: false,
                timed_out: true,
            }),
        };
        outcome.map_err(|a| {
            if a.timed_out && attempts == 1 {
                Error::Timeout {
                    provider: "openai".into(),
                    model: self.model.clone(),
                    secs: self.timeout.as_secs(),
                }
            } else {
                Error::Call {
                    provider: format!("openai-compatible ({})", self.base_url),
                    model: self.model.clone(),
                    attempts,
                    message: a.message,
                }
            }
        })
    }

    fn info(&self) -> ModelInfo {
        ModelInfo {
            provider: "openai".into(),
            model: self.model.clone(),
        }
    }
}
