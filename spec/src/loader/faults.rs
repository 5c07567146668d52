//! Deliberate faults, for proving that the conformance suite catches a loader that breaks a rule
//! (the mutant zoo). Each fault breaks exactly one rule of SPEC.md.
//!
//! Everything here exists only with the `faults` feature. Without it, [`Faults`] is an empty
//! struct whose hooks are constant `false` and whose deferred init is `()`, so the reference
//! loader's pipeline compiles with no fault code in it; with it, a loader given a fault by
//! [`ReferenceLoader::with_fault`] takes the broken branch at the one hook that fault names.
//! Breakages that need nothing of the loader's insides are wrappers in the zoo instead
//! (`runner/tests/zoo/mutants.rs`).
//!
//! [`ReferenceLoader::with_fault`]: super::ReferenceLoader::with_fault

use std::path::Path;

use crate::abi::InitFn;
use crate::error::Error;

/// One way to break the reference loader.
#[cfg(feature = "faults")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Runs init again on every cached open (breaks "init exactly once").
    ReinitOnReopen,
    /// Runs init at the first lookup instead of inside `open` (breaks "init before open returns").
    LazyInit,
    /// Runs init on another thread, after `open` returned (breaks "init on the caller's thread,
    /// before open returns").
    InitOnAnotherThread,
    /// Maps without `RTLD_NODELETE`, so that a `dlclose` unmaps (used by the unload-on-drop
    /// mutant; on its own it breaks nothing observable).
    NoNodelete,
    /// Skips the fingerprint comparison (breaks "refuse a different build").
    SkipFingerprint,
    /// Skips the identity check (breaks "a copy of a loaded plugin is already loaded").
    SkipIdentity,
    /// Forgets sticky failures (breaks "(previous failure)" caching).
    ForgetStickyFailures,
    /// Loads without the per-path lock (breaks init-once under concurrent opens).
    NoLock,
    /// Maps the file before checking its manifest (breaks the SHOULD "a rejected file's
    /// constructors never run").
    MapBeforeCheck,
    /// Skips the permission policy a host asked for (breaks "a host may require safe
    /// permissions").
    SkipPermissions,
    /// Maps every plugin under its descriptor's `/proc/self/fd` name on Linux, so that `$ORIGIN`
    /// in its rpath names `/proc/self/fd` instead of its directory (breaks OPEN-10).
    IgnoreOrigin,
    /// Leaves packages only plugins declare unchecked, so a second plugin declaring one at
    /// another record loads (breaks "plugins agree on the packages only they share").
    SkipPluginPackages,
    /// Keeps the packages a refused plugin declared as if it had loaded, so a later plugin
    /// declaring them at another record is refused (breaks "a plugin refused after its packages
    /// were judged fixes no package").
    KeepFailedClaims,
}

#[cfg(feature = "faults")]
impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 13] = [
        Fault::ReinitOnReopen,
        Fault::LazyInit,
        Fault::InitOnAnotherThread,
        Fault::NoNodelete,
        Fault::SkipFingerprint,
        Fault::SkipIdentity,
        Fault::ForgetStickyFailures,
        Fault::NoLock,
        Fault::MapBeforeCheck,
        Fault::SkipPermissions,
        Fault::IgnoreOrigin,
        Fault::SkipPluginPackages,
        Fault::KeepFailedClaims,
    ];
}

/// The fault a loader carries: the one it was given, with the `faults` feature; nothing without.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Faults {
    #[cfg(feature = "faults")]
    fault: Option<Fault>,
}

