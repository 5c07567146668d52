//! The reference loader: the implementation every rule of SPEC.md is checked against.
//!
//! `open` runs these steps, each in its own module, and stops at the first failure:
//!
//! 1. refuse on a platform that does not load plugins ([`crate::platform`]);
//! 2. resolve the path (`resolve`), keeping the descriptor it was resolved through, and check
//!    it is a regular file (`file`) — and, when the host requires it, that it and every
//!    directory on its resolved path have safe permissions (`permissions`, OPEN-11; done in
//!    step 4, on the file opened there);
//! 3. claim the resolved path in the process-wide registry: return the cached plugin or sticky
//!    failure, wait while another thread loads it, or report a recursive open (`cache`);
//! 4. read the manifest from the file, without mapping it, and check ABI version and build
//!    fingerprint (`file`, [`crate::abi`], [`crate::fingerprint`]);
//! 5. reserve the plugin's identity (a different file with a loaded identity is refused);
//! 6. map the library — the file checked, through its descriptor (OPEN-8) — never to unmap it
//!    (`os`), and check its descriptor against the manifest;
//! 7. run its init, once, on the calling thread, with panics caught (`init`);
//! 8. record the plugin (or a sticky failure) and wake every thread that waited.
//!
//! Failures before the file's contents were judged (not found, not a plugin, I/O) are not
//! cached; the rest are, and say `(previous failure)` when returned again.

mod cache;
mod faults;
mod file;
mod init;
mod os;
mod packages;
mod permissions;
/// Reading a plugin's manifest from its file ([`read_manifest`](crate::read_manifest)).
pub mod read;
mod resolve;
mod table;

#[doc(hidden)]
#[cfg(feature = "faults")]
pub use faults::Fault;
use faults::Faults;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::abi::{self, ManifestError};
use crate::contract::{Loader, Plugin, Symbol};
use crate::error::Error;
use crate::fingerprint::{self, HostConfig};
use crate::symbol_info::Span;

/// The hash of the loader's process-wide maps, whose keys the kernel or checked plugins gave
/// (resolved paths, device and inode numbers, identities and package names of plugins that passed
/// their checks): foldhash, unkeyed, so that a map can be built in a `static`. A plugin's symbol
/// table, filled from names not yet checked, is keyed instead (`table.rs`).
pub(crate) type Unkeyed = foldhash::fast::FixedState;

/// The [`Unkeyed`] hash's one state.
pub(crate) const UNKEYED: Unkeyed = foldhash::fast::FixedState::with_seed(0);

/// The reference loader. Cheap to create; all loaded plugins live in one process-wide registry
/// (the operating system's loader is process-wide too), so two `ReferenceLoader`s share them.
#[derive(Debug, Clone, Default)]
pub struct ReferenceLoader {
    host: HostConfig,
    faults: Faults,
}

/// A loaded plugin: a copyable handle to data that lives for the rest of the process. Two handles
/// are `==` exactly when they are the same loaded plugin.
#[derive(Clone, Copy)]
pub struct LoadedPlugin {
    inner: &'static Inner,
}

struct Inner {
    identity: &'static str,
    path: PathBuf,
    symbols: table::SymbolTable,
    /// An init still owed (only ever under a deliberate fault; `()` without the feature).
    deferred_init: faults::Deferred,
}

impl PartialEq for LoadedPlugin {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.inner, other.inner)
    }
}

impl Eq for LoadedPlugin {}

impl fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("identity", &self.inner.identity)
            .field("path", &self.inner.path)
            .field("symbols", &self.inner.symbols.len())
            .finish()
    }
}

impl LoadedPlugin {
    /// The resolved path the plugin was loaded from.
    pub fn path(&self) -> &'static Path {
        &self.inner.path
    }

    /// The export called `name`, or `None`: [`Plugin::lookup`] without the error, so that
    /// probing for optional exports never allocates. A hit is the same as `lookup`'s.
    ///
    /// `lookup`'s miss allocates exactly once: its [`Error`] owns the message Go words
    /// (`plugin: symbol <name> not found in plugin <identity>`, returned by
    /// [`Error::detail`] as a `&str`), which holds the caller's name.
    #[inline]
    pub fn get(&self, name: &str) -> Option<Symbol> {
        faults::on_lookup(&self.inner.deferred_init, &self.inner.path);
        self.inner.symbols.get(name)
    }
}

