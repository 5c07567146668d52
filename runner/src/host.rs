//! Host descriptions for `plugspec check`: what a host is (its build, its shared packages, what
//! it requires), written as a small TOML file, taken from a plugin known to be accepted
//! (`--like`), or given on the command line (`--shared NAME=VERSION#HASH`).
//!
//! ## The host file (`plugspec check --host host.toml`)
//!
//! Every key is optional; a build key left out is this `plugspec` binary's own build
//! ([`plugspec::fingerprint::THIS_BUILD`]), and the `plugspec` package is always shared.
//!
//! ```toml
//! rustc_version = "1.95.0"                     # the host's toolchain: rustc release…
//! rustc_commit = "59807616e…"                   # …and commit hash (`rustc -vV`)
//! target = "x86_64-unknown-linux-gnu"          # target triple
//! target_features = "fxsr,sse,sse2"             # enabled target features, sorted, comma-separated
//! panic = "unwind"                              # panic strategy: unwind or abort
//! api_version = 2                               # require plugins to declare this API version
//! build_id = "release-42"                       # require plugins to declare this build ID
//! safe_permissions = true                       # refuse files others could write (OPEN-11)
//!
//! [[shared]]                                    # a package shared with plugins (repeatable);
//! name = "my-plugin-api"                        # one named plugspec replaces plugspec's own
//! version = "0.3.1"
//! hash = "0123456789abcdef"                     # plugspec::build::package_source_hash
//! ```
//!
//! `plugspec host` prints the description `plugspec check` would use, in this format (for
//! example `plugspec host --like libmy_first_plugin.so > host.toml`).
//!
//! ```
//! use plugspec_runner::host::HostDescription;
//!
//! let description = HostDescription::parse(
//!     r#"
//!     api_version = 2
//!     [[shared]]
//!     name = "my-plugin-api"
//!     version = "0.3.1"
//!     hash = "0123456789abcdef"
//!     "#,
//! )?;
//! let host = description.to_host_config();
//! assert_eq!(host.build, plugspec::fingerprint::THIS_BUILD);
//! assert_eq!(host.packages[0], plugspec::fingerprint::PLUGSPEC_PACKAGE);
//! assert_eq!(host.packages[1].name, "my-plugin-api");
//! assert_eq!(host.api_version, Some(2));
//! assert_eq!(host.build_id, None);
//! # Ok::<(), String>(())
//! ```

use std::path::Path;

use plugspec::fingerprint::{BuildInfo, HostConfig, Package};
use serde::{Deserialize, Serialize};

/// What a host is, as the host file writes it. `None` means "as this `plugspec` binary".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostDescription {
    /// rustc's release, such as `1.95.0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rustc_version: Option<String>,
    /// rustc's commit hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rustc_commit: Option<String>,
    /// The target triple.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The enabled target features, sorted, comma-separated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_features: Option<String>,
    /// `unwind` or `abort`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panic: Option<String>,
    /// The API version every plugin must declare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<u32>,
    /// The build ID every plugin must declare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// Whether the host requires safe permissions of plugin files and of the directories on
    /// their resolved paths (OPEN-11; [`HostConfig::require_safe_permissions`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safe_permissions: Option<bool>,
    /// Shared packages besides `plugspec` (one named `plugspec` replaces its entry).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared: Vec<SharedPackage>,
}

/// A shared package in a host description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedPackage {
    /// The package name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its build record, or its source hash alone (64 hex digits from
    /// `plugspec::build::package_source_hash`; see [`plugspec::Package::hash`]).
    pub hash: String,
}

