//! The mutant zoo: loaders derived from the reference loader, each breaking exactly one rule of
//! SPEC.md and declaring which.
//!
//! Most are the reference loader with one deliberate fault switched on (`plugspec` feature
//! `faults`); the rest wrap it and break one thing on the way out. [`ZooLoader`] is one
//! [`Loader`] type that becomes the mutant named by the environment variable [`MUTANT_ENV`] (or
//! the unbroken reference loader without it), so that one test binary can run the suite against
//! every mutant in child processes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use plugspec::loader::Fault;
use plugspec::{
    Error, ErrorKind, HostConfig, LoadedPlugin, Loader, Plugin, ReferenceLoader, Symbol, SymbolKind,
};

/// The environment variable naming the mutant a child process becomes.
pub const MUTANT_ENV: &str = "PLUGSPEC_ZOO_MUTANT";

/// One way of breaking the reference loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutant {
    /// The reference loader's fault, switched on.
    Fault(Fault),
    /// Returns a fresh handle on every open, so two opens of one path are not `==`.
    FreshHandle,
    /// Hands out a pointer to a copy of a variable instead of the plugin's storage.
    VariableCopy,
    /// Names only the first differing item of a version mismatch (as Go does).
    FirstDifferenceOnly,
    /// Hangs on an open that would return a cached init panic (as Go does).
    HangAfterInitPanic,
    /// Aborts the process when init panics.
    AbortOnInitPanic,
    /// Remembers a not-found path, so a retry after the file appears still fails.
    CacheNotFound,
    /// Reports a file that is not a plugin as an I/O error.
    WrongErrorKind,
    /// Falls back to raw dynamic symbols the manifest does not export.
    ExposeRawSymbols,
    /// Unloads the library when the last handle is dropped.
    UnloadOnDrop,
    /// Closes the library again when an open fails after mapping it.
    CloseAfterRefusal,
    /// Promotes every loaded library into the global namespace (`RTLD_GLOBAL`).
    GlobalNamespace,
    /// Keeps the identity of a plugin whose open failed after the file was checked, so another
    /// file with that identity is refused as already loaded.
    KeepFailedIdentity,
    /// Leaves one fingerprint item out of the comparison (`rustc_version`, `rustc_commit`,
    /// `target`, `target_features`, `panic`, `package_version`, `package_hash`, or
    /// `package_settings`: the settings of a shared package's build record, its cargo features
    /// among them), as a loader that compares a summary of the build would.
    IgnoreItem(&'static str),
    /// Counts a shared package only the plugin declares as a difference.
    PluginOnlyPackageDiffers,
    /// Lets a plugin that declares no build ID pass a pinned build ID.
    UndeclaredBuildIdPasses,
    /// Ignores a pinned build ID altogether.
    IgnoreBuildIdPin,
    /// Counts a shared package only the host declares as a difference.
    HostOnlyPackageDiffers,
    /// Remembers `io` failures, so a path that became readable still fails.
    CacheIoFailures,
    /// Words every `io` error of the dynamic loader in its own terms, dropping the operating
    /// system loader's reason (and so the name of a needed library it could not find).
    HideLoaderReason,
    /// Under a host requiring safe permissions, refuses a plugin file that root does not own,
    /// as a policy that forgets the process's own user would.
    RootOwnedOnly,
    /// Resolves a looked-up name in the process's global namespace first (where the host's
    /// exported symbols are), and hands that out instead of the plugin's export.
    HostNamesFirst,
}

