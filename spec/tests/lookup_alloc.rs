//! What allocates on the hot paths, counted per thread by a global allocator: a lookup hit
//! (LOOKUP) and a cached open (OPEN-2) allocate nothing; a lookup miss is a typed error whose
//! message is its only allocation, and a probe that needs no error allocates nothing; comparing
//! an equal fingerprint (VER-2) allocates nothing.

#![cfg(unix)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;

use plugspec::fingerprint::{self, Fingerprint};
use plugspec::{ErrorKind, HostConfig, Loader, Package, Plugin, ReferenceLoader};

mod support;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting allocations of the calling thread (tests run in parallel).
struct Counting;

fn bump() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards every call to the system allocator unchanged; counting touches only a
// const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The basic fixture, loaded once for the process (its identity loads once); the tests share it.
fn loaded() -> &'static (std::path::PathBuf, ReferenceLoader, plugspec::LoadedPlugin) {
    static LOADED: OnceLock<(std::path::PathBuf, ReferenceLoader, plugspec::LoadedPlugin)> =
        OnceLock::new();
    LOADED.get_or_init(|| {
        let path = support::built_fixture("fx_basic", "alloc");
        let loader =
            ReferenceLoader::with_host(HostConfig::new().shared(support::common_package()));
        let plugin = loader.open(&path).unwrap();
        (path, loader, plugin)
    })
}

#[test]
fn the_counter_counts() {
    let before = allocations();
    drop(std::hint::black_box(Box::new(std::hint::black_box(1u64))));
    assert_eq!(allocations() - before, 1);
}

#[test]
fn a_lookup_hit_allocates_nothing() {
    let (path, loader, plugin) = loaded();
    let names = ["add", "VALUE", "COUNTER", "HOOK", "call_hook"];
    let before = allocations();
    let mut found = 0;
    for _ in 0..1000 {
        for name in names {
            found += usize::from(plugin.lookup(name).is_ok());
        }
    }
    let after = allocations();
    assert_eq!(found, 5000);
    assert_eq!(after - before, 0, "lookup hits allocated");
    // And the cached open path does not load again: same plugin.
    assert_eq!(loader.open(path).unwrap(), *plugin);
}

#[test]
fn a_miss_allocates_only_its_message() {
    let (_, _, plugin) = loaded();
    let misses = [
        "nope",
        "",
        "add ",
        "ADD",
        "a_rather_long_name_that_is_not_exported_at_all",
    ];
    // Probing without an error allocates nothing.
    let before = allocations();
    let mut found = 0;
    for _ in 0..1000 {
        for name in misses {
            found += usize::from(plugin.get(name).is_some());
        }
    }
    assert_eq!(found, 0);
    assert_eq!(allocations() - before, 0, "misses through get allocated");
    // `lookup`'s miss is a typed error whose message is its one allocation.
    for name in misses {
        let before = allocations();
        let error = plugin.lookup(name).unwrap_err();
        assert_eq!(allocations() - before, 1, "{name:?}");
        assert_eq!(error.kind(), ErrorKind::SymbolNotFound);
        assert_eq!(
            error.to_string(),
            format!("plugin: symbol {name} not found in plugin fixtures.basic")
        );
    }
    // And a hit through `get` is the hit through `lookup`.
    let a = plugin.get("add").unwrap();
    let b = plugin.lookup("add").unwrap();
    assert_eq!((a.name(), a.address()), (b.name(), b.address()));
}

#[test]
fn a_cached_open_allocates_nothing() {
    let (path, loader, plugin) = loaded();
    // Every spelling that resolves to the loaded path (OPEN-2): absolute, relative to the
    // working directory, through `..`, through a symlink.
    let dir = path.parent().unwrap();
    let name = path.file_name().unwrap();
    let dotdot = dir.join("..").join(dir.file_name().unwrap()).join(name);
    let link = dir.join("link.so");
    std::os::unix::fs::symlink(path, &link).unwrap();
    let cwd = std::env::current_dir().unwrap();
    let relative = pathdiff(path, &cwd);
    let spellings = [path.clone(), dotdot, link.clone(), relative];
    for given in &spellings {
        assert_eq!(loader.open(given).unwrap(), *plugin, "{given:?}");
    }
    let before = allocations();
    for _ in 0..200 {
        for given in &spellings {
            assert!(loader.open(given).unwrap() == *plugin);
        }
    }
    let after = allocations();
    assert_eq!(after - before, 0, "cached opens allocated");
    // OPEN-1 still holds: a path that no longer resolves is not found, loaded or not.
    std::fs::remove_file(&link).unwrap();
    assert_eq!(loader.open(&link).unwrap_err().kind(), ErrorKind::NotFound);
}

/// `path` relative to `base` (both absolute), through `..` as needed.
fn pathdiff(path: &std::path::Path, base: &std::path::Path) -> std::path::PathBuf {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut out = std::path::PathBuf::new();
    for _ in common..base.len() {
        out.push("..");
    }
    out.extend(&path[common..]);
    out
}

/// A host sharing `n` packages besides plugspec (records with every setting), and a plugin
/// fingerprint equal to it.
fn fingerprints(n: usize) -> (HostConfig, Fingerprint<'static>) {
    let mut host = HostConfig::new();
    for i in 0..n {
        let leak = |s: String| &*Box::leak(s.into_boxed_str());
        host = host.shared(Package {
            name: leak(format!("shared-{i}")),
            version: "1.0.0",
            hash: leak(format!(
                "features=[] debug_assertions=on panic=unwind cfg=[] src={i:016x}"
            )),
        });
    }
    let plugin = Fingerprint::of_host(&host);
    (host, plugin)
}

#[test]
fn an_equal_fingerprint_is_compared_without_allocating() {
    for n in [0, 1, 10, 100, 1000] {
        let (host, mut plugin) = fingerprints(n);
        let before = allocations();
        assert!(fingerprint::compare(&plugin, &host).is_empty());
        assert_eq!(
            allocations() - before,
            0,
            "{n} packages in the host's order"
        );
        if n <= 10 {
            // Another order, a short host list: still nothing allocated.
            plugin.packages.reverse();
            let before = allocations();
            assert!(fingerprint::compare(&plugin, &host).is_empty());
            assert_eq!(allocations() - before, 0, "{n} packages in another order");
        }
    }
    // And a difference is still found (and allocates its description).
    let (host, mut plugin) = fingerprints(10);
    plugin.packages[5].hash = "features=[] debug_assertions=off panic=unwind cfg=[] src=5";
    let diffs = fingerprint::compare(&plugin, &host);
    let items: Vec<_> = diffs.iter().map(|d| d.item.to_string()).collect();
    assert_eq!(items, ["package shared-4", "debug_assertions of shared-4"]);
}
