//! Build fingerprints and the host's side of the comparison (rules `VER-*`).
//!
//! Every plugin carries, in its manifest, what it was built with: the toolchain (rustc version and
//! commit), the target triple, the target features and panic strategy, and every shared package
//! (name, version, source hash; `plugspec` itself is always one). A host holds the same facts
//! about its own build in a [`HostConfig`]. [`compare`] lists every item that differs; a loader
//! refuses the plugin when the list is not empty, before any of the plugin's code runs.

use crate::error::Difference;

/// What the compilation of a crate that links `plugspec` was: toolchain, target and the
/// code-generation settings that change the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildInfo<'a> {
    /// rustc's release, for example `1.95.0`.
    pub rustc_version: &'a str,
    /// rustc's commit hash.
    pub rustc_commit: &'a str,
    /// The target triple.
    pub target: &'a str,
    /// The enabled target features, sorted, comma-separated.
    pub target_features: &'a str,
    /// `unwind` or `abort`.
    pub panic: &'a str,
}

/// This build of `plugspec`, recorded by its build script. A plugin's manifest carries the
/// plugin's copy; a host's [`HostConfig`] carries the host's.
pub const THIS_BUILD: BuildInfo<'static> = BuildInfo {
    rustc_version: env!("PLUGSPEC_RUSTC_VERSION"),
    rustc_commit: env!("PLUGSPEC_RUSTC_COMMIT"),
    target: env!("PLUGSPEC_TARGET"),
    target_features: env!("PLUGSPEC_TARGET_FEATURES"),
    panic: env!("PLUGSPEC_PANIC"),
};

/// A shared package: a crate both the host and a plugin are built against.
///
/// Make one with [`package!`](crate::package) in the shared crate, after calling
/// [`build::shared_package`](crate::build::shared_package) from its build script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Package {
    /// The package name (`CARGO_PKG_NAME`).
    pub name: &'static str,
    /// The package version (`CARGO_PKG_VERSION`).
    pub version: &'static str,
    /// The source hash: 16 hex digits over the package's `Cargo.toml`, `build.rs` and `src/`.
    pub hash: &'static str,
}

/// The `plugspec` package itself, always part of every fingerprint.
pub const PLUGSPEC_PACKAGE: Package = Package {
    name: env!("CARGO_PKG_NAME"),
    version: env!("CARGO_PKG_VERSION"),
    hash: env!("PLUGSPEC_PACKAGE_HASH"),
};

/// Declares the current crate as a shared package: `pub const PACKAGE: plugspec::Package = plugspec::package!();`
///
/// The crate's build script must call [`plugspec::build::shared_package`](crate::build::shared_package).
#[macro_export]
macro_rules! package {
    () => {
        $crate::Package {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
            hash: env!("PLUGSPEC_PACKAGE_HASH"),
        }
    };
}

/// A package as recorded in a manifest (borrowed from the manifest's bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageRecord<'a> {
    /// Package name.
    pub name: &'a str,
    /// Package version.
    pub version: &'a str,
    /// Source hash.
    pub hash: &'a str,
}

/// The facts of a plugin's build that a host compares with its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint<'a> {
    /// Toolchain, target and code-generation settings.
    pub build: BuildInfo<'a>,
    /// Every shared package, `plugspec` first.
    pub packages: Vec<PackageRecord<'a>>,
    /// The API version the plugin declares, if any (SDK `api_version:`).
    pub api_version: Option<u32>,
    /// The build ID the plugin declares, if any (SDK `build_id:`).
    pub build_id: Option<&'a str>,
}

/// What a host is: its own build, the shared packages it was built with, and what it requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// The host's build (by default [`THIS_BUILD`]).
    pub build: BuildInfo<'static>,
    /// The shared packages the host was built with; `plugspec` is always first.
    pub packages: Vec<Package>,
    /// If set, every plugin must declare exactly this API version (rule VER, MAY; Go Q16).
    pub api_version: Option<u32>,
    /// If set, every plugin must declare exactly this build ID (rule VER, MAY; Go Q19).
    pub build_id: Option<String>,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig::new()
    }
}

impl HostConfig {
    /// This build, sharing only `plugspec`, requiring nothing more.
    pub fn new() -> HostConfig {
        HostConfig {
            build: THIS_BUILD,
            packages: vec![PLUGSPEC_PACKAGE],
            api_version: None,
            build_id: None,
        }
    }