/// Every mutant with its name and the rule it breaks.
pub const ZOO: &[(&str, Mutant, &str)] = &[
    (
        "reinit-on-reopen",
        Mutant::Fault(Fault::ReinitOnReopen),
        "INIT-3",
    ),
    ("lazy-init", Mutant::Fault(Fault::LazyInit), "INIT-2"),
    (
        "init-on-another-thread",
        Mutant::Fault(Fault::InitOnAnotherThread),
        "INIT-2",
    ),
    (
        "skip-fingerprint",
        Mutant::Fault(Fault::SkipFingerprint),
        "VER-2",
    ),
    (
        "skip-identity",
        Mutant::Fault(Fault::SkipIdentity),
        "OPEN-3",
    ),
    (
        "forget-sticky-failures",
        Mutant::Fault(Fault::ForgetStickyFailures),
        "CACHE-3",
    ),
    ("no-lock", Mutant::Fault(Fault::NoLock), "INIT-4"),
    (
        "map-before-check",
        Mutant::Fault(Fault::MapBeforeCheck),
        "INIT-9",
    ),
    (
        "skip-permissions",
        Mutant::Fault(Fault::SkipPermissions),
        "OPEN-11",
    ),
    ("fresh-handle", Mutant::FreshHandle, "OPEN-2"),
    ("variable-copy", Mutant::VariableCopy, "LOOKUP-2"),
    (
        "first-difference-only",
        Mutant::FirstDifferenceOnly,
        "VER-3",
    ),
    (
        "hang-after-init-panic",
        Mutant::HangAfterInitPanic,
        "INIT-5",
    ),
    ("abort-on-init-panic", Mutant::AbortOnInitPanic, "INIT-5"),
    ("cache-not-found", Mutant::CacheNotFound, "CACHE-1"),
    ("wrong-error-kind", Mutant::WrongErrorKind, "VER-6"),
    ("expose-raw-symbols", Mutant::ExposeRawSymbols, "LOOKUP-4"),
    ("unload-on-drop", Mutant::UnloadOnDrop, "UNLOAD-1"),
    ("close-after-refusal", Mutant::CloseAfterRefusal, "UNLOAD-2"),
    ("global-namespace", Mutant::GlobalNamespace, "LOOKUP-6"),
    (
        "keep-failed-identity",
        Mutant::KeepFailedIdentity,
        "CACHE-4",
    ),
    (
        "ignore-rustc-commit",
        Mutant::IgnoreItem("rustc_commit"),
        "VER-2",
    ),
    (
        "ignore-target-features",
        Mutant::IgnoreItem("target_features"),
        "VER-2",
    ),
    (
        "ignore-package-version",
        Mutant::IgnoreItem("package_version"),
        "VER-2",
    ),
    (
        "ignore-rustc-release",
        Mutant::IgnoreItem("rustc_version"),
        "VER-2",
    ),
    ("ignore-target", Mutant::IgnoreItem("target"), "VER-2"),
    (
        "ignore-panic-strategy",
        Mutant::IgnoreItem("panic"),
        "VER-2",
    ),
    (
        "ignore-package-hash",
        Mutant::IgnoreItem("package_hash"),
        "VER-2",
    ),
    (
        "ignore-package-settings",
        Mutant::IgnoreItem("package_settings"),
        "VER-2",
    ),
    (
        "plugin-only-package-differs",
        Mutant::PluginOnlyPackageDiffers,
        "VER-4",
    ),
    (
        "undeclared-build-id-passes",
        Mutant::UndeclaredBuildIdPasses,
        "VER-10",
    ),
    ("ignore-build-id-pin", Mutant::IgnoreBuildIdPin, "VER-10"),
    (
        "host-only-package-differs",
        Mutant::HostOnlyPackageDiffers,
        "VER-4",
    ),
    ("cache-io-failures", Mutant::CacheIoFailures, "CACHE-2"),
    ("hide-loader-reason", Mutant::HideLoaderReason, "OPEN-10"),
    ("root-owned-only", Mutant::RootOwnedOnly, "OPEN-11"),
    (
        "keep-failed-claims",
        Mutant::Fault(Fault::KeepFailedClaims),
        "VER-12",
    ),
    (
        "ignore-origin",
        Mutant::Fault(Fault::IgnoreOrigin),
        "OPEN-10",
    ),
    ("host-names-first", Mutant::HostNamesFirst, "LOOKUP-9"),
    (
        "skip-plugin-packages",
        Mutant::Fault(Fault::SkipPluginPackages),
        "VER-12",
    ),
];

/// Whether the mutant `name` breaks anything on this platform: `ignore-origin` changes how the
/// Linux loader maps a plugin, and the host exports its colliding name only on Linux.
pub fn breaks_here(name: &str) -> bool {
    cfg!(target_os = "linux") || !matches!(name, "ignore-origin" | "host-names-first")
}

/// The reference loader, or the mutant named by [`MUTANT_ENV`].
#[derive(Debug)]
pub struct ZooLoader {
    inner: ReferenceLoader,
    mutant: Option<Mutant>,
}

/// A plugin handle of a [`ZooLoader`].
#[derive(Debug, Clone)]
pub struct ZooPlugin {
    inner: LoadedPlugin,
    mutant: Option<Mutant>,
    /// For [`Mutant::FreshHandle`]: a number unique to this open.
    serial: u64,
    /// For [`Mutant::UnloadOnDrop`]: dropped with the last handle of the path.
    _unload: Option<Arc<UnloadGuard>>,
}

