//! The closed set of errors a loader reports (rules `ERR-*` in SPEC.md).
//!
//! Callers match on [`ErrorKind`], never on text. The text ([`Error`]'s `Display`) follows Go's
//! `plugin` package wording where Go has one, so that people who know Go recognise it, and adds
//! what Go leaves out (which package differs, what the panic said, why a file is not a plugin).

use crate::fingerprint::FingerprintItem;
use std::fmt;
use std::path::{Path, PathBuf};

/// What went wrong, as a closed set. Every loader under test reports one of these.
///
/// The string form ([`ErrorKind::as_str`]) is what cases and reports use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The path does not resolve to a file: missing, empty, dangling or looping symlink, longer
    /// than `PATH_MAX`, containing a NUL byte, or through a directory that cannot be searched.
    /// Go: `realpath failed`. Never cached.
    NotFound,
    /// The file resolves but is not a plugspec plugin: a directory, FIFO, socket or device, an
    /// empty or text file, an executable, a shared library without a manifest, or a manifest that
    /// is corrupt. Never cached.
    NotAPlugin,
    /// The file carries a plugspec manifest of an ABI version this loader does not read. Cached.
    IncompatibleAbi,
    /// The plugin's build fingerprint differs from the host's: toolchain, target, code-generation
    /// settings, a shared package, the required API version or the pinned build ID. Go:
    /// `plugin was built with a different version of package X`. Cached.
    VersionMismatch,
    /// A different file whose plugin identity is already loaded. Go: `plugin already loaded`.
    /// Cached.
    AlreadyLoaded,
    /// The plugin's init panicked; the message carries the panic message. Cached.
    InitPanicked,
    /// Lookup of a name the plugin did not export. Go: `plugin: symbol X not found in plugin P`.
    SymbolNotFound,
    /// Typed lookup with the wrong kind (function versus variable) or the wrong Rust type.
    TypeMismatch,
    /// This platform does not load plugins. Go: `plugin: not implemented`.
    UnsupportedPlatform,
    /// A plugin's init opened the plugin that is being initialised.
    RecursiveOpen,
    /// The operating system could not read or map the resolved file (permission denied on the
    /// file itself, a read error, the dynamic loader's own refusal). Never cached.
    Io,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::NotFound,
        ErrorKind::NotAPlugin,
        ErrorKind::IncompatibleAbi,
        ErrorKind::VersionMismatch,
        ErrorKind::AlreadyLoaded,
        ErrorKind::InitPanicked,
        ErrorKind::SymbolNotFound,
        ErrorKind::TypeMismatch,
        ErrorKind::UnsupportedPlatform,
        ErrorKind::RecursiveOpen,
        ErrorKind::Io,
    ];

    /// The stable snake_case name used in cases, protocol messages and reports.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::NotAPlugin => "not_a_plugin",
            ErrorKind::IncompatibleAbi => "incompatible_abi",
            ErrorKind::VersionMismatch => "version_mismatch",
            ErrorKind::AlreadyLoaded => "already_loaded",
            ErrorKind::InitPanicked => "init_panicked",
            ErrorKind::SymbolNotFound => "symbol_not_found",
            ErrorKind::TypeMismatch => "type_mismatch",
            ErrorKind::UnsupportedPlatform => "unsupported_platform",
            ErrorKind::RecursiveOpen => "recursive_open",
            ErrorKind::Io => "io",
        }
    }

    /// Parses [`ErrorKind::as_str`] back.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Whether a failure of this kind from `open` is remembered for the resolved path, so that a
    /// later open of the same path returns it again with `(previous failure)` (rule CACHE-3).
    pub const fn is_sticky(self) -> bool {
        matches!(
            self,
            ErrorKind::IncompatibleAbi
                | ErrorKind::VersionMismatch
                | ErrorKind::AlreadyLoaded
                | ErrorKind::InitPanicked
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One item of a build fingerprint that differs between a plugin and its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What differs ([`FingerprintItem`]; its `Display` is the item's name: `toolchain`,
    /// `package <name>`, `features of <name>`, …).
    pub item: FingerprintItem,
    /// The plugin's value.
    pub plugin: String,
    /// The host's value (for VER-12, the value of the plugin named in `item`).
    pub host: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (plugin, host) = (&self.plugin, &self.host);
        match &self.item {
            // VER-12: a package only plugins share, against the plugin that declared it first.
            FingerprintItem::PackageOfPlugin {
                package,
                plugin: other,
            } => write!(
                f,
                "plugin was built with a different version of package {package} than the loaded plugin {other} (plugin {plugin}, {other} {host})"
            ),
            // VER-3: a build setting of a shared package, e.g. `features of my-api`.
            item @ FingerprintItem::PackageSetting { .. } => write!(
                f,
                "plugin was built with different {item}: plugin {plugin}, host {host}"
            ),
            FingerprintItem::Package(package) => write!(
                f,
                "plugin was built with a different version of package {package} (plugin {plugin}, host {host})"
            ),
            item => write!(
                f,
                "plugin was built with a different {item} (plugin {plugin}, host {host})"
            ),
        }
    }
}

/// An error from a loader: a kind, the path as the caller gave it, and a message.
///
/// Build one with the constructors ([`Error::not_found`], …); they word the message as Go does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    path: Option<PathBuf>,
    detail: String,
    differences: Vec<Difference>,
    previous_failure: bool,
}

