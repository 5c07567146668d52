//! Reading plugin files without running them: [`inspect`] describes a plugin (what
//! `plugspec inspect` prints), [`check`] says whether a host would accept it (what
//! `plugspec check` prints).
//!
//! Both read the manifest from the file with [`plugspec::read_manifest`] and
//! [`plugspec::ReferenceLoader::check`]: nothing is mapped, so neither the plugin's init nor any
//! constructor of the library runs, and nothing is cached.

use std::path::Path;

use plugspec::abi::{self, Storage};
use plugspec::fingerprint::HostConfig;
use plugspec::{ErrorKind, Loader, ReferenceLoader};
use serde::{Deserialize, Serialize};

/// The version of `plugspec inspect --json`'s structure (its `schema_version` field), described
/// by `runner/inspect.schema.json`. Any change to the structure increments it.
pub const INSPECT_SCHEMA_VERSION: u32 = 1;

/// The version of `plugspec check --json`'s structure (its `schema_version` field), described
/// by `runner/check.schema.json`. Any change to the structure increments it.
pub const CHECK_SCHEMA_VERSION: u32 = 1;

/// A plugin as its manifest describes it (`plugspec inspect --json`, which adds
/// `schema_version` first: [`INSPECT_SCHEMA_VERSION`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// The path as given, escaped as Rust's `Debug` for `Path` escapes it, without the quotes
    /// (a control character, a quote, a backslash and a byte that is not UTF-8 are written as
    /// escapes), as in the loader's messages (`plugspec::error::escaped`).
    pub path: String,
    /// The plugin's identity.
    pub identity: String,
    /// The manifest's ABI version.
    pub abi_version: u32,
    /// rustc's release it was built with.
    pub rustc_version: String,
    /// rustc's commit hash.
    pub rustc_commit: String,
    /// The target triple.
    pub target: String,
    /// The enabled target features, sorted, comma-separated (empty: none).
    pub target_features: String,
    /// `unwind` or `abort`.
    pub panic: String,
    /// The API version it declares, if any.
    pub api_version: Option<u32>,
    /// The build ID it declares, if any.
    pub build_id: Option<String>,
    /// Whether it has an init entry.
    pub has_init: bool,
    /// Every shared package, `plugspec` first.
    pub packages: Vec<PackageInfo>,
    /// Every exported symbol, in export-table order.
    pub exports: Vec<ExportInfo>,
}

/// A shared package of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Source hash.
    pub hash: String,
}

/// An exported symbol of a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportInfo {
    /// The exported name.
    pub name: String,
    /// `function` or `variable`.
    pub kind: String,
    /// The Rust type as written in the plugin.
    pub rust_type: String,
    /// `code` (a function), `static_mut` or `interior_mutable`.
    pub storage: String,
    /// Size in bytes.
    pub size: u32,
    /// Alignment in bytes.
    pub align: u32,
}

/// What [`inspect`] found: the data, and its human description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The data.
    pub info: PluginInfo,
    /// The manifest's own description ([`plugspec::abi::Manifest`]'s `Display`).
    pub description: String,
    /// What looks wrong without being a refusal by `inspect`: the object header naming another
    /// machine or byte order than the target triple the manifest claims.
    pub warnings: Vec<String>,
}

/// Reads the plugin at `path` without mapping it or running any of its code.
///
/// Errors: `not_found` (no such file), `not_a_plugin` (a directory, a library without a
/// manifest, a corrupt manifest), `incompatible_abi`, `io`.
///
/// ```
/// use plugspec::ErrorKind;
///
/// let text = std::env::temp_dir().join(format!("plugspec-doc-{}.so", std::process::id()));
/// std::fs::write(&text, "just text")?;
/// let error = plugspec_runner::inspect::inspect(&text).unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::NotAPlugin);
/// assert_eq!(error.kind().as_str(), "not_a_plugin");
/// std::fs::remove_file(&text)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn inspect(path: &Path) -> Result<Inspection, plugspec::Error> {
    let file = plugspec::read_manifest(path)?;
    let manifest = file
        .decode()
        .map_err(|e| plugspec::Error::not_a_plugin(path, e))?;
    let fp = &manifest.fingerprint;
    let b = &fp.build;
    let info = PluginInfo {
        path: plugspec::error::escaped(path).to_string(),
        identity: manifest.identity.to_string(),
        abi_version: abi::ABI_VERSION,
        rustc_version: b.rustc_version.to_string(),
        rustc_commit: b.rustc_commit.to_string(),
        target: b.target.to_string(),
        target_features: b.target_features.to_string(),
        panic: b.panic.to_string(),
        api_version: fp.api_version,
        build_id: fp.build_id.map(str::to_string),
        has_init: manifest.has_init,
        packages: fp
            .packages
            .iter()
            .map(|p| PackageInfo {
                name: p.name.to_string(),
                version: p.version.to_string(),
                hash: p.hash.to_string(),
            })
            .collect(),
        exports: manifest
            .symbols
            .iter()
            .map(|s| ExportInfo {
                name: s.name.to_string(),
                kind: s.kind.to_string(),
                rust_type: s.rust_type.to_string(),
                storage: match s.storage {
                    Storage::Code => "code",
                    Storage::StaticMut => "static_mut",
                    Storage::InteriorMutable => "interior_mutable",
                }
                .to_string(),
                size: s.size,
                align: s.align,
            })
            .collect(),
    };
    let warnings = file.target_disagreement(b.target).into_iter().collect();
    Ok(Inspection {
        info,
        description: manifest.to_string(),
        warnings,
    })
}

