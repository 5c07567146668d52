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
    /// The package's build record: the settings of its build that can change its types, then its
    /// source hash, as `features=[..] debug_assertions=on|off panic=.. cfg=[..] src=<hex>` (see
    /// [`build::shared_package`](crate::build::shared_package); rule VER-2).
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
    /// Build record: settings and source hash (as [`Package::hash`]).
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

impl Fingerprint<'static> {
    /// The fingerprint of a plugin built exactly as `host` was: its build and every package it
    /// shares, in its order, declaring no API version and no build ID. [`compare`] finds no
    /// difference between the two unless the host requires an API version or pins a build ID.
    pub fn of_host(host: &HostConfig) -> Fingerprint<'static> {
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
    /// If set, `open` refuses a plugin file, or a directory on its resolved path, that is
    /// writable by group or others or owned by someone other than root or this process's
    /// effective user (rule OPEN-11, MAY; off by default). See
    /// [`HostConfig::require_safe_permissions`].
    pub safe_permissions: bool,
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
            safe_permissions: false,
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

    /// Requires safe permissions of every plugin file and of every directory on its resolved
    /// path, as ssh's `StrictModes` does (rule OPEN-11): `open` refuses, with
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) naming the offending path, a file or directory
    /// that is writable by its group or by others (a sticky directory such as `/tmp` included)
    /// or owned by someone other than root or this process's effective user. The refusal is not
    /// cached: once the permissions are fixed, the next `open` looks again. Unix only; on other
    /// platforms every `open` under this requirement fails with `Io`.
    ///
    /// ```
    /// use plugspec::HostConfig;
    ///
    /// let host = HostConfig::new().require_safe_permissions();
    /// assert!(host.safe_permissions);
    /// assert!(!HostConfig::new().safe_permissions);
    /// ```
    pub fn require_safe_permissions(mut self) -> HostConfig {
        self.safe_permissions = true;
        self
    }

    /// Pins the build ID every plugin must declare.
    pub fn pin_build_id(mut self, build_id: impl Into<String>) -> HostConfig {
        self.build_id = Some(build_id.into());
        self
    }
}

/// The settings of a package's build record that are compared one by one (rule VER-2), in the
/// order their differences are listed.
pub const PACKAGE_SETTINGS: [&str; 4] = ["features", "debug_assertions", "panic", "cfg"];

/// One item of a build fingerprint, as a [`Difference`] names it. Its [`Display`](std::fmt::Display)
/// is the item's name in messages and in the `differences` of the conformance protocol
/// (`toolchain`, `package my-api`, `features of my-api`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FingerprintItem {
    /// `toolchain`: rustc's version and commit (VER-1).
    Toolchain,
    /// `target`: the target triple (VER-1).
    Target,
    /// `target features`: the enabled target features (VER-1).
    TargetFeatures,
    /// `panic strategy`: `unwind` or `abort` (VER-1).
    PanicStrategy,
    /// `package <name>`: a shared package's version or source hash (VER-2).
    Package(String),
    /// `<setting> of <name>`: one of a shared package's [`PACKAGE_SETTINGS`] (VER-2, VER-3).
    PackageSetting {
        /// The setting: one of [`PACKAGE_SETTINGS`].
        setting: &'static str,
        /// The package's name.
        package: String,
    },
    /// `api version`: the API version the host requires (VER-9).
    ApiVersion,
    /// `build id`: the build ID the host pins (VER-10).
    BuildId,
    /// `package <name> as loaded by plugin <identity>`: a package only plugins share, against
    /// the plugin that declared it first (VER-12).
    PackageOfPlugin {
        /// The package's name.
        package: String,
        /// The identity of the plugin that declared it first.
        plugin: String,
    },
}