impl SharedPackage {
    /// Parses `NAME=VERSION#HASH`, the form of `plugspec check --shared`.
    ///
    /// ```
    /// use plugspec_runner::host::SharedPackage;
    ///
    /// let p = SharedPackage::parse("my-plugin-api=0.3.1#0123456789abcdef")?;
    /// assert_eq!((p.name.as_str(), p.version.as_str(), p.hash.as_str()),
    ///            ("my-plugin-api", "0.3.1", "0123456789abcdef"));
    /// assert!(SharedPackage::parse("my-plugin-api=0.3.1").is_err());
    /// # Ok::<(), String>(())
    /// ```
    pub fn parse(spec: &str) -> Result<SharedPackage, String> {
        let bad = |why: &str| format!("{spec:?} is not NAME=VERSION#HASH: {why}");
        let (name, rest) = spec.split_once('=').ok_or_else(|| bad("no '='"))?;
        let (version, hash) = rest.split_once('#').ok_or_else(|| bad("no '#'"))?;
        let (name, version, hash) = (name.trim(), version.trim(), hash.trim());
        if name.is_empty() || version.is_empty() || hash.is_empty() {
            return Err(bad("a part is empty"));
        }
        Ok(SharedPackage {
            name: name.to_string(),
            version: version.to_string(),
            hash: hash.to_string(),
        })
    }
}

impl HostDescription {
    /// Parses a host file's text.
    pub fn parse(text: &str) -> Result<HostDescription, String> {
        let description: HostDescription = toml::from_str(text).map_err(|e| {
            // One line: where, then what (toml's own rendering quotes the source over lines).
            let at = e.span().map(|span| {
                let before = text.get(..span.start).unwrap_or(text);
                let line = before.matches('\n').count() + 1;
                let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {column}: ")
            });
            format!("{}{}", at.unwrap_or_default(), e.message().trim())
        })?;
        for p in &description.shared {
            if p.name.is_empty() || p.version.is_empty() || p.hash.is_empty() {
                return Err(format!(
                    "shared package {:?}: name, version and hash must not be empty",
                    p.name
                ));
            }
        }
        Ok(description)
    }

    /// Reads and parses a host file.
    pub fn load(path: &Path) -> Result<HostDescription, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        HostDescription::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The description of a host built exactly like the plugin at `path`: its toolchain,
    /// target, target features, panic strategy and every shared package it declares (not its
    /// API version or build ID). Read from the file without running any of its code.
    pub fn like(path: &Path) -> Result<HostDescription, plugspec::Error> {
        let info = crate::inspect::inspect(path)?.info;
        Ok(HostDescription {
            rustc_version: Some(info.rustc_version),
            rustc_commit: Some(info.rustc_commit),
            target: Some(info.target),
            target_features: Some(info.target_features),
            panic: Some(info.panic),
            api_version: None,
            build_id: None,
            safe_permissions: None,
            shared: info
                .packages
                .into_iter()
                .map(|p| SharedPackage {
                    name: p.name,
                    version: p.version,
                    hash: p.hash,
                })
                .collect(),
        })
    }

    /// Every value of `other` that is set replaces this one's; its shared packages replace
    /// same-named ones and are added otherwise.
    pub fn merge(&mut self, other: HostDescription) {
        let HostDescription {
            rustc_version,
            rustc_commit,
            target,
            target_features,
            panic,
            api_version,
            build_id,
            safe_permissions,
            shared,
        } = other;
        fn set<T>(slot: &mut Option<T>, value: Option<T>) {
            if value.is_some() {
                *slot = value;
            }
        }
        set(&mut self.rustc_version, rustc_version);
        set(&mut self.rustc_commit, rustc_commit);
        set(&mut self.target, target);
        set(&mut self.target_features, target_features);
        set(&mut self.panic, panic);
        set(&mut self.api_version, api_version);
        set(&mut self.build_id, build_id);
        set(&mut self.safe_permissions, safe_permissions);
        for p in shared {
            self.add_shared(p);
        }
    }

    /// Adds a shared package, replacing one of the same name.
    pub fn add_shared(&mut self, package: SharedPackage) {
        match self.shared.iter_mut().find(|p| p.name == package.name) {
            Some(slot) => *slot = package,
            None => self.shared.push(package),
        }
    }