impl PartialEq for ZooPlugin {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner && self.serial == other.serial
    }
}

impl Plugin for ZooPlugin {
    fn identity(&self) -> &str {
        self.inner.identity()
    }

    fn lookup(&self, name: &str) -> Result<Symbol, Error> {
        match (self.mutant, self.inner.lookup(name)) {
            (Some(Mutant::VariableCopy), Ok(symbol)) if symbol.kind() == SymbolKind::Variable => {
                Ok(copy_of(symbol))
            }
            (Some(Mutant::ExposeRawSymbols), Err(e)) if e.kind() == ErrorKind::SymbolNotFound => {
                raw_symbol(self.inner.path(), self.identity(), name).ok_or(e)
            }
            (Some(Mutant::HostNamesFirst), Ok(symbol)) => {
                Ok(host_symbol(&symbol).unwrap_or(symbol))
            }
            (_, result) => result,
        }
    }
}

impl Loader for ZooLoader {
    type Plugin = ZooPlugin;

    fn with_host(host: HostConfig) -> Self {
        let mutant = std::env::var(MUTANT_ENV)
            .ok()
            .and_then(|name| ZOO.iter().find(|(n, _, _)| *n == name).map(|(_, m, _)| *m));
        let mut inner = ReferenceLoader::with_host(host);
        match mutant {
            Some(Mutant::Fault(fault)) => inner = inner.with_fault(fault),
            Some(Mutant::UnloadOnDrop | Mutant::CloseAfterRefusal) => {
                inner = inner.with_fault(Fault::NoNodelete)
            }
            _ => {}
        }
        ZooLoader { inner, mutant }
    }