/// One hook per fault that switches a branch of the pipeline: `true` when the loader carries
/// that fault, and the constant `false` without the feature.
macro_rules! hooks {
    ($($(#[$doc:meta])* $hook:ident => $fault:ident;)*) => {
        impl Faults {
            $(
                $(#[$doc])*
                #[inline(always)]
                pub(crate) fn $hook(self) -> bool {
                    #[cfg(feature = "faults")]
                    {
                        self.fault == Some(Fault::$fault)
                    }
                    #[cfg(not(feature = "faults"))]
                    {
                        false
                    }
                }
            )*
        }
    };
}

hooks! {
    /// Load without claiming the path (INIT-4 broken).
    no_lock => NoLock;
    /// Treat every refusal as not sticky (CACHE-3 broken).
    forget_sticky_failures => ForgetStickyFailures;
    /// Map before reading the manifest (INIT-9 broken).
    map_before_check => MapBeforeCheck;
    /// Let a differing fingerprint pass (VER-2 broken).
    skip_fingerprint => SkipFingerprint;
    /// Let a second file with a loaded identity pass (OPEN-3 broken).
    skip_identity => SkipIdentity;
    /// Map without `RTLD_NODELETE`.
    no_nodelete => NoNodelete;
    /// Load whatever the permissions (OPEN-11 broken).
    skip_permissions => SkipPermissions;
    /// Map a plugin whose rpath names `$ORIGIN` under its descriptor's name (OPEN-10 broken).
    ignore_origin => IgnoreOrigin;
    /// Let a plugin disagree with earlier plugins on a package only plugins share (VER-12 broken).
    skip_plugin_packages => SkipPluginPackages;
    /// Keep a refused plugin's claims on packages only plugins share (VER-12.a broken).
    keep_failed_claims => KeepFailedClaims;
}

/// An init the loader still owes: with the `faults` feature, the entry run at the first lookup
/// (`LazyInit`) or again on every cached open (`ReinitOnReopen`); empty without it.
#[derive(Default)]
pub(crate) struct Deferred {
    #[cfg(feature = "faults")]
    init: Option<(InitFn, std::sync::Once)>,
}

impl Faults {
    /// A loader carrying `fault`.
    #[cfg(feature = "faults")]
    pub(crate) fn new(fault: Fault) -> Faults {
        Faults { fault: Some(fault) }
    }

    /// Step 7 as the fault breaks it: runs `init` (the correct step) unless the fault defers it
    /// or moves it to another thread, and returns what is still owed.
    #[inline(always)]
    pub(crate) fn init(
        self,
        given: &Path,
        entry: InitFn,
        init: impl FnOnce() -> Result<(), Error>,
    ) -> Result<Deferred, Error> {
        #[cfg(feature = "faults")]
        {
            match self.fault {
                Some(Fault::LazyInit) => {
                    return Ok(Deferred {
                        init: Some((entry, std::sync::Once::new())),
                    });
                }
                Some(Fault::InitOnAnotherThread) => {
                    let path = given.to_path_buf();
                    std::thread::spawn(move || {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        let _ = super::init::run(None, &path, entry);
                    });
                    return Ok(Deferred::default());
                }
                _ => {}
            }
            init()?;
            if self.fault == Some(Fault::ReinitOnReopen) {
                let done = std::sync::Once::new();
                done.call_once(|| {});
                return Ok(Deferred {
                    init: Some((entry, done)),
                });
            }
            Ok(Deferred::default())
        }
        #[cfg(not(feature = "faults"))]
        {
            let _ = (given, entry);
            init().map(|()| Deferred {})
        }
    }

    /// On a cached open: runs the owed init again under `ReinitOnReopen` (INIT-3 broken).
    #[inline(always)]
    pub(crate) fn on_cached_open(
        self,
        deferred: &Deferred,
        init: impl FnOnce(InitFn) -> Result<(), Error>,
    ) -> Result<(), Error> {
        #[cfg(feature = "faults")]
        if self.fault == Some(Fault::ReinitOnReopen)
            && let Some((entry, _)) = &deferred.init
        {
            return init(*entry);
        }
        let _ = (deferred, init);
        Ok(())
    }
}

/// On a lookup: runs an init deferred to it, once (`LazyInit`: INIT-2 broken).
#[inline(always)]
pub(crate) fn on_lookup(deferred: &Deferred, path: &Path) {
    #[cfg(feature = "faults")]
    if let Some((entry, once)) = &deferred.init {
        once.call_once(|| {
            let _ = super::init::run(None, path, *entry);
        });
    }
    let _ = (deferred, path);
}
