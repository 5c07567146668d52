//! Counting allocations, so that LOOKUP-7 ("a hit allocates nothing") can be measured.
//!
//! A library cannot install a global allocator for the binary that links it, so this is opt-in:
//! a harness that wants the allocation cases to run adds one line,
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: plugspec_runner::CountingAllocator = plugspec_runner::CountingAllocator;
//! ```
//!
//! and cases with `requires = ["alloc_count"]` run; without it they are ignored with the reason.
//! Counts are per thread, so a plugin's background threads never disturb a measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting allocations per thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

fn bump() {
    // `try_with`: during thread teardown the counter may be gone; then nothing is counted.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the same arguments; counting touches only a
// const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded with the caller's layout, under the caller's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: `ptr` and `layout` come from this allocator, which is `System`'s.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, which is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made so far on this thread (0 forever when the counting allocator is not
/// installed).
pub fn thread_allocations() -> u64 {
    ALLOCATIONS.try_with(Cell::get).unwrap_or(0)
}

/// Whether the binary's global allocator is [`CountingAllocator`].
pub fn is_counting() -> bool {
    let before = thread_allocations();
    let b = std::hint::black_box(Box::new(std::hint::black_box(1u64)));
    drop(b);
    thread_allocations() > before
}
