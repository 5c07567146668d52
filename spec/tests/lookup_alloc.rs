//! LOOKUP: a lookup hit allocates nothing (counted by a global allocator), and a miss is a clean
//! typed error.

#![cfg(unix)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use plugspec::{ErrorKind, HostConfig, Loader, Plugin, ReferenceLoader};

mod support;

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_lookup_hit_allocates_nothing() {
    let path = support::built_fixture("fx_basic", "lookup-alloc");
    let loader = ReferenceLoader::with_host(HostConfig::new().shared(support::common_package()));
    let plugin = loader.open(&path).unwrap();
    let names = ["add", "VALUE", "COUNTER", "HOOK", "call_hook"];
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let mut found = 0;
    for _ in 0..1000 {
        for name in names {
            found += usize::from(plugin.lookup(name).is_ok());
        }
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert_eq!(found, 5000);
    assert_eq!(after - before, 0, "lookup hits allocated");
    // A miss allocates its error, and is typed.
    assert_eq!(
        plugin.lookup("nope").unwrap_err().kind(),
        ErrorKind::SymbolNotFound
    );
    // And the cached open path does not load again: same plugin.
    assert_eq!(loader.open(&path).unwrap(), plugin);
}
