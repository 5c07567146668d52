//! Deliberate faults, for proving that the conformance suite catches a loader that breaks a rule
//! (the mutant zoo). Each fault breaks exactly one rule of SPEC.md; with no fault set (always,
//! unless the `faults` feature is on and [`ReferenceLoader::with_fault`] is called) the loader
//! is the reference loader.
//!
//! [`ReferenceLoader::with_fault`]: super::ReferenceLoader::with_fault

/// One way to break the reference loader.
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
}

impl Fault {
    /// Every fault.
    pub const ALL: [Fault; 9] = [
        Fault::ReinitOnReopen,
        Fault::LazyInit,
        Fault::InitOnAnotherThread,
        Fault::NoNodelete,
        Fault::SkipFingerprint,
        Fault::SkipIdentity,
        Fault::ForgetStickyFailures,
        Fault::NoLock,
        Fault::MapBeforeCheck,
    ];
}
