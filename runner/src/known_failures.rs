//! Known failures, kept as data in the implementation's repository (strict: an unexpected pass
//! is an error, and so is an unknown case ID).
//!
//! ```toml
//! [[failure]]
//! id = "OPN-0003"
//! reason = "identities are not tracked yet"
//! link = "https://example.invalid/issues/12"   # optional
//! platform = "macos"                            # optional: only there (see crate::platforms)
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::case::Suite;

/// One known failure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownFailure {
    /// The case ID.
    pub id: String,
    /// Why it fails.
    pub reason: String,
    /// An issue or document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Only on this platform (an OS family, `loading`, `refusing`, or a target triple).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    failure: Vec<KnownFailure>,
}

/// The known failures that apply on this platform, by case ID.
#[derive(Debug, Clone, Default)]
pub struct KnownFailures {
    /// The file they came from.
    pub file: Option<PathBuf>,
    /// By case ID.
    pub by_id: BTreeMap<String, KnownFailure>,
}

impl KnownFailures {
    /// Reads and checks the file: every ID must name a case of `suite`, at most once.
    pub fn load(path: &Path, suite: &Suite) -> Result<KnownFailures, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let file: File = toml::from_str(&text)
            .map_err(|e| format!("{}: {}", path.display(), e.to_string().trim()))?;
        let platform = plugspec::platform::current();
        let mut by_id = BTreeMap::new();
        for f in file.failure {
            if !suite.cases.iter().any(|c| c.id == f.id) {
                return Err(format!(
                    "{}: unknown case ID {:?} in the known failures",
                    path.display(),
                    f.id
                ));
            }
            if let Some(p) = &f.platform {
                if !crate::platforms::is_known(p) {
                    return Err(format!(
                        "{}: {}: unknown platform {p:?}",
                        path.display(),
                        f.id
                    ));
                }
                if !crate::platforms::matches(p, &platform) {
                    continue;
                }
            }
            if by_id.insert(f.id.clone(), f.clone()).is_some() {
                return Err(format!("{}: case {} is listed twice", path.display(), f.id));
            }
        }
        Ok(KnownFailures {
            file: Some(path.to_path_buf()),
            by_id,
        })
    }

    /// The entry for a case, if it is a known failure here.
    pub fn get(&self, id: &str) -> Option<&KnownFailure> {
        self.by_id.get(id)
    }
}
