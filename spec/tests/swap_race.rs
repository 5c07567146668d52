//! The swap race (rules INIT-6, INIT-9, OPEN-6, OPEN-8, ERR-4, CACHE-1, CACHE-4): a file
//! renamed over the path while `open` runs is never mapped in place of the file that was checked.
//!
//! Each try uses a fresh path holding a hard link of `fx-missing-export`, a plugin whose file
//! passes every check made before mapping (manifest, fingerprint, identity) and is refused only
//! once mapped (its export table is short): so every try reaches the mapping step, and its
//! identity is free again afterwards. While one thread opens the path, another renames over it,
//! after a random delay of either side, a fresh copy of a C library whose constructor appends
//! `ctor fixtures.c-ctor` to the init log (even tries) or a fresh FIFO (odd tries). Whichever
//! file the loader checked, it must map that one: every outcome is `not_a_plugin` naming the
//! caller's path, the init log never shows the constructor, nothing hangs (the run has a
//! deadline), both orders of the race happen, and afterwards a good plugin replaces a refused
//! file at one of the raced paths and loads there (no path is stuck).
//!
//! `PLUGSPEC_SWAP_TRIES` sets the number of tries (default 10,000). Counts and the elapsed time
//! are printed (`--nocapture`), never asserted. One test per file: loaded plugins live in a
//! process-wide registry.
//!
//! Only where the loader maps the checked descriptor itself (Linux, FreeBSD): on macOS the
//! window cannot be closed (SPEC.md, OPEN-8), a swapped-in library is mapped and its
//! constructors run before the loader detects the swap.

#![cfg(any(target_os = "linux", target_os = "freebsd"))]

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use plugspec::{ErrorKind, Loader, Plugin, ReferenceLoader};

mod support;
use support::{build, fixture};

const DEFAULT_TRIES: usize = 10_000;
const DEADLINE: Duration = Duration::from_secs(180);
/// The longest random delay before either side's move.
const MAX_DELAY: Duration = Duration::from_micros(150);
const CTOR_LINE: &str = "ctor fixtures.c-ctor";

/// What is renamed over the path in one try.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Swap {
    Constructor,
    Fifo,
}

/// How one try ended (every outcome is a `not_a_plugin` refusal of the caller's path).
#[derive(Default, Debug)]
struct Counts {
    /// The checked file was the plugin: mapped, then refused for its short export table.
    plugin_mapped: usize,
    /// The checked file was the swapped-in C library: refused for having no manifest.
    constructor_refused: usize,
    /// The checked file was the swapped-in FIFO: refused as not a regular file.
    fifo_refused: usize,
}

struct Xorshift(u64);

impl Xorshift {
    fn delay(&mut self) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        // Half the tries wait not at all on this side, the rest up to MAX_DELAY.
        if self.0 & 1 == 0 {
            Duration::ZERO
        } else {
            MAX_DELAY.mul_f64((self.0 >> 11) as f64 / (1u64 << 53) as f64)
        }
    }
}

fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

fn mkfifo(path: &Path) {
    let c = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    assert_eq!(
        rc,
        0,
        "mkfifo {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
}

/// Builds `fixtures/c/constructor.c` into `dir` with the system C compiler.
fn build_constructor_library(dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/c/constructor.c");
    let out = dir.join("libconstructor.so");
    let status = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&out)
        .arg(&source)
        .status()
        .unwrap_or_else(|e| panic!("the swap race needs a C compiler (cc): {e}"));
    assert!(status.success(), "cc failed to build {}", source.display());
    out
}

/// The racing thread: for each job, wait at the barrier, wait its delay, rename.
fn racer(jobs: mpsc::Receiver<(PathBuf, PathBuf, Duration)>, barrier: Arc<Barrier>) {
    for (from, to, delay) in jobs {
        barrier.wait();
        spin(delay);
        std::fs::rename(&from, &to).unwrap();
        barrier.wait();
    }
}

