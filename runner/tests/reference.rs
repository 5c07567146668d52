//! The whole conformance suite against the reference loader: every case passes, and every
//! transcript matches its committed snapshot (`runner/tests/snapshots/plugspec/`, one set for every OS).

#[global_allocator]
static ALLOC: plugspec_runner::CountingAllocator = plugspec_runner::CountingAllocator;

fn main() {
    plugspec_runner::Harness::<plugspec::ReferenceLoader>::new().run();
}