impl Plugin for LoadedPlugin {
    fn identity(&self) -> &str {
        self.inner.identity
    }

    #[inline]
    fn lookup(&self, name: &str) -> Result<Symbol, Error> {
        self.get(name)
            .ok_or_else(|| Error::symbol_not_found(name, self.inner.identity))
    }
}

impl Loader for ReferenceLoader {
    type Plugin = LoadedPlugin;

    fn with_host(host: HostConfig) -> Self {
        ReferenceLoader {
            host,
            faults: Faults::default(),
        }
    }

    fn open(&self, path: &Path) -> Result<LoadedPlugin, Error> {
        // A constant for the host platform: classifying the target triple is only needed to
        // say why it does not load plugins.
        if !crate::platform::CURRENT_LOADS {
            let platform = crate::platform::current();
            return Err(Error::unsupported_platform(
                Some(path),
                platform.target,
                platform.reason(),
            ));
        }
        // On the stack: a plugin already loaded is returned without allocating.
        let mut buffer = resolve::PathBuffer::new();
        let (canonical, held) = resolve::resolve_held(path, &mut buffer)?;
        if self.faults.no_lock() {
            return self.load(path, &canonical, held.as_ref());
        }
        let loading = match cache::claim(path, &canonical)? {
            cache::Claim::Ready(plugin) => {
                self.faults
                    .on_cached_open(&plugin.inner.deferred_init, |entry| {
                        init::run(Some(self), path, entry)
                    })?;
                return Ok(plugin);
            }
            cache::Claim::Failed(error) => return Err(error),
            cache::Claim::Load(loading) => loading,
        };
        let result = self.load(path, &canonical, held.as_ref());
        loading.finish(&result, !self.faults.forget_sticky_failures());
        result
    }
}

impl ReferenceLoader {
    /// A loader for a host built like this crate, sharing only `plugspec`.
    pub fn new() -> ReferenceLoader {
        ReferenceLoader::with_host(HostConfig::new())
    }

    /// This loader, broken in one way (for the conformance suite's mutant zoo).
    #[doc(hidden)]
    #[cfg(feature = "faults")]
    pub fn with_fault(mut self, fault: Fault) -> ReferenceLoader {
        self.faults = Faults::new(fault);
        self
    }

    /// The host configuration plugins are checked against.
    pub fn host(&self) -> &HostConfig {
        &self.host
    }

    /// Reads and validates a plugin's manifest from the file, without mapping it or running any
    /// of its code (for `plugspec inspect`). Decode the bytes with [`abi::decode`].
    pub fn inspect(path: &Path) -> Result<Vec<u8>, Error> {
        read::read_manifest(path).map(|file| file.bytes)
    }

    /// Whether this loader's host would accept the plugin at `path`, judged from the file alone
    /// (nothing is mapped, nothing runs, nothing is cached): its manifest bytes, or the refusal
    /// naming every difference (for `plugspec check`).
    pub fn check(&self, path: &Path) -> Result<Vec<u8>, Error> {
        let mut buffer = resolve::PathBuffer::new();
        let (canonical, held) = resolve::resolve_held(path, &mut buffer)?;
        let (file, meta) = file::open_regular(path, &canonical, held.as_ref())?;
        if self.host.safe_permissions {
            permissions::check(path, &canonical, &meta)?;
        }
        let facts = read::read_file(path, &canonical, &file, meta.len())?.manifest;
        let (manifest, _) = decode(path, &facts.bytes)?;
        let differences = fingerprint::compare(&manifest.fingerprint, &self.host);
        if !differences.is_empty() {
            return Err(Error::version_mismatch(path, differences));
        }
        file::check_machine(path, &canonical, &facts)?;
        Ok(facts.bytes)
    }

