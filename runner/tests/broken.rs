//! The suite catches a broken loader: [`FreshHandles`] wraps the reference loader but hands out
//! a fresh handle on every `open`, so two opens of one plugin are never `==` (it breaks API-2
//! and, with it, OPEN-2 and INIT-4's "every caller gets the same plugin").
//!
//! This harness runs the whole suite against it with `tests/broken-fresh-handles.toml` as its
//! known failures. Known failures are strict, so this target passes exactly when every listed
//! case fails and every other case passes: the listed cases are the proof that the suite
//! catches this loader, and `main` checks that each rule the loader breaks is tagged on at
//! least one of them.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use plugspec::{Error, HostConfig, Loader, Plugin, ReferenceLoader, Symbol};

/// The reference loader, except that every `open` returns a handle of its own.
struct FreshHandles(ReferenceLoader);

/// A handle that is `==` only to its own clones.
#[derive(Debug, Clone)]
struct Handle {
    inner: plugspec::LoadedPlugin,
    serial: u64,
}

impl PartialEq for Handle {
    fn eq(&self, other: &Self) -> bool {
        self.serial == other.serial
    }
}

impl Plugin for Handle {
    fn identity(&self) -> &str {
        self.inner.identity()
    }
    fn lookup(&self, name: &str) -> Result<Symbol, Error> {
        self.inner.lookup(name)
    }
}

impl Loader for FreshHandles {
    type Plugin = Handle;
    fn with_host(host: HostConfig) -> Self {
        FreshHandles(ReferenceLoader::with_host(host))
    }
    fn open(&self, path: &Path) -> Result<Handle, Error> {
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        self.0.open(path).map(|inner| Handle {
            inner,
            serial: SERIAL.fetch_add(1, Ordering::Relaxed),
        })
    }
}

const KNOWN_FAILURES: &str = "tests/broken-fresh-handles.toml";

fn main() {
    if !plugspec::platform::current().loads_plugins {
        // Every case that could catch this loader needs loading; nothing to prove here. One
        // ignored trial keeps `--list` and nextest working.
        let trial =
            libtest_mimic::Trial::test("broken/fresh-handles", || Ok(())).with_ignored_flag(true);
        libtest_mimic::run(&libtest_mimic::Arguments::from_args(), vec![trial]).exit();
    }
    if !plugspec_runner::child::is_child() {
        // The listed cases must be tagged with the rule this loader breaks.
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(KNOWN_FAILURES))
                .expect("the known failures of the broken loader");
        assert!(
            text.contains("id = \"API-0001\""),
            "API-0001 (API-2, handles compare by identity) must catch a loader with fresh handles"
        );
    }
    plugspec_runner::Harness::<FreshHandles>::new()
        .known_failures(KNOWN_FAILURES)
        .without_snapshots()
        .report(false)
        .run();
}