    fn open(&self, path: &Path) -> Result<ZooPlugin, Error> {
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        static NOT_FOUND: Mutex<Vec<(PathBuf, Error)>> = Mutex::new(Vec::new());
        if self.mutant == Some(Mutant::CacheNotFound)
            && let Some((_, e)) = NOT_FOUND.lock().unwrap().iter().find(|(p, _)| p == path)
        {
            return Err(e.clone());
        }
        static FAILED: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
        if self.mutant == Some(Mutant::KeepFailedIdentity)
            && let Some(identity) = manifest_identity(path)
            && let Some((_, owner)) = FAILED.lock().unwrap().iter().find(|(i, owner)| {
                *i == identity && std::fs::canonicalize(path).ok().as_ref() != Some(owner)
            })
        {
            return Err(Error::already_loaded(path, &identity, owner));
        }
        let blind = |item: &str| {
            blind_host(self.inner.host(), path, item).map_or_else(
                || self.inner.open(path),
                |host| ReferenceLoader::with_host(host).open(path),
            )
        };
        static IO_FAILURES: Mutex<Vec<(PathBuf, Error)>> = Mutex::new(Vec::new());
        if self.mutant == Some(Mutant::CacheIoFailures)
            && let Some((_, e)) = IO_FAILURES.lock().unwrap().iter().find(|(p, _)| p == path)
        {
            return Err(e.clone());
        }
        let result = match self.mutant {
            #[cfg(unix)]
            Some(Mutant::RootOwnedOnly) if self.inner.host().safe_permissions => {
                use std::os::unix::fs::MetadataExt;
                match std::fs::metadata(path) {
                    Ok(meta) if meta.uid() != 0 => Err(Error::io(
                        path,
                        format_args!("the plugin file is owned by uid {}, not root", meta.uid()),
                    )),
                    _ => self.inner.open(path),
                }
            }
            Some(Mutant::IgnoreItem(item)) => blind(item),
            Some(Mutant::IgnoreBuildIdPin) => blind("build_id_pin"),
            Some(Mutant::HostOnlyPackageDiffers) => {
                match host_only_package(self.inner.host(), path) {
                    Some(name) => Err(Error::version_mismatch(
                        path,
                        vec![plugspec::Difference {
                            item: plugspec::FingerprintItem::Package(name.to_string()),
                            plugin: "(none)".into(),
                            host: "declared".into(),
                        }],
                    )),
                    None => self.inner.open(path),
                }
            }
            Some(Mutant::UndeclaredBuildIdPasses) => blind("undeclared_build_id"),
            Some(Mutant::PluginOnlyPackageDiffers) => {
                match plugin_only_package(self.inner.host(), path) {
                    Some(name) => Err(Error::version_mismatch(
                        path,
                        vec![plugspec::Difference {
                            item: plugspec::FingerprintItem::Package(name.to_string()),
                            plugin: "declared".into(),
                            host: "(none)".into(),
                        }],
                    )),
                    None => self.inner.open(path),
                }
            }
            _ => self.inner.open(path),
        };
        let plugin = match (self.mutant, result) {
            (_, Ok(plugin)) => plugin,
            (Some(Mutant::HideLoaderReason), Err(e))
                if e.kind() == ErrorKind::Io
                    && e.detail().contains("the dynamic loader refused it") =>
            {
                return Err(Error::io(path, "the dynamic loader refused it"));
            }
            (Some(Mutant::FirstDifferenceOnly), Err(e))
                if e.kind() == ErrorKind::VersionMismatch =>
            {
                let first = e.differences().first().cloned().into_iter().collect();
                let short = Error::version_mismatch(path, first);
                return Err(if e.is_previous_failure() {
                    short.as_previous_failure(path)
                } else {
                    short
                });
            }
            (Some(Mutant::HangAfterInitPanic), Err(e))
                if e.kind() == ErrorKind::InitPanicked && e.is_previous_failure() =>
            {
                loop {
                    std::thread::park();
                }
            }
            (Some(Mutant::AbortOnInitPanic), Err(e)) if e.kind() == ErrorKind::InitPanicked => {
                std::process::abort()
            }
            (Some(Mutant::CacheNotFound), Err(e)) if e.kind() == ErrorKind::NotFound => {
                NOT_FOUND
                    .lock()
                    .unwrap()
                    .push((path.to_path_buf(), e.clone()));
                return Err(e);
            }
            (Some(Mutant::WrongErrorKind), Err(e)) if e.kind() == ErrorKind::NotAPlugin => {
                return Err(Error::io(path, e.detail()));
            }
            (Some(Mutant::CloseAfterRefusal), Err(e))
                if matches!(e.kind(), ErrorKind::NotAPlugin | ErrorKind::InitPanicked) =>
            {
                close_twice(path);
                return Err(e);
            }
            (Some(Mutant::KeepFailedIdentity), Err(e))
                if matches!(e.kind(), ErrorKind::Io | ErrorKind::NotAPlugin) =>
            {
                if let (Some(identity), Ok(canonical)) =
                    (manifest_identity(path), std::fs::canonicalize(path))
                {
                    FAILED.lock().unwrap().push((identity, canonical));
                }
                return Err(e);
            }
            (Some(Mutant::CacheIoFailures), Err(e)) if e.kind() == ErrorKind::Io => {
                IO_FAILURES
                    .lock()
                    .unwrap()
                    .push((path.to_path_buf(), e.clone()));
                return Err(e);
            }
            (_, Err(e)) => return Err(e),
        };
        if self.mutant == Some(Mutant::GlobalNamespace) {
            promote_to_global(plugin.path());
        }
        let serial = match self.mutant {
            Some(Mutant::FreshHandle) => SERIAL.fetch_add(1, Ordering::Relaxed) + 1,
            _ => 0,
        };
        let unload = (self.mutant == Some(Mutant::UnloadOnDrop))
            .then(|| UnloadGuard::for_path(plugin.path()));
        Ok(ZooPlugin {
            inner: plugin,
            mutant: self.mutant,
            serial,
            _unload: unload,
        })
    }
}

/// A copy of a variable's bytes, leaked, with the symbol pointing at the copy.
fn copy_of(symbol: Symbol) -> Symbol {
    let layout = std::alloc::Layout::from_size_align(symbol.size().max(1), symbol.align()).unwrap();
    // SAFETY: the layout has a non-zero size.
    let copy = unsafe { std::alloc::alloc(layout) };
    // SAFETY: the symbol's address is valid for `size` bytes (the loader checked the manifest) and
    // `copy` was just allocated with that size; they do not overlap.
    unsafe { std::ptr::copy_nonoverlapping(symbol.address().cast::<u8>(), copy, symbol.size()) };
    // SAFETY: `copy` is leaked storage of the variable's size and alignment holding a valid value
    // of its type (a byte copy of one), writable, alive for the process.
    unsafe {
        Symbol::new(
            symbol.plugin_identity(),
            symbol.name(),
            symbol.kind(),
            symbol.rust_type(),
            symbol.size(),
            symbol.align(),
            copy.cast(),
        )
    }
}

