//! Wiring shared by every command and by `setter serve`: config → prompts,
//! store, model → agent. One place, so the terminal, evals and the server
//! run the same agent the same way.

use crate::agent::{self, Agent};
use crate::config::{self, Loaded};
use crate::llm::{self, ChatModel};
use crate::prompts::{self, Prompts};
use crate::store::{self, Store};
use std::sync::Arc;

/// Why the agent could not be built; each names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Prompts(#[from] prompts::Error),
    #[error("opening storage {url}: {source}")]
    Store { url: String, source: store::Error },
    #[error(transparent)]
    Model(#[from] llm::Error),
    #[error("fetching the default model (or set [llm] provider = \"openai\"): {0}")]
    Pull(String),
    #[error(transparent)]
    Agent(#[from] agent::Error),
}

/// Opens the store named in the config.
pub async fn open_store(loaded: &Loaded) -> Result<Store, Error> {
    let url = loaded.storage_url();
    Store::open(&url)
        .await
        .map_err(|source| Error::Store { url, source })
}

/// The configured model (fetched on first use when it is the embedded
/// default), wrapped in a cassette when `SETTER_CASSETTE` is set.
pub async fn model(loaded: &Loaded) -> Result<Arc<dyn ChatModel>, Error> {
    let cassette = llm::cassette::Settings::from_env()?;
    let replaying = cassette
        .as_ref()
        .is_some_and(|c| c.mode == llm::cassette::Mode::Replay);
    if !replaying {
        pull_default_model_if_missing(loaded).await?;
    }
    Ok(llm::from_config(loaded, cassette)?)
}

/// The templates named by `prompts_dir` (embedded defaults for the rest).
pub fn prompts(loaded: &Loaded) -> Result<Prompts, Error> {
    Ok(Prompts::load(Some(
        &loaded.resolve(&loaded.config.prompts_dir),
    ))?)
}

/// Config, store, `prompts` and `model`, wired into an agent.
pub async fn agent(
    loaded: Loaded,
    model: Arc<dyn ChatModel>,
    prompts: Prompts,
) -> Result<Agent, Error> {
    let store = open_store(&loaded).await?;
    Ok(Agent::new(
        Arc::new(loaded),
        model,
        store,
        Arc::new(prompts),
    )?)
}

/// First run on the embedded default: fetch the default model (the README's
/// first command needs nothing else). A configured `model_path` is never
/// downloaded over; a missing one is reported by the backend.
async fn pull_default_model_if_missing(loaded: &Loaded) -> Result<(), Error> {
    use crate::llm::catalog;
    let llm = &loaded.config.llm;
    if llm.provider != config::Provider::Local || !llm.model_path.is_empty() {
        return Ok(());
    }
    let Some(path) = catalog::default_model_path() else {
        return Ok(());
    };
    if path.exists() || !cfg!(feature = "local") {
        return Ok(());
    }
    eprintln!(
        "First run: fetching the default local model ({}, {:.1} GB) to {} — `setter model pull` does the same.",
        catalog::DEFAULT.id,
        catalog::DEFAULT.size as f64 / 1e9,
        path.display()
    );
    let opts = catalog::PullOptions {
        progress: true,
        ..Default::default()
    };
    tokio::task::spawn_blocking(move || catalog::pull(&catalog::DEFAULT, &opts))
        .await
        .map_err(|e| Error::Pull(e.to_string()))?
        .map_err(|e| Error::Pull(e.to_string()))?;
    Ok(())
}