    /// The [`HostConfig`] this describes: [`HostConfig::new`] with every value that is set
    /// replaced, and the shared packages after `plugspec`.
    ///
    /// The config holds `&'static str`s, so the strings of the description are leaked (a few
    /// bytes, once per call: meant for a command-line tool, not a loop).
    pub fn to_host_config(&self) -> HostConfig {
        let mut host = HostConfig::new();
        let this = host.build;
        let pick = |value: &Option<String>, default: &'static str| -> &'static str {
            value.as_deref().map_or(default, leak)
        };
        host.build = BuildInfo {
            rustc_version: pick(&self.rustc_version, this.rustc_version),
            rustc_commit: pick(&self.rustc_commit, this.rustc_commit),
            target: pick(&self.target, this.target),
            target_features: pick(&self.target_features, this.target_features),
            panic: pick(&self.panic, this.panic),
        };
        for p in &self.shared {
            let package = Package {
                name: leak(&p.name),
                version: leak(&p.version),
                hash: leak(&p.hash),
            };
            match host.packages.iter_mut().find(|h| h.name == package.name) {
                Some(slot) => *slot = package,
                None => host.packages.push(package),
            }
        }
        host.api_version = self.api_version;
        host.build_id = self.build_id.clone();
        host.safe_permissions = self.safe_permissions == Some(true);
        host
    }

    /// The full description of `host` (every build value and every shared package, `plugspec`
    /// included), for printing as a host file.
    pub fn from_host_config(host: &HostConfig) -> HostDescription {
        let b = &host.build;
        HostDescription {
            rustc_version: Some(b.rustc_version.to_string()),
            rustc_commit: Some(b.rustc_commit.to_string()),
            target: Some(b.target.to_string()),
            target_features: Some(b.target_features.to_string()),
            panic: Some(b.panic.to_string()),
            api_version: host.api_version,
            build_id: host.build_id.clone(),
            safe_permissions: host.safe_permissions.then_some(true),
            shared: host
                .packages
                .iter()
                .map(|p| SharedPackage {
                    name: p.name.to_string(),
                    version: p.version.to_string(),
                    hash: p.hash.to_string(),
                })
                .collect(),
        }
    }

    /// The host file text of this description.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
    }
}

fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_description_reads_back_the_same() {
        let host = HostConfig::new()
            .require_api_version(3)
            .pin_build_id("b-1")
            .require_safe_permissions();
        let description = HostDescription::from_host_config(&host);
        let back = HostDescription::parse(&description.to_toml()).unwrap();
        assert_eq!(back, description);
        assert_eq!(back.to_host_config(), host);
    }

    #[test]
    fn unknown_keys_and_bad_packages_are_errors() {
        assert!(HostDescription::parse("rustc = \"1\"").is_err());
        assert!(HostDescription::parse("[[shared]]\nname = \"x\"\nversion = \"1\"").is_err());
        assert!(
            HostDescription::parse("[[shared]]\nname = \"\"\nversion = \"1\"\nhash = \"h\"")
                .is_err()
        );
        for bad in ["", "a", "a=1", "=1#h", "a=#h", "a=1#"] {
            assert!(SharedPackage::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn later_values_replace_earlier_ones() {
        let mut d = HostDescription::parse(
            "panic = \"abort\"\n[[shared]]\nname = \"a\"\nversion = \"1\"\nhash = \"h1\"",
        )
        .unwrap();
        d.merge(HostDescription {
            api_version: Some(4),
            shared: vec![SharedPackage::parse("a=2#h2").unwrap()],
            ..HostDescription::default()
        });
        let host = d.to_host_config();
        assert_eq!(host.build.panic, "abort");
        assert_eq!(host.api_version, Some(4));
        assert_eq!(host.packages.len(), 2);
        assert_eq!(
            (host.packages[1].version, host.packages[1].hash),
            ("2", "h2")
        );
    }
}