    /// Steps 4 to 7 for a path this thread has claimed. The file is opened once (through the
    /// descriptor the path was resolved through, where there is one); the manifest read, the
    /// checks and the mapping all go through that open file (OPEN-8).
    fn load(
        &self,
        given: &Path,
        canonical: &Path,
        held: Option<&std::fs::File>,
    ) -> Result<LoadedPlugin, Error> {
        let (file, meta) = file::open_regular(given, canonical, held)?;
        // OPEN-11: judged on the open file, before anything is read from it or mapped.
        if self.host.safe_permissions && !self.faults.skip_permissions() {
            permissions::check(given, canonical, &meta)?;
        }
        if self.faults.map_before_check() {
            let copy = file.try_clone().map_err(|e| Error::io(given, e))?;
            os::map(given, canonical, copy, &meta, true, false)?;
        }
        let read::FileFacts {
            manifest: facts,
            names_origin,
        } = read::read_file(given, canonical, &file, meta.len())?;
        let bytes = &facts.bytes;
        let (manifest, names) = decode(given, bytes)?;
        // VER-2, VER-3: every differing item refuses the plugin, before any of its code runs.
        let differences = fingerprint::compare(&manifest.fingerprint, &self.host);
        if !differences.is_empty() && !self.faults.skip_fingerprint() {
            return Err(Error::version_mismatch(given, differences));
        }
        file::check_machine(given, canonical, &facts)?;
        // OPEN-3: an identity loads once; another file with a loaded identity is already_loaded.
        if !self.faults.skip_identity()
            && let Err(owner) = cache::reserve_identity(manifest.identity, canonical)
        {
            return Err(Error::already_loaded(given, manifest.identity, &owner));
        }
        let identity = manifest.identity.to_string();
        // VER-12: packages only plugins share agree with the plugins loaded before.
        let claimed = match packages::claim(&identity, &manifest.fingerprint, &self.host) {
            Ok(claimed) => claimed,
            Err(_) if self.faults.skip_plugin_packages() => Vec::new(),
            Err(differences) => {
                cache::release_identity(&identity, canonical);
                return Err(Error::version_mismatch(given, differences));
            }
        };
        let origin = names_origin && !self.faults.ignore_origin();
        let mapped =
            match self.map_checked(given, canonical, (file, &meta), bytes, &manifest, origin) {
                Ok(mapped) => mapped,
                Err(e) => {
                    // Nothing of the plugin ran: the identity may be loaded from another file later,
                    // and its packages declared differently.
                    cache::release_identity(&identity, canonical);
                    // VER-12.a: a refused plugin fixes no package.
                    if !self.faults.keep_failed_claims() {
                        packages::release(&claimed);
                    }
                    return Err(e);
                }
            };
        let (descriptor, mapped_manifest) = mapped;
        // SAFETY: `map_checked` compared `mapped_manifest` with `bytes` byte for byte, and the
        // identity was decoded from `bytes` as UTF-8.
        let identity = unsafe { Span::of(bytes, manifest.identity).text(mapped_manifest) };
        // Step 7: init, once, here, on this thread (INIT-2, INIT-3).
        let deferred_init = match descriptor.init {
            Some(entry) => self
                .faults
                .init(given, entry, || init::run(Some(self), given, entry))?,
            None => faults::Deferred::default(),
        };
        let inner = Inner {
            identity,
            path: canonical.to_path_buf(),
            // SAFETY: `map_checked` compared `mapped_manifest` with `bytes`, from which the
            // records were decoded, byte for byte, and checked `descriptor` against them; the
            // plugin's fingerprint matched this host's.
            symbols: unsafe {
                table::SymbolTable::build(descriptor, names, mapped_manifest, identity)
            },
            deferred_init,
        };
        Ok(LoadedPlugin {
            inner: Box::leak(Box::new(inner)),
        })
    }