impl std::fmt::Display for FingerprintItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FingerprintItem::Toolchain => f.write_str("toolchain"),
            FingerprintItem::Target => f.write_str("target"),
            FingerprintItem::TargetFeatures => f.write_str("target features"),
            FingerprintItem::PanicStrategy => f.write_str("panic strategy"),
            FingerprintItem::Package(name) => write!(f, "package {name}"),
            FingerprintItem::PackageSetting { setting, package } => {
                write!(f, "{setting} of {package}")
            }
            FingerprintItem::ApiVersion => f.write_str("api version"),
            FingerprintItem::BuildId => f.write_str("build id"),
            FingerprintItem::PackageOfPlugin { package, plugin } => {
                write!(f, "package {package} as loaded by plugin {plugin}")
            }
        }
    }
}

/// An item equals the text naming it (`item == "package my-api"`).
impl PartialEq<str> for FingerprintItem {
    fn eq(&self, other: &str) -> bool {
        /// Consumes the expected text as the item writes itself; fails at the first mismatch.
        struct Rest<'a>(&'a str);
        impl std::fmt::Write for Rest<'_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0 = self.0.strip_prefix(s).ok_or(std::fmt::Error)?;
                Ok(())
            }
        }
        let mut rest = Rest(other);
        std::fmt::Write::write_fmt(&mut rest, format_args!("{self}")).is_ok() && rest.0.is_empty()
    }
}

/// An item equals the text naming it (`item == "package my-api"`).
impl PartialEq<&str> for FingerprintItem {
    fn eq(&self, other: &&str) -> bool {
        self == *other
    }
}

/// The source hash of a package's build record (the value of its last word, `src=<hex>`); a
/// record without settings is all source hash.
pub fn record_source_hash(record: &str) -> &str {
    match record.rsplit(' ').next() {
        Some(last) => last.strip_prefix("src=").unwrap_or(last),
        None => record,
    }
}

/// A package's build record without its source hash: its settings (empty for a record that has
/// none).
pub fn record_settings(record: &str) -> &str {
    match record.rsplit_once(' ') {
        Some((settings, last)) if last.starts_with("src=") => settings,
        _ => "",
    }
}

/// The value of one setting (`features`, `debug_assertions`, `panic`, `cfg`) in a package's
/// build record, if the record has it.
pub fn record_setting<'r>(record: &'r str, key: &str) -> Option<&'r str> {
    record.split(' ').find_map(|word| {
        let (k, v) = word.split_once('=')?;
        (k == key).then_some(v)
    })
}