fn race(dir: &Path, tries: usize, progress: &AtomicUsize) -> Counts {
    let built = build(
        "fixtures",
        &PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fixtures-target"),
    );
    let refused_after_mapping = fixture(&built, "fx_missing_export", dir);
    let constructor = build_constructor_library(dir);
    let loader = ReferenceLoader::new();

    let barrier = Arc::new(Barrier::new(2));
    let (jobs, received) = mpsc::channel();
    let racing = {
        let barrier = Arc::clone(&barrier);
        std::thread::spawn(move || racer(received, barrier))
    };
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let mut counts = Counts::default();
    for i in 0..tries {
        let path = dir.join(format!("try-{i}.so"));
        std::fs::hard_link(&refused_after_mapping, &path).unwrap();
        let swap = if i % 2 == 0 {
            Swap::Constructor
        } else {
            Swap::Fifo
        };
        let source = dir.join(format!("swap-{i}"));
        match swap {
            // A fresh copy each time: a fresh inode, whose constructor would run again if mapped.
            Swap::Constructor => {
                std::fs::copy(&constructor, &source).unwrap();
            }
            Swap::Fifo => mkfifo(&source),
        }
        jobs.send((source, path.clone(), rng.delay())).unwrap();
        let opener_delay = rng.delay();
        barrier.wait();
        spin(opener_delay);
        let result = loader.open(&path);
        barrier.wait();
        let error = match result {
            Ok(p) => panic!("try {i}: {} opened as {}", path.display(), p.identity()),
            Err(e) => e,
        };
        let text = error.to_string();
        assert_eq!(
            error.kind(),
            ErrorKind::NotAPlugin,
            "try {i} ({swap:?}): {text}"
        );
        assert_eq!(error.path(), Some(path.as_path()), "try {i}: {text}");
        if text.contains("exports 1 addresses for 2 manifest symbols") {
            counts.plugin_mapped += 1;
        } else if swap == Swap::Fifo && text.contains("a FIFO") {
            counts.fifo_refused += 1;
        } else if swap == Swap::Constructor && text.contains("manifest") {
            counts.constructor_refused += 1;
        } else {
            panic!("try {i} ({swap:?}): an unexpected refusal: {text}");
        }
        if i + 1 < tries {
            std::fs::remove_file(&path).unwrap();
        }
        progress.store(i + 1, Ordering::Relaxed);
    }
    drop(jobs);
    racing.join().unwrap();

    // No path is stuck (CACHE-1, CACHE-4): a good plugin renamed over the last raced path (a
    // refused FIFO or constructor library) loads there; and a good plugin renamed over a path
    // whose file was mapped and then refused loads there too.
    let last = dir.join(format!("try-{}.so", tries - 1));
    let good = fixture(&built, "fx_basic", dir);
    std::fs::rename(&good, &last).unwrap();
    let plugin = loader
        .open(&last)
        .unwrap_or_else(|e| panic!("the good plugin at a raced path: {e}"));
    assert_eq!(plugin.identity(), "fixtures.basic");
    let add = plugspec::function!(plugin, "add", extern "C" fn(i32, i32) -> i32).unwrap();
    assert_eq!(add(20, 22), 42);

    let mapped_then_refused = dir.join("refused-then-replaced.so");
    std::fs::hard_link(&refused_after_mapping, &mapped_then_refused).unwrap();
    let error = loader.open(&mapped_then_refused).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("exports 1 addresses for 2 manifest symbols"),
        "{error}"
    );
    let twin = fixture(&built, "fx_twin", dir);
    std::fs::rename(&twin, &mapped_then_refused).unwrap();
    let plugin = loader
        .open(&mapped_then_refused)
        .unwrap_or_else(|e| panic!("a good plugin where a refused one was mapped: {e}"));
    assert_eq!(plugin.identity(), "fixtures.twin");
    counts
}

#[test]
fn renames_over_the_path_never_map_another_file() {
    let tries = std::env::var("PLUGSPEC_SWAP_TRIES")
        .ok()
        .map(|v| v.parse::<usize>().expect("PLUGSPEC_SWAP_TRIES is a number"))
        .unwrap_or(DEFAULT_TRIES);
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("swap-race-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("init.log");
    // SAFETY: this is the only test in the binary and no thread of it has started yet; nothing
    // reads the environment concurrently.
    unsafe { std::env::set_var("PLUGSPEC_INIT_LOG", &log) };

    let progress = Arc::new(AtomicUsize::new(0));
    let (done, finished) = mpsc::channel();
    let started = Instant::now();
    let worker = {
        let (dir, progress) = (dir.clone(), Arc::clone(&progress));
        std::thread::spawn(move || {
            let counts = race(&dir, tries, &progress);
            let _ = done.send(counts);
        })
    };
    let counts = match finished.recv_timeout(DEADLINE) {
        Ok(counts) => counts,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            eprintln!(
                "the swap race hung: {} of {tries} tries done after {DEADLINE:?}",
                progress.load(Ordering::Relaxed)
            );
            // Not a panic: a thread stuck inside the dynamic loader holds its lock, and a normal
            // exit (which runs the libraries' finalisers under that lock) would hang too.
            // SAFETY: `_exit` ends the process at once; nothing runs after it.
            unsafe { libc::_exit(101) }
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: show its message.
            worker.join().unwrap();
            unreachable!("the worker ended without a result");
        }
    };
    worker.join().unwrap();
    let elapsed = started.elapsed();
    println!("swap race: {tries} tries in {elapsed:.2?}: {counts:?}");

    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    let constructors = logged.lines().filter(|l| *l == CTOR_LINE).count();
    assert_eq!(
        constructors, 0,
        "a refused library's constructor ran:\n{logged}"
    );
    // Both orders of the race happened (otherwise the test raced nothing).
    assert!(
        counts.plugin_mapped > 0,
        "no try mapped the checked plugin: {counts:?}"
    );
    assert!(
        counts.constructor_refused > 0,
        "no try checked the constructor library: {counts:?}"
    );
    assert!(
        counts.fifo_refused > 0,
        "no try checked the FIFO: {counts:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