    /// Step 6: map, find the descriptor, and check that it describes the manifest read from the
    /// file (same bytes, one export per symbol, init present exactly when declared). The file's
    /// descriptor is handed over to the mapping (`os::map`), with its metadata.
    fn map_checked(
        &self,
        given: &Path,
        canonical: &Path,
        (file, meta): (std::fs::File, &std::fs::Metadata),
        file_manifest: &[u8],
        decoded: &abi::Decoded<'_, ()>,
        origin: bool,
    ) -> Result<(&'static abi::PluginDescriptor, &'static [u8]), Error> {
        let mapped = os::map(
            given,
            canonical,
            file,
            meta,
            !self.faults.no_nodelete(),
            origin,
        )?;
        let shown = crate::error::escaped(canonical);
        let descriptor = mapped.descriptor().ok_or_else(|| {
            Error::not_a_plugin(
                given,
                format_args!(
                    "{shown} has a manifest section but no {} symbol{}",
                    abi::DESCRIPTOR_SYMBOL,
                    os::SWAP_HINT
                ),
            )
        })?;
        // OPEN-8: where the checked file could not be mapped itself, the image is compared with
        // it (device and inode) before anything in it is read.
        os::check_image(
            given,
            canonical,
            meta,
            std::ptr::from_ref(descriptor).cast(),
        )?;
        if descriptor.magic != abi::MAGIC || descriptor.abi_version != abi::ABI_VERSION {
            return Err(Error::not_a_plugin(
                given,
                format_args!(
                    "the {} descriptor of {shown} is not a version {} descriptor",
                    abi::DESCRIPTOR_SYMBOL,
                    abi::ABI_VERSION
                ),
            ));
        }
        if descriptor.manifest.is_null() || descriptor.manifest_len != file_manifest.len() {
            return Err(Error::not_a_plugin(
                given,
                format_args!("the mapped manifest of {shown} is not the one in the file"),
            ));
        }
        // SAFETY: the descriptor's pointer and length describe the manifest static of the mapped
        // library (checked non-null, length equal to the section's); the library is never
        // unmapped, so the bytes live for the process and are never written.
        let mapped_manifest: &'static [u8] =
            unsafe { std::slice::from_raw_parts(descriptor.manifest, descriptor.manifest_len) };
        if mapped_manifest != file_manifest {
            return Err(Error::not_a_plugin(
                given,
                format_args!(
                    "the mapped manifest of {shown} differs from the one in the file (was it replaced while loading?)"
                ),
            ));
        }
        // Decoded once, from the file's bytes: the mapped bytes are the same bytes, and the
        // symbol table reads its names from them (`table::SymbolTable::build`).
        if descriptor.export_count != decoded.symbols.len()
            || (descriptor.exports.is_null() && descriptor.export_count != 0)
        {
            return Err(Error::not_a_plugin(
                given,
                format_args!(
                    "{shown} exports {} addresses for {} manifest symbols",
                    descriptor.export_count,
                    decoded.symbols.len()
                ),
            ));
        }
        // LOOKUP-5: type names, when given, are one per export.
        if descriptor.type_name_count != 0 && descriptor.type_names.is_null() {
            return Err(Error::not_a_plugin(
                given,
                format_args!(
                    "{shown} counts {} type names but its type-name table is a null pointer",
                    descriptor.type_name_count
                ),
            ));
        }
        if descriptor.type_name_count != 0 && descriptor.type_name_count != descriptor.export_count
        {
            return Err(Error::not_a_plugin(
                given,
                format_args!(
                    "{shown} names the types of {} exports, not of its {}",
                    descriptor.type_name_count, descriptor.export_count
                ),
            ));
        }
        if descriptor.init.is_some() != decoded.has_init {
            return Err(Error::not_a_plugin(
                given,
                format_args!("the init entry of {shown} does not match its manifest"),
            ));
        }
        if let Some(i) = table::exports(descriptor)
            .iter()
            .position(|e| e.0.is_null())
        {
            // Only the name is wanted, for the message: the manifest is decoded again for it.
            let name = abi::decode(file_manifest)
                .ok()
                .and_then(|m| m.symbols.get(i).map(|s| s.name.to_string()))
                .unwrap_or_else(|| format!("export {i}"));
            return Err(Error::not_a_plugin(
                given,
                format_args!("{shown} exports a null address for {name}"),
            ));
        }
        Ok((descriptor, mapped_manifest))
    }
}

/// The manifest `bytes`, decoded and validated, each symbol's name put in the index that becomes
/// the symbol table (where a repeated one is refused, VER-7).
fn decode<'a>(
    given: &Path,
    bytes: &'a [u8],
) -> Result<(abi::Decoded<'a, ()>, table::NameIndex), Error> {
    let mut keeper = table::Pending {
        bytes,
        names: table::NameIndex::with_capacity(0),
    };
    match abi::decode_with(bytes, &mut keeper) {
        Ok(decoded) => Ok((decoded, keeper.names)),
        Err(ManifestError::UnknownVersion(v)) => {
            Err(Error::incompatible_abi(given, v, abi::ABI_VERSION))
        }
        Err(other) => Err(Error::not_a_plugin(given, other)),
    }
}
