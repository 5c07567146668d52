//! Decoding is linear in the number of exports (rule VER-7's duplicate checks hash names instead
//! of scanning): decoding 10,000 exports costs at most 20 times decoding 1,000, measured in the
//! same process. A ratio, not a time: quadratic decoding gives about 100 times. Comparing
//! fingerprints (VER-2) is linear in the number of shared packages in the same sense. Measured in CPU
//! time of the thread (`CLOCK_THREAD_CPUTIME_ID`), so that other processes on a busy machine do
//! not count.

#![cfg(all(unix, feature = "loader"))]

use std::time::Duration;

use plugspec::abi;
use plugspec::fingerprint::{self, Fingerprint, HostConfig, Package};

/// A valid version-1 manifest with `n` function exports, written byte by byte from the layout
/// SPEC.md documents.
fn manifest(n: usize) -> Vec<u8> {
    fn str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    let mut out = Vec::new();
    out.extend_from_slice(&abi::MAGIC);
    out.extend_from_slice(&abi::ABI_VERSION.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes()); // total length, patched below
    out.extend_from_slice(&0u32.to_le_bytes()); // flags
    out.extend_from_slice(&0u32.to_le_bytes()); // API version
    str(&mut out, "bench.many");
    for s in [
        "1.0.0",
        "commit",
        "x86_64-unknown-linux-gnu",
        "",
        "unwind",
        "",
    ] {
        str(&mut out, s); // build info, then build ID
    }
    out.extend_from_slice(&1u32.to_le_bytes());
    let p = plugspec::fingerprint::PLUGSPEC_PACKAGE;
    for s in [p.name, p.version, p.hash] {
        str(&mut out, s);
    }
    out.extend_from_slice(&(n as u32).to_le_bytes());
    for i in 0..n {
        out.extend_from_slice(&[1, 0]); // function, code
        str(&mut out, &format!("export_{i:05}"));
        str(&mut out, "extern \"C\" fn(i32) -> i32");
        out.extend_from_slice(&8u32.to_le_bytes());
        out.extend_from_slice(&8u32.to_le_bytes());
    }
    let total = out.len() as u32;
    out[12..16].copy_from_slice(&total.to_le_bytes());
    out
}

/// The fastest of several runs of decoding `bytes` (the minimum is the least noisy estimate).
fn best(bytes: &[u8], runs: usize) -> Duration {
    (0..runs)
        .map(|_| {
            let start = thread_cpu_time();
            let m = abi::decode(std::hint::black_box(bytes)).expect("valid manifest");
            std::hint::black_box(&m);
            thread_cpu_time() - start
        })
        .min()
        .expect("at least one run")
}

/// CPU time this thread has used.
fn thread_cpu_time() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

#[test]
fn decode_is_linear_in_the_number_of_exports() {
    let small = manifest(1_000);
    let large = manifest(10_000);
    assert_eq!(abi::decode(&large).unwrap().symbols.len(), 10_000);
    best(&small, 3); // warm up
    let ratio = best(&large, 15).as_secs_f64() / best(&small, 15).as_secs_f64();
    eprintln!("decode 10,000 exports / decode 1,000 exports = {ratio:.1}x");
    assert!(
        ratio <= 20.0,
        "decoding 10x the exports took {ratio:.1}x as long (linear: about 10x)"
    );
}

#[test]
fn duplicates_are_still_found() {
    let mut bytes = manifest(3);
    // Rename export_00002 to export_00001.
    let at = bytes
        .windows(12)
        .position(|w| w == b"export_00002")
        .unwrap();
    bytes[at + 11] = b'1';
    let err = abi::decode(&bytes).unwrap_err();
    assert!(
        matches!(&err, abi::ManifestError::Corrupt { what, .. } if what.contains("listed twice")),
        "{err}"
    );
}

/// A host sharing `n` packages besides plugspec, and an equal plugin fingerprint listing them
/// in the reverse order (so the comparison cannot walk both lists side by side).
fn reversed_fingerprints(n: usize) -> (HostConfig, Fingerprint<'static>) {
    let mut host = HostConfig::new();
    // Pushed directly: `HostConfig::shared` skips duplicates by scanning.
    host.packages.extend((0..n).map(|i| {
        let leak = |s: String| &*Box::leak(s.into_boxed_str());
        Package {
            name: leak(format!("shared-{i}")),
            version: "1.0.0",
            hash: leak(format!("src={i:016x}")),
        }
    }));
    let mut plugin = Fingerprint::of_host(&host);
    plugin.packages.reverse();
    (host, plugin)
}

/// The fastest of several comparisons of `plugin` with `host`.
fn best_compare(host: &HostConfig, plugin: &Fingerprint<'_>, runs: usize) -> Duration {
    (0..runs)
        .map(|_| {
            let start = thread_cpu_time();
            let d = fingerprint::compare(std::hint::black_box(plugin), host);
            assert!(d.is_empty());
            thread_cpu_time() - start
        })
        .min()
        .expect("at least one run")
}

#[test]
fn fingerprint_compare_is_linear_in_the_number_of_packages() {
    let (small_host, small) = reversed_fingerprints(1_000);
    let (large_host, large) = reversed_fingerprints(10_000);
    best_compare(&small_host, &small, 3); // warm up
    let ratio = best_compare(&large_host, &large, 9).as_secs_f64()
        / best_compare(&small_host, &small, 9).as_secs_f64();
    eprintln!("compare 10,000 packages / compare 1,000 packages = {ratio:.1}x");
    assert!(
        ratio <= 20.0,
        "comparing 10x the packages took {ratio:.1}x as long (linear: about 10x)"
    );
}