/// One item of a plugin's fingerprint that differs from the host's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DifferenceInfo {
    /// `toolchain`, `target`, `target features`, `panic strategy`, `package <name>`,
    /// `api version` or `build id`.
    pub item: String,
    /// The plugin's value.
    pub plugin: String,
    /// The host's value.
    pub host: String,
}

/// Whether a host accepts one plugin file (`plugspec check --json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The path as given, escaped as Rust's `Debug` for `Path` escapes it, without the quotes
    /// (a control character, a quote, a backslash and a byte that is not UTF-8 are written as
    /// escapes), as in the loader's messages (`plugspec::error::escaped`).
    pub path: String,
    /// Whether the host would load it.
    pub accepted: bool,
    /// The plugin's identity, when the file has a readable manifest.
    pub identity: Option<String>,
    /// Why not: the error kind (`version_mismatch`, `not_a_plugin`, `incompatible_abi`,
    /// `not_found`, `io`), else `None`.
    pub error: Option<String>,
    /// The loader's message, else `None`.
    pub message: Option<String>,
    /// For `version_mismatch`: every item that differs, in order.
    pub differences: Vec<DifferenceInfo>,
}

impl CheckResult {
    /// The refusal's kind, if refused.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.error.as_deref().and_then(ErrorKind::from_name)
    }
}

/// Whether `host` would accept the plugin at `path`, judged from the file alone (nothing is
/// mapped, nothing runs): every difference of its fingerprint (toolchain, target, target
/// features, panic strategy, shared package versions, API version, build ID), or why it is
/// not a plugin this host can read (`not_a_plugin`, `incompatible_abi`, `not_found`, `io`).
///
/// ```
/// use std::path::Path;
/// use plugspec::{ErrorKind, HostConfig};
///
/// let host = HostConfig::new().require_api_version(2).pin_build_id("release-42");
/// let result = plugspec_runner::inspect::check(Path::new("no/such/plugin.so"), &host);
/// assert!(!result.accepted);
/// assert_eq!(result.kind(), Some(ErrorKind::NotFound));
/// assert_eq!(result.error.as_deref(), Some("not_found"));
/// ```
pub fn check(path: &Path, host: &HostConfig) -> CheckResult {
    let loader = ReferenceLoader::with_host(host.clone());
    let identity = |bytes: &[u8]| abi::decode(bytes).ok().map(|m| m.identity.to_string());
    let mut result = CheckResult {
        path: plugspec::error::escaped(path).to_string(),
        accepted: false,
        identity: None,
        error: None,
        message: None,
        differences: Vec::new(),
    };
    match loader.check(path) {
        Ok(bytes) => {
            result.accepted = true;
            result.identity = identity(&bytes);
        }
        Err(e) => {
            if e.kind() == ErrorKind::VersionMismatch {
                result.identity = ReferenceLoader::inspect(path)
                    .ok()
                    .and_then(|b| identity(&b));
            }
            result.error = Some(e.kind().as_str().to_string());
            result.message = Some(e.detail().to_string());
            result.differences = e
                .differences()
                .iter()
                .map(|d| DifferenceInfo {
                    item: d.item.to_string(),
                    plugin: d.plugin.clone(),
                    host: d.host.clone(),
                })
                .collect();
        }
    }
    result
}
