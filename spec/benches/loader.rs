//! The reference loader against raw `libloading` on the same library, in the same run:
//! cached `open` (plugspec: `realpath` + registry) versus `dlopen` of an already-mapped library,
//! `lookup` (a hash-map hit) versus `dlsym`, and a call through a looked-up function versus a
//! direct call of a host function.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use plugspec::{HostConfig, Loader, Plugin, ReferenceLoader};

#[path = "../tests/support/mod.rs"]
mod support;

extern "C" fn host_add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

fn benches(c: &mut Criterion) {
    let path = support::built_fixture("fx_basic", "bench");
    let loader = ReferenceLoader::with_host(HostConfig::new().shared(support::common_package()));
    let plugin = loader.open(&path).expect("the basic fixture loads");

    let mut open = c.benchmark_group("open (already loaded)");
    open.bench_function("plugspec ReferenceLoader::open", |b| {
        b.iter(|| loader.open(black_box(&path)).unwrap())
    });
    open.bench_function("baseline: libloading Library::new + drop", |b| {
        // SAFETY: the library is already mapped and initialised; dlopen only bumps its
        // reference count, and the drop's dlclose lowers it again (RTLD_NODELETE keeps it).
        b.iter(|| unsafe { libloading::Library::new(black_box(&path)) }.unwrap())
    });
    open.finish();

    // SAFETY: as above; kept alive for the lookups below.
    let raw = unsafe { libloading::Library::new(&path) }.unwrap();
    let mut lookup = c.benchmark_group("lookup (hit)");
    lookup.bench_function("plugspec Plugin::lookup", |b| {
        b.iter(|| plugin.lookup(black_box("add")).unwrap())
    });
    lookup.bench_function("baseline: libloading Library::get (dlsym)", |b| {
        // SAFETY: the SDK's descriptor symbol is looked up as a data address; nothing is
        // dereferenced.
        b.iter(|| unsafe { raw.get::<*const u8>(black_box(b"PLUGSPEC_PLUGIN\0")) }.unwrap())
    });
    lookup.finish();

    let add = plugspec::function!(plugin, "add", extern "C" fn(i32, i32) -> i32).unwrap();
    let mut call = c.benchmark_group("call");
    call.bench_function("plugin function via plugspec", |b| {
        b.iter(|| add(black_box(2), black_box(3)))
    });
    call.bench_function("baseline: host extern \"C\" fn pointer", |b| {
        let f: extern "C" fn(i32, i32) -> i32 = black_box(host_add);
        b.iter(|| f(black_box(2), black_box(3)))
    });
    call.finish();
}

criterion_group!(loader, benches);
criterion_main!(loader);