    /// Adds a shared package the host was built with.
    pub fn shared(mut self, package: Package) -> HostConfig {
        if !self.packages.contains(&package) {
            self.packages.push(package);
        }
        self
    }

    /// Requires every plugin to declare this API version.
    pub fn require_api_version(mut self, version: u32) -> HostConfig {
        self.api_version = Some(version);
        self
    }

    /// Pins the build ID every plugin must declare.
    pub fn pin_build_id(mut self, build_id: impl Into<String>) -> HostConfig {
        self.build_id = Some(build_id.into());
        self
    }
}

/// Every item of `plugin` that differs from `host`, in a fixed order: toolchain, target, target
/// features, panic strategy, each shared package both sides declare (in the plugin's order), API
/// version, build ID. Empty means compatible.
pub fn compare(plugin: &Fingerprint<'_>, host: &HostConfig) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut differ = |item: &str, p: String, h: String| {
        if p != h {
            out.push(Difference {
                item: item.to_string(),
                plugin: p,
                host: h,
            });
        }
    };
    let toolchain = |b: &BuildInfo<'_>| format!("rustc {} ({})", b.rustc_version, b.rustc_commit);
    differ(
        "toolchain",
        toolchain(&plugin.build),
        toolchain(&host.build),
    );
    differ(
        "target",
        plugin.build.target.into(),
        host.build.target.into(),
    );
    let features = |f: &str| {
        if f.is_empty() {
            "(none)".to_string()
        } else {
            f.to_string()
        }
    };
    differ(
        "target features",
        features(plugin.build.target_features),
        features(host.build.target_features),
    );
    differ(
        "panic strategy",
        plugin.build.panic.into(),
        host.build.panic.into(),
    );
    for p in &plugin.packages {
        if let Some(h) = host.packages.iter().find(|h| h.name == p.name) {
            differ(
                &format!("package {}", p.name),
                format!("{} #{}", p.version, p.hash),
                format!("{} #{}", h.version, h.hash),
            );
        }
    }
    if let Some(required) = host.api_version {
        let declared = plugin
            .api_version
            .map_or_else(|| "(none)".to_string(), |v| v.to_string());
        differ("api version", declared, required.to_string());
    }
    if let Some(pinned) = &host.build_id {
        let declared = plugin.build_id.unwrap_or("(none)").to_string();
        differ("build id", declared, pinned.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin_like(host: &HostConfig) -> Fingerprint<'static> {
        Fingerprint {
            build: host.build,
            packages: host
                .packages
                .iter()
                .map(|p| PackageRecord {
                    name: p.name,
                    version: p.version,
                    hash: p.hash,
                })
                .collect(),
            api_version: None,
            build_id: None,
        }
    }

    #[test]
    fn the_same_build_is_compatible() {
        let host = HostConfig::new();
        assert!(compare(&plugin_like(&host), &host).is_empty());
        assert_eq!(host.packages[0].name, "plugspec");
    }

    #[test]
    fn every_difference_is_named_in_order() {
        let common = Package {
            name: "common",
            version: "0.1.0",
            hash: "aaaa",
        };
        let other = Package {
            name: "other",
            version: "1.0.0",
            hash: "bbbb",
        };
        let host = HostConfig::new()
            .shared(common)
            .shared(other)
            .require_api_version(2)
            .pin_build_id("b1");
        let mut plugin = plugin_like(&host);
        plugin.build.rustc_version = "1.94.0";
        plugin.build.panic = "abort";
        plugin.packages[1].hash = "cccc";
        plugin.packages[2].version = "1.0.1";
        plugin.packages.push(PackageRecord {
            name: "plugin-only",
            version: "9.9.9",
            hash: "dddd",
        });
        plugin.api_version = Some(1);
        let diffs = compare(&plugin, &host);
        let items: Vec<_> = diffs.iter().map(|d| d.item.as_str()).collect();
        assert_eq!(
            items,
            [
                "toolchain",
                "panic strategy",
                "package common",
                "package other",
                "api version",
                "build id"
            ]
        );
        assert_eq!(diffs[2].plugin, "0.1.0 #cccc");
        assert_eq!(diffs[2].host, "0.1.0 #aaaa");
        assert_eq!(diffs[5].plugin, "(none)");
    }

    #[test]
    fn packages_only_one_side_declares_are_not_compared() {
        let host = HostConfig::new().shared(Package {
            name: "host-only",
            version: "1.0.0",
            hash: "0",
        });
        let plugin = plugin_like(&HostConfig::new());
        assert!(compare(&plugin, &host).is_empty());
    }
}