impl Error {
    /// An error of `kind` about `path` (as given), whose message body is `detail`.
    ///
    /// `open` errors render as `plugin.Open("<path>"): <detail>`; errors without a path render
    /// as `detail` alone.
    pub fn new(kind: ErrorKind, path: Option<&Path>, detail: impl Into<String>) -> Error {
        Error {
            kind,
            path: path.map(Path::to_path_buf),
            detail: detail.into(),
            differences: Vec::new(),
            previous_failure: false,
        }
    }

    /// `plugin.Open("<path>"): realpath failed: <reason>`.
    pub fn not_found(path: &Path, reason: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::NotFound,
            Some(path),
            format!("realpath failed: {reason}"),
        )
    }

    /// `plugin.Open("<path>"): not a plugin: <reason>`.
    pub fn not_a_plugin(path: &Path, reason: impl fmt::Display) -> Error {
        Error::new(
            ErrorKind::NotAPlugin,
            Some(path),
            format!("not a plugin: {reason}"),
        )
    }

    /// `plugin.Open("<path>"): incompatible plugin ABI: ...`.
    pub fn incompatible_abi(path: &Path, found: u32, supported: u32) -> Error {
        Error::new(
            ErrorKind::IncompatibleAbi,
            Some(path),
            format!(
                "incompatible plugin ABI: the manifest is version {found}, this loader reads version {supported}"
            ),
        )
    }

    /// A version mismatch naming every difference, in order.
    pub fn version_mismatch(path: &Path, differences: Vec<Difference>) -> Error {
        let detail = differences
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let mut e = Error::new(ErrorKind::VersionMismatch, Some(path), detail);
        e.differences = differences;
        e
    }

    /// `plugin.Open("<path>"): plugin already loaded: ...`.
    pub fn already_loaded(path: &Path, identity: &str, loaded_from: &Path) -> Error {
        Error::new(
            ErrorKind::AlreadyLoaded,
            Some(path),
            format!(
                "plugin already loaded: identity {identity:?} is already loaded from {}",
                escaped(loaded_from)
            ),
        )
    }

    /// `plugin.Open("<path>"): plugin init panicked: <message>`.
    pub fn init_panicked(path: &Path, panic_message: &str) -> Error {
        Error::new(
            ErrorKind::InitPanicked,
            Some(path),
            format!("plugin init panicked: {panic_message}"),
        )
    }

    /// `plugin: symbol <name> not found in plugin <identity>` (Go's wording, no path prefix).
    ///
    /// One allocation: the message, sized exactly.
    pub fn symbol_not_found(name: &str, identity: &str) -> Error {
        let parts = ["plugin: symbol ", name, " not found in plugin ", identity];
        let mut detail = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        parts.iter().for_each(|p| detail.push_str(p));
        Error::new(ErrorKind::SymbolNotFound, None, detail)
    }

    /// `plugin: symbol <name> in plugin <identity> is <found>, not <wanted>`.
    pub fn type_mismatch(name: &str, identity: &str, found: &str, wanted: &str) -> Error {
        Error::new(
            ErrorKind::TypeMismatch,
            None,
            format!("plugin: symbol {name} in plugin {identity} is {found}, not {wanted}"),
        )
    }

    /// `plugin: not implemented on <platform>: <why>` (Go: `plugin: not implemented`).
    pub fn unsupported_platform(path: Option<&Path>, platform: &str, why: &str) -> Error {
        let mut e = Error::new(
            ErrorKind::UnsupportedPlatform,
            None,
            format!("plugin: not implemented on {platform}: {why}"),
        );
        e.path = path.map(Path::to_path_buf);
        e
    }

    /// `plugin.Open("<path>"): recursive open: ...`.
    pub fn recursive_open(path: &Path) -> Error {
        Error::new(
            ErrorKind::RecursiveOpen,
            Some(path),
            "recursive open: the plugin at this path is being initialised by this thread (its init opened itself)",
        )
    }

    /// `plugin.Open("<path>"): <what>: <os error>`.
    pub fn io(path: &Path, what: impl fmt::Display) -> Error {
        Error::new(ErrorKind::Io, Some(path), what.to_string())
    }

    /// This error as a cached failure: the same error for `path`, with ` (previous failure)`.
    pub fn as_previous_failure(&self, path: &Path) -> Error {
        let mut e = self.clone();
        e.path = Some(path.to_path_buf());
        e.previous_failure = true;
        e
    }

    /// The kind. Match on this, never on the text.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The path as the caller passed it to `open`, if the error is about an open.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The message without the `plugin.Open("…"): ` prefix and without `(previous failure)`.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// For [`ErrorKind::VersionMismatch`], every item that differs; empty otherwise.
    pub fn differences(&self) -> &[Difference] {
        &self.differences
    }

    /// Whether this is a cached failure returned again for a later open of the same path.
    pub fn is_previous_failure(&self) -> bool {
        self.previous_failure
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.path, self.kind) {
            (Some(path), kind)
                if !matches!(
                    kind,
                    ErrorKind::UnsupportedPlatform
                        | ErrorKind::SymbolNotFound
                        | ErrorKind::TypeMismatch
                ) =>
            {
                write!(f, "plugin.Open(\"{}\"): {}", escaped(path), self.detail)?
            }
            _ => f.write_str(&self.detail)?,
        }
        if self.previous_failure {
            f.write_str(" (previous failure)")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// `path` as every plugspec message shows it (ERR-2): escaped the way Rust's `Debug` for
/// [`Path`] escapes it, without the surrounding quotes — so a NUL byte shows as `\0`, a byte
/// that is not UTF-8 as `\xFF`, a quote or backslash with a backslash before it, and a plain
/// path exactly as it is.
///
/// ```
/// use std::path::Path;
/// assert_eq!(plugspec::error::escaped(Path::new("/tmp/a b.so")).to_string(), "/tmp/a b.so");
/// assert_eq!(plugspec::error::escaped(Path::new("a\"b\n")).to_string(), r#"a\"b\n"#);
/// ```
pub fn escaped(path: &Path) -> impl fmt::Display + '_ {
    struct Escaped<'a>(&'a Path);
    impl fmt::Display for Escaped<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let quoted = format!("{:?}", self.0);
            // `Debug` always quotes: `"…"`.
            let inner = quoted
                .strip_prefix('"')
                .and_then(|q| q.strip_suffix('"'))
                .unwrap_or(&quoted);
            f.write_str(inner)
        }
    }
    Escaped(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ERR-2: the path is shown as given, escaped like `Debug` for `Path`: a NUL byte, a byte
    /// that is not UTF-8 and a quote never reach the message raw (nor as U+FFFD).
    #[cfg(unix)]
    #[test]
    fn paths_in_messages_are_escaped_like_debug() {
        use std::os::unix::ffi::OsStrExt;
        let path = Path::new(std::ffi::OsStr::from_bytes(b"/tmp/a\0b\xff\"c.so"));
        let e = Error::not_found(path, "gone");
        let text = e.to_string();
        assert_eq!(
            text,
            r#"plugin.Open("/tmp/a\0b\xFF\"c.so"): realpath failed: gone"#
        );
        assert!(
            !text.contains('\0') && !text.contains('\u{fffd}'),
            "{text:?}"
        );
        let loaded = Error::already_loaded(Path::new("p.so"), "id", path);
        assert!(
            loaded.to_string().contains(r#"/tmp/a\0b\xFF\"c.so"#),
            "{loaded}"
        );
        assert_eq!(
            escaped(Path::new("/plain/path.so")).to_string(),
            "/plain/path.so"
        );
    }

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_name(kind.as_str()), Some(kind));
        }
        assert_eq!(ErrorKind::from_name("nope"), None);
    }

    #[test]
    fn open_errors_use_gos_prefix_and_previous_failure_suffix() {
        let e = Error::not_found(Path::new("missing.so"), "No such file or directory");
        assert_eq!(
            e.to_string(),
            "plugin.Open(\"missing.so\"): realpath failed: No such file or directory"
        );
        let e = Error::already_loaded(Path::new("copy.so"), "fx.basic", Path::new("/p/basic.so"));
        assert_eq!(
            e.as_previous_failure(Path::new("copy.so")).to_string(),
            "plugin.Open(\"copy.so\"): plugin already loaded: identity \"fx.basic\" is already loaded from /p/basic.so (previous failure)"
        );
    }

    #[test]
    fn lookup_errors_use_gos_wording_without_a_prefix() {
        assert_eq!(
            Error::symbol_not_found("C", "gpr/p1").to_string(),
            "plugin: symbol C not found in plugin gpr/p1"
        );
        assert_eq!(
            Error::symbol_not_found("", "gpr/p1").to_string(),
            "plugin: symbol  not found in plugin gpr/p1"
        );
        let e = Error::unsupported_platform(
            Some(Path::new("a.dll")),
            "windows",
            "plugspec loads plugins on Linux, macOS and FreeBSD only",
        );
        assert!(e.to_string().starts_with("plugin: not implemented"));
    }

    #[test]
    fn a_mismatch_names_every_difference() {
        let e = Error::version_mismatch(
            Path::new("m.so"),
            vec![
                Difference {
                    item: FingerprintItem::Package("common".into()),
                    plugin: "0.1.0 #aa".into(),
                    host: "0.1.0 #bb".into(),
                },
                Difference {
                    item: FingerprintItem::Toolchain,
                    plugin: "rustc 1.94.0".into(),
                    host: "rustc 1.95.0".into(),
                },
            ],
        );
        assert_eq!(
            e.to_string(),
            "plugin.Open(\"m.so\"): plugin was built with a different version of package common (plugin 0.1.0 #aa, host 0.1.0 #bb); plugin was built with a different toolchain (plugin rustc 1.94.0, host rustc 1.95.0)"
        );
        assert_eq!(e.differences().len(), 2);
    }

    #[test]
    fn only_failures_after_reading_the_file_are_sticky() {
        let sticky: Vec<_> = ErrorKind::ALL
            .into_iter()
            .filter(|k| k.is_sticky())
            .collect();
        assert_eq!(
            sticky,
            [
                ErrorKind::IncompatibleAbi,
                ErrorKind::VersionMismatch,
                ErrorKind::AlreadyLoaded,
                ErrorKind::InitPanicked
            ]
        );
    }
}
