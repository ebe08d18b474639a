//! Fixtures: state documents loaded into an empty state at start and by `reset?fixtures=true`.
//!
//! The default fixtures are the files under `fixtures/` in the repository, compiled into the binary
//! so that it serves them from any working directory. A directory of `*.json` state documents can
//! replace them; each file may hold any subset of the members, and no two files may hold the same
//! vendor.

use std::path::{Path, PathBuf};

use crate::instance::Instance;
use crate::state::{self, StateError, TextError};

/// Which fixtures an emulator loads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Fixtures {
    /// The built-in defaults (the repository's `fixtures/` directory).
    #[default]
    Default,
    /// Start empty.
    None,
    /// Every `*.json` file of this directory, in file-name order.
    Dir(PathBuf),
}

/// The repository's `fixtures/` files, embedded at build time.
const DEFAULT_FILES: &[(&str, &str)] = &[
    (
        "fixtures/aliyun.json",
        include_str!("../fixtures/aliyun.json"),
    ),
    (
        "fixtures/huawei.json",
        include_str!("../fixtures/huawei.json"),
    ),
    (
        "fixtures/aries.json",
        include_str!("../fixtures/aries.json"),
    ),
    ("fixtures/jd.json", include_str!("../fixtures/jd.json")),
];

/// A fixture set that cannot be loaded; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The directory or a file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file or directory.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file is not valid JSON.
    #[error("{file}: invalid JSON: {source}")]
    Syntax {
        /// The file.
        file: String,
        /// The parse error, with line and column.
        source: serde_json::Error,
    },
    /// A file is JSON but not a valid state document.
    #[error("{file}: {source}")]
    Invalid {
        /// The file.
        file: String,
        /// Where and why, as a JSON path.
        source: StateError,
    },
}

impl Fixtures {
    /// Reads the fixture files as (name, text) pairs.
    fn read(&self) -> Result<Vec<(String, String)>, FixtureError> {
        match self {
            Fixtures::None => Ok(Vec::new()),
            Fixtures::Default => Ok(DEFAULT_FILES
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect()),
            Fixtures::Dir(dir) => read_dir(dir),
        }
    }
}

fn read_dir(dir: &Path) -> Result<Vec<(String, String)>, FixtureError> {
    let io = |file: &Path, source| FixtureError::Io {
        file: file.display().to_string(),
        source,
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json") && p.is_file())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| io(&p, e))?;
            Ok((p.display().to_string(), text))
        })
        .collect()
}

/// Loads `fixtures` into `instance`, replacing its state. Nothing changes on error.
pub(crate) fn load(instance: &Instance, fixtures: &Fixtures) -> Result<(), FixtureError> {
    let files = fixtures.read()?;
    // Each file is validated once, on its own (so errors name it), and the validated states are
    // combined: a vendor comes from the one file that defines it.
    let mut parts = Vec::with_capacity(files.len());
    let mut owner_of: Vec<(String, String)> = Vec::new();
    for (file, text) in &files {
        let invalid = |source| FixtureError::Invalid {
            file: file.clone(),
            source,
        };
        let (prepared, members) = state::prepare_text(instance, text).map_err(|e| match e {
            TextError::Syntax(source) => FixtureError::Syntax {
                file: file.clone(),
                source,
            },
            TextError::Invalid(source) => invalid(source),
        })?;
        let mut defined = Vec::new();
        for key in members {
            if matches!(key.as_str(), "format" | "version" | "credentials") {
                continue;
            }
            if let Some((_, first)) = owner_of.iter().find(|(v, _)| *v == key) {
                return Err(invalid(StateError::new(
                    format!("$.{key}"),
                    format!("vendor {key} is already defined by {first}"),
                )));
            }
            owner_of.push((key.clone(), file.clone()));
            defined.push(key);
        }
        parts.push((prepared, defined));
    }
    let base = state::prepare(instance, &state::empty_document()).map_err(|source| {
        FixtureError::Invalid {
            file: "(empty state)".into(),
            source,
        }
    })?;
    state::install(instance, state::Prepared::combine(base, parts));
    Ok(())
}