/// The process's global definition of `symbol`'s name, described as `symbol` (the mutant's bug:
/// the host's function handed out for the plugin's export); `None` where there is none.
#[cfg(unix)]
fn host_symbol(symbol: &Symbol) -> Option<Symbol> {
    let name = std::ffi::CString::new(symbol.name()).ok()?;
    // SAFETY: dlsym with RTLD_DEFAULT only searches the global namespace; the address is not
    // dereferenced here.
    let address = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if address.is_null() {
        return None;
    }
    // SAFETY: this is the mutant's bug on purpose: the address is the host's definition of the
    // name, described with the plugin's kind, type and layout (the runner's host defines its
    // colliding name with the type the plugin declares).
    Some(unsafe {
        Symbol::new(
            symbol.plugin_identity(),
            symbol.name(),
            symbol.kind(),
            symbol.rust_type(),
            symbol.size(),
            symbol.align(),
            address.cast(),
        )
    })
}

#[cfg(not(unix))]
fn host_symbol(_: &Symbol) -> Option<Symbol> {
    None
}

/// A raw dynamic symbol of the library at `path`, exposed as a function (the mutant's bug).
fn raw_symbol(path: &Path, identity: &str, name: &str) -> Option<Symbol> {
    if name.is_empty() || name.contains('\0') {
        return None;
    }
    // SAFETY: the library is already mapped (the loader opened it); this only takes another
    // reference to it, which is leaked below so that the address stays valid.
    let library = unsafe { libloading::Library::new(path) }.ok()?;
    // SAFETY: looked up as an address only; nothing is dereferenced here.
    let address = unsafe { library.get::<*mut ()>(name.as_bytes()) }
        .ok()
        .map(|s| *s)?;
    std::mem::forget(library);
    let identity: &'static str = Box::leak(identity.to_string().into_boxed_str());
    let name: &'static str = Box::leak(name.to_string().into_boxed_str());
    // SAFETY: this is the mutant's bug on purpose: the address is a raw dynamic symbol that the
    // manifest did not declare. Its kind and type are guessed, so the cases that reach it only
    // ever observe that the lookup succeeded.
    Some(unsafe {
        Symbol::new(
            identity,
            name,
            SymbolKind::Function,
            "?",
            size_of::<usize>(),
            align_of::<usize>(),
            address,
        )
    })
}

/// The host, with `item` replaced by what the plugin at `path` declares, so that the comparison
/// cannot see it (the mutant's bug, see [`Mutant::IgnoreItem`]); `None` if nothing would change.
fn blind_host(host: &HostConfig, path: &Path, item: &str) -> Option<HostConfig> {
    let bytes = ReferenceLoader::inspect(path).ok()?;
    let manifest = plugspec::abi::decode(&bytes).ok()?;
    let leak = |s: &str| -> &'static str { Box::leak(s.to_string().into_boxed_str()) };
    let plugin = &manifest.fingerprint;
    let mut blind = host.clone();
    match item {
        "rustc_commit" => blind.build.rustc_commit = leak(plugin.build.rustc_commit),
        "target_features" => blind.build.target_features = leak(plugin.build.target_features),
        "rustc_version" => blind.build.rustc_version = leak(plugin.build.rustc_version),
        "target" => blind.build.target = leak(plugin.build.target),
        "panic" => blind.build.panic = leak(plugin.build.panic),
        "package_version" | "package_hash" => {
            for p in &mut blind.packages {
                if let Some(theirs) = plugin.packages.iter().find(|q| q.name == p.name) {
                    if item == "package_version" {
                        p.version = leak(theirs.version);
                    } else {
                        p.hash = leak(theirs.hash);
                    }
                }
            }
        }
        "package_settings" => {
            // The host's record of each package both declare, with the plugin's settings in
            // front of the host's own source hash: only the settings are blinded.
            for p in &mut blind.packages {
                if let Some(theirs) = plugin.packages.iter().find(|q| q.name == p.name) {
                    let settings = plugspec::fingerprint::record_settings(theirs.hash);
                    let src = plugspec::fingerprint::record_source_hash(p.hash);
                    p.hash = leak(&if settings.is_empty() {
                        format!("src={src}")
                    } else {
                        format!("{settings} src={src}")
                    });
                }
            }
        }
        "undeclared_build_id" if plugin.build_id.is_none() => blind.build_id = None,
        "build_id_pin" => blind.build_id = None,
        _ => return None,
    }
    (blind != *host).then_some(blind)
}