/// Every item of `plugin` that differs from `host`, in a fixed order: toolchain, target, target
/// features, panic strategy, each shared package both sides declare (in the plugin's order: first
/// its version and source hash, then each of its [`PACKAGE_SETTINGS`]), API version, build ID.
/// Empty means compatible.
///
/// Linear in the number of packages on both sides, and allocation-free when nothing differs and
/// either the plugin lists the packages it shares with the host in the host's order (the SDK's
/// order: `plugspec` first, then the declared ones) or the host shares at most 16 packages;
/// otherwise one index of the host's packages is built.
pub fn compare(plugin: &Fingerprint<'_>, host: &HostConfig) -> Vec<Difference> {
    let mut out = Vec::new();
    // Formats only what differs: nothing is allocated for an equal item.
    fn differ(
        out: &mut Vec<Difference>,
        item: impl FnOnce() -> FingerprintItem,
        p: (&str, &str),
        h: (&str, &str),
    ) {
        if p != h {
            out.push(Difference {
                item: item(),
                plugin: format!("{}{}", p.0, p.1),
                host: format!("{}{}", h.0, h.1),
            });
        }
    }
    let (pb, hb) = (&plugin.build, &host.build);
    if (pb.rustc_version, pb.rustc_commit) != (hb.rustc_version, hb.rustc_commit) {
        out.push(Difference {
            item: FingerprintItem::Toolchain,
            plugin: format!("rustc {} ({})", pb.rustc_version, pb.rustc_commit),
            host: format!("rustc {} ({})", hb.rustc_version, hb.rustc_commit),
        });
    }
    differ(
        &mut out,
        || FingerprintItem::Target,
        (pb.target, ""),
        (hb.target, ""),
    );
    let none_if_empty = |f: &str| if f.is_empty() { "(none)" } else { f }.to_string();
    if pb.target_features != hb.target_features {
        out.push(Difference {
            item: FingerprintItem::TargetFeatures,
            plugin: none_if_empty(pb.target_features),
            host: none_if_empty(hb.target_features),
        });
    }
    differ(
        &mut out,
        || FingerprintItem::PanicStrategy,
        (pb.panic, ""),
        (hb.panic, ""),
    );
    // VER-2: each package both sides declare. The host's packages are walked with a cursor, so
    // that the usual case (the same order on both sides) needs no index; out of order, a short
    // host list is scanned and a long one indexed once, so the whole is O(N + M) and allocates
    // nothing unless the host lists more than `SCAN` packages in another order.
    const SCAN: usize = 16;
    let mut cursor = 0;
    let mut index: Option<std::collections::HashMap<&str, &Package>> = None;
    for p in &plugin.packages {
        let h = match host.packages.get(cursor) {
            Some(h) if h.name == p.name => {
                cursor += 1;
                Some(h)
            }
            _ if host.packages.len() <= SCAN => host.packages.iter().find(|h| h.name == p.name),
            _ => index
                .get_or_insert_with(|| host.packages.iter().map(|h| (h.name, h)).collect())
                .get(p.name)
                .copied(),
        };
        let Some(h) = h else { continue };
        // The same record is the same version, source hash and settings: nothing to split.
        if (p.version, p.hash) == (h.version, h.hash) {
            continue;
        }
        let (p_src, h_src) = (record_source_hash(p.hash), record_source_hash(h.hash));
        if p.version != h.version || p_src != h_src {
            out.push(Difference {
                item: FingerprintItem::Package(p.name.to_string()),
                plugin: format!("{} #{}", p.version, p_src),
                host: format!("{} #{}", h.version, h_src),
            });
        }
        // VER-2/VER-3: the settings that can change the package's types, each named. A setting
        // the host's record does not state (a host description written by hand with a source
        // hash alone, or plugspec's own features) is not compared.
        for key in PACKAGE_SETTINGS {
            let (ps, hs) = (record_setting(p.hash, key), record_setting(h.hash, key));
            if hs.is_some() && ps != hs {
                out.push(Difference {
                    item: FingerprintItem::PackageSetting {
                        setting: key,
                        package: p.name.to_string(),
                    },
                    plugin: ps.unwrap_or("(none)").into(),
                    host: hs.unwrap_or("(none)").into(),
                });
            }
        }
    }
    if let Some(required) = host.api_version {
        if plugin.api_version != Some(required) {
            let declared = plugin
                .api_version
                .map_or_else(|| "(none)".to_string(), |v| v.to_string());
            out.push(Difference {
                item: FingerprintItem::ApiVersion,
                plugin: declared,
                host: required.to_string(),
            });
        }
    }
    if let Some(pinned) = &host.build_id {
        let declared = plugin.build_id.unwrap_or("(none)");
        differ(
            &mut out,
            || FingerprintItem::BuildId,
            (declared, ""),
            (pinned, ""),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_build_is_compatible() {
        let host = HostConfig::new();
        assert!(compare(&Fingerprint::of_host(&host), &host).is_empty());
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
        let mut plugin = Fingerprint::of_host(&host);
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
        let items: Vec<_> = diffs.iter().map(|d| d.item.clone()).collect();
        assert_eq!(
            items,
            [
                FingerprintItem::Toolchain,
                FingerprintItem::PanicStrategy,
                FingerprintItem::Package("common".into()),
                FingerprintItem::Package("other".into()),
                FingerprintItem::ApiVersion,
                FingerprintItem::BuildId,
            ]
        );
        assert_eq!(diffs[2].plugin, "0.1.0 #cccc");
        assert_eq!(diffs[2].host, "0.1.0 #aaaa");
        assert_eq!(diffs[5].plugin, "(none)");
    }

    #[test]
    fn an_item_is_named_by_its_former_text_and_equals_only_that() {
        let setting = FingerprintItem::PackageSetting {
            setting: "features",
            package: "api".into(),
        };
        assert_eq!(setting.to_string(), "features of api");
        assert_eq!(setting, "features of api");
        let package = FingerprintItem::Package("b".into());
        assert_eq!(package, "package b");
        assert_ne!(package, "package bc");
        assert_ne!(package, "package ");
        assert_ne!(package, "");
        assert_ne!(FingerprintItem::BuildId, "build");
        assert_eq!(FingerprintItem::TargetFeatures, "target features");
    }

    #[test]
    fn each_differing_setting_of_a_shared_package_is_named() {
        let record = |settings: &'static str| Package {
            name: "my-plugin-api",
            version: "1.0.0",
            hash: settings,
        };
        let host = HostConfig::new().shared(record(
            "features=[] debug_assertions=on panic=unwind cfg=[] src=00ff",
        ));
        let mut plugin = Fingerprint::of_host(&host);
        plugin.packages[1].hash =
            "features=[wide] debug_assertions=off panic=unwind cfg=[] src=00ff";
        let diffs = compare(&plugin, &host);
        let text: Vec<String> = diffs.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "plugin was built with different features of my-plugin-api: plugin [wide], host []",
                "plugin was built with different debug_assertions of my-plugin-api: plugin off, host on",
            ]
        );
        // The source hash alone still differs as the package.
        plugin.packages[1].hash = "features=[] debug_assertions=on panic=unwind cfg=[] src=00fe";
        let diffs = compare(&plugin, &host);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].item, "package my-plugin-api");
        assert_eq!(diffs[0].plugin, "1.0.0 #00fe");
    }

    #[test]
    fn packages_in_another_order_are_still_matched() {
        let a = Package {
            name: "a",
            version: "1.0.0",
            hash: "src=01",
        };
        let b = Package {
            name: "b",
            version: "1.0.0",
            hash: "src=02",
        };
        let host = HostConfig::new().shared(a).shared(b);
        let mut plugin = Fingerprint::of_host(&host);
        plugin.packages.swap(1, 2);
        assert!(compare(&plugin, &host).is_empty());
        plugin.packages[1].hash = "src=03";
        let diffs = compare(&plugin, &host);
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].item, "package b");
    }

    #[test]
    fn this_build_records_its_settings() {
        let record = PLUGSPEC_PACKAGE.hash;
        assert_eq!(record_setting(record, "panic"), Some(THIS_BUILD.panic));
        let da = if cfg!(debug_assertions) { "on" } else { "off" };
        assert_eq!(record_setting(record, "debug_assertions"), Some(da));
        // plugspec's own features add the loader only: they are not recorded.
        assert_eq!(record_setting(record, "features"), None);
        assert_eq!(record_source_hash(record).len(), 64);
    }

    #[test]
    fn a_setting_the_host_does_not_state_is_not_compared() {
        // VER-2.j: a host record with the source hash alone checks version and source only.
        let host = HostConfig::new().shared(Package {
            name: "my-plugin-api",
            version: "1.0.0",
            hash: "00ff",
        });
        let mut plugin = Fingerprint::of_host(&host);
        plugin.packages[1].hash =
            "features=[wide] debug_assertions=off panic=abort cfg=[x] src=00ff";
        assert!(compare(&plugin, &host).is_empty());
        plugin.packages[1].hash =
            "features=[wide] debug_assertions=off panic=abort cfg=[x] src=00fe";
        assert_eq!(compare(&plugin, &host).len(), 1);
        // A host record that states the features compares them, and a plugin that states none
        // differs from it.
        let host = HostConfig::new().shared(Package {
            name: "my-plugin-api",
            version: "1.0.0",
            hash: "features=[] src=00ff",
        });
        let mut plugin = Fingerprint::of_host(&host);
        plugin.packages[1].hash = "src=00ff";
        let diffs = compare(&plugin, &host);
        assert_eq!(diffs.len(), 1);
        assert_eq!(
            diffs[0].to_string(),
            "plugin was built with different features of my-plugin-api: plugin (none), host []"
        );
    }

    #[test]
    fn packages_only_one_side_declares_are_not_compared() {
        let host = HostConfig::new().shared(Package {
            name: "host-only",
            version: "1.0.0",
            hash: "0",
        });
        let plugin = Fingerprint::of_host(&HostConfig::new());
        assert!(compare(&plugin, &host).is_empty());
    }
}
