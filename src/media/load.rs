//! Loading each file a plan uses once, in parallel, with every failure reported together under
//! the spec path that uses the file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::media::error::AssetError;
use crate::spec::SpecIssue;

/// Why one file could not be loaded.
#[derive(Debug)]
pub enum LoadFailure {
    /// The file cannot be used (the message names it and says why).
    Asset(String),
    /// Loading needed to write somewhere and could not: the machine's problem.
    Env(crate::base::env::EnvError),
}

impl From<crate::media::error::ImageError> for LoadFailure {
    fn from(e: crate::media::error::ImageError) -> LoadFailure {
        LoadFailure::Asset(e.to_string())
    }
}

impl From<crate::media::error::SoundError> for LoadFailure {
    fn from(e: crate::media::error::SoundError) -> LoadFailure {
        match e {
            crate::media::error::SoundError::Env(env) => LoadFailure::Env(env),
            other => LoadFailure::Asset(other.to_string()),
        }
    }
}

impl From<String> for LoadFailure {
    fn from(message: String) -> LoadFailure {
        LoadFailure::Asset(message)
    }
}

/// The distinct files a plan uses, each with the spec path of its first use (for errors).
#[derive(Debug, Default)]
pub struct FileUses(HashMap<PathBuf, String>);

impl FileUses {
    /// Records a use of `file` at the spec path made by `spec_path` (kept only for the first).
    pub fn add(&mut self, file: &Path, spec_path: impl FnOnce() -> String) {
        if !self.0.contains_key(file) {
            self.0.insert(file.to_path_buf(), spec_path());
        }
    }

    /// Loads every file once, in parallel. All failures are reported together, each with the
    /// spec path that uses the file; a failure of the machine (a temporary file that cannot
    /// be written) is reported alone, as [`AssetError::Env`]: it is no asset's fault.
    pub fn load_all<T: Send, E: Into<LoadFailure> + Send>(
        self,
        load: impl Fn(&Path) -> Result<T, E> + Sync,
    ) -> Result<HashMap<PathBuf, T>, AssetError> {
        let results: Vec<(PathBuf, String, Result<T, E>)> = self
            .0
            .into_par_iter()
            .map(|(file, path)| {
                let r = load(&file);
                (file, path, r)
            })
            .collect();
        let mut loaded = HashMap::new();
        let mut issues = Vec::new();
        for (file, path, r) in results {
            match r.map_err(Into::into) {
                Ok(v) => {
                    loaded.insert(file, v);
                }
                Err(LoadFailure::Asset(message)) => issues.push(SpecIssue { path, message }),
                Err(LoadFailure::Env(e)) => return Err(AssetError::Env(e)),
            }
        }
        if issues.is_empty() {
            Ok(loaded)
        } else {
            issues.sort_by(|a, b| a.path.cmp(&b.path));
            Err(AssetError::Load(issues))
        }
    }
}