/// A shared package the plugin at `path` declares and the host does not (the mutant's bug: it
/// counts as a difference, see [`Mutant::PluginOnlyPackageDiffers`]).
fn plugin_only_package(host: &HostConfig, path: &Path) -> Option<String> {
    let bytes = ReferenceLoader::inspect(path).ok()?;
    let manifest = plugspec::abi::decode(&bytes).ok()?;
    manifest
        .fingerprint
        .packages
        .iter()
        .find(|p| !host.packages.iter().any(|h| h.name == p.name))
        .map(|p| p.name.to_string())
}

/// A shared package the host declares and the plugin at `path` does not (the mutant's bug: it
/// counts as a difference, see [`Mutant::HostOnlyPackageDiffers`]).
fn host_only_package(host: &HostConfig, path: &Path) -> Option<String> {
    let bytes = ReferenceLoader::inspect(path).ok()?;
    let manifest = plugspec::abi::decode(&bytes).ok()?;
    host.packages
        .iter()
        .find(|h| {
            !manifest
                .fingerprint
                .packages
                .iter()
                .any(|p| p.name == h.name)
        })
        .map(|h| h.name.to_string())
}

/// The identity the manifest in the file at `path` declares, if it has a readable one.
fn manifest_identity(path: &Path) -> Option<String> {
    let bytes = ReferenceLoader::inspect(path).ok()?;
    plugspec::abi::decode(&bytes)
        .ok()
        .map(|m| m.identity.to_string())
}

/// Takes a mapped library's handle without loading it and closes it twice: once for that
/// reference and once for the loader's own (the mutant's bug, see [`Mutant::CloseAfterRefusal`]).
#[cfg(unix)]
fn close_twice(path: &Path) {
    let Ok(path) = std::fs::canonicalize(path) else {
        return;
    };
    let Ok(path) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return;
    };
    // SAFETY: this is the mutant's bug on purpose: it drops the loader's reference to a library
    // the loader refused, so that the dynamic loader unmaps it; nothing of it is used afterwards.
    unsafe {
        let handle = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
        if !handle.is_null() {
            libc::dlclose(handle);
            libc::dlclose(handle);
        }
    }
}

#[cfg(not(unix))]
fn close_twice(_: &Path) {}

/// Re-opens an already mapped library with `RTLD_GLOBAL`, which moves it into the global
/// namespace (the mutant's bug, see [`Mutant::GlobalNamespace`]); the extra reference is leaked.
#[cfg(unix)]
fn promote_to_global(path: &Path) {
    let Ok(path) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) else {
        return;
    };
    // SAFETY: RTLD_NOLOAD maps nothing new and runs no code; the handle is never closed.
    unsafe {
        libc::dlopen(
            path.as_ptr(),
            libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_GLOBAL,
        );
    }
}

#[cfg(not(unix))]
fn promote_to_global(_: &Path) {}

/// Drops the library's references when the last handle of its path is dropped.
#[derive(Debug)]
pub struct UnloadGuard {
    /// The library to unload; only read where there is a `dlclose` to call (unix).
    #[cfg_attr(not(unix), allow(dead_code))]
    path: PathBuf,
}

impl UnloadGuard {
    fn for_path(path: &Path) -> Arc<UnloadGuard> {
        static GUARDS: OnceLock<Mutex<HashMap<PathBuf, Weak<UnloadGuard>>>> = OnceLock::new();
        let mut guards = GUARDS.get_or_init(Default::default).lock().unwrap();
        if let Some(guard) = guards.get(path).and_then(Weak::upgrade) {
            return guard;
        }
        let guard = Arc::new(UnloadGuard {
            path: path.to_path_buf(),
        });
        guards.insert(path.to_path_buf(), Arc::downgrade(&guard));
        guard
    }
}

impl Drop for UnloadGuard {
    #[cfg(not(unix))]
    fn drop(&mut self) {}

    #[cfg(unix)]
    fn drop(&mut self) {
        let Ok(path) = std::ffi::CString::new(self.path.as_os_str().as_encoded_bytes()) else {
            return;
        };
        // SAFETY: this is the mutant's bug on purpose: it takes the library's handle without
        // loading it (RTLD_NOLOAD) and closes it twice — once for that reference and once for the
        // loader's own — so that the library is unmapped while symbols from it are still held.
        unsafe {
            let handle = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
            if !handle.is_null() {
                libc::dlclose(handle);
                libc::dlclose(handle);
            }
        }
    }
}
