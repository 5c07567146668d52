//! Mixed-operation stress of the reference loader (rules API-2, API-3, OPEN-2, INIT-2, INIT-3,
//! INIT-4).
//!
//! Sixteen threads, released together by one barrier, each run 5,000 operations picked by a
//! per-thread xorshift generator over eight distinct good plugins that nobody opened before the
//! barrier, so the first opens race too. An operation is an `open` (which must return a plugin
//! `==` to every other open of that path), a lookup of a known export (which must succeed with the
//! right kind), a lookup of a missing name (which must be `symbol_not_found`) or a call of a known
//! function (whose value is checked). This proves, for the reference loader under load: no
//! unexpected error, one plugin per path, every thread's first `open` of a plugin returns only
//! after that plugin's init was logged, every init ran exactly once (counters and the init log),
//! and no deadlock (the whole run must finish within 60 s). Elapsed time and operations per second
//! are printed (`--nocapture`), never asserted.
//!
//! Each test file is its own process and holds exactly one test: loaded plugins live in a
//! process-wide registry.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Barrier, OnceLock, mpsc};
use std::time::{Duration, Instant};

use plugspec::{ErrorKind, HostConfig, LoadedPlugin, Loader, Plugin, ReferenceLoader, SymbolKind};

mod support;
use support::{build, fixture};

const THREADS: usize = 16;
const OPS_PER_THREAD: usize = 5_000;
const DEADLINE: Duration = Duration::from_secs(60);

/// A checked call of one known function: `Err` describes a wrong value.
type Call = fn(LoadedPlugin) -> Result<(), String>;

/// One good fixture plugin and what the stress may do with it.
struct Good {
    /// The crate's library name (`fx_basic` for `libfx_basic.so`).
    lib: &'static str,
    identity: &'static str,
    /// Exports a lookup must find, with their kind.
    exports: &'static [(&'static str, SymbolKind)],
    /// Names a lookup must not find.
    missing: &'static [&'static str],
    /// Calls of known functions, each checking the value.
    calls: &'static [Call],
}

use SymbolKind::{Function as F, Variable as V};

const BASIC_LIKE: &[(&str, SymbolKind)] = &[
    ("add", F),
    ("get_value", F),
    ("set_value", F),
    ("call_hook", F),
    ("init_count", F),
    ("VALUE", V),
    ("COUNTER", V),
    ("INIT_COUNT", V),
    ("HOOK", V),
];

const PLUGINS: [Good; 8] = [
    Good {
        lib: "fx_basic",
        identity: "fixtures.basic",
        exports: BASIC_LIKE,
        missing: &[
            "raw_unexported",
            "PLUGSPEC_PLUGIN",
            "",
            "Add",
            "fixtures.basic.add",
        ],
        calls: &[
            |p| add(p, 5),
            |p| call0(p, "get_value", 42),
            |p| call0(p, "call_hook", 1),
            |p| call0(p, "init_count", 1),
            |p| atomic(p, "INIT_COUNT", 1),
        ],
    },
    Good {
        lib: "fx_twin",
        identity: "fixtures.twin",
        exports: BASIC_LIKE,
        missing: &["raw_unexported", "PLUGSPEC_PLUGIN", "answer", "add "],
        calls: &[
            |p| add(p, 1005),
            |p| call0(p, "get_value", 1000),
            |p| call0(p, "call_hook", 2),
            |p| call0(p, "init_count", 1),
            |p| atomic(p, "INIT_COUNT", 1),
        ],
    },
    Good {
        lib: "fx_slow",
        identity: "fixtures.slow",
        exports: &[("init_count", F), ("INIT_DONE", V), ("INIT_COUNT", V)],
        missing: &["add", "init", "PLUGSPEC_PLUGIN"],
        calls: &[
            |p| call0(p, "init_count", 1),
            |p| atomic(p, "INIT_DONE", 1),
            |p| atomic(p, "INIT_COUNT", 1),
        ],
    },
    Good {
        lib: "fx_spawn",
        identity: "fixtures.spawn",
        exports: &[("ticks", F), ("JOINED", V), ("TICKS", V)],
        missing: &["add", "joined", "PLUGSPEC_PLUGIN"],
        calls: &[
            |p| {
                let ticks = call(p, "ticks")?;
                if ticks >= 0 {
                    Ok(())
                } else {
                    Err(format!("ticks() = {ticks}, expected >= 0"))
                }
            },
            |p| atomic(p, "JOINED", 1),
        ],
    },
    Good {
        lib: "fx_ctor",
        identity: "fixtures.ctor",
        exports: &[("answer", F)],
        missing: &["constructor", "CONSTRUCTOR", "init", "PLUGSPEC_PLUGIN"],
        calls: &[|p| call0(p, "answer", 42)],
    },
    Good {
        lib: "fx_versioned",
        identity: "fixtures.versioned",
        exports: &[("answer", F)],
        missing: &["add", "Answer", "PLUGSPEC_PLUGIN"],
        calls: &[|p| call0(p, "answer", 42)],
    },
    Good {
        lib: "fx_opener",
        identity: "fixtures.opener",
        exports: &[("open_result", F), ("OPEN_RESULT", V)],
        missing: &["open", "OPEN_ENV", "PLUGSPEC_PLUGIN"],
        calls: &[
            |p| call0(p, "open_result", -1),
            |p| atomic(p, "OPEN_RESULT", -1),
        ],
    },
    Good {
        lib: "fx_noentry",
        identity: "fixtures.noentry",
        exports: &[("other", F)],
        missing: &["add", "answer", "PLUGSPEC_PLUGIN"],
        calls: &[|p| call0(p, "other", 7)],
    },
];

/// Calls `name`, an `extern "C" fn() -> i32`.
fn call(p: LoadedPlugin, name: &str) -> Result<i32, String> {
    let f = plugspec::function!(p, name, extern "C" fn() -> i32)
        .map_err(|e| format!("function {name}: {e}"))?;
    Ok(f())
}

/// Calls `name`, an `extern "C" fn() -> i32`, and checks it returns `want`.
fn call0(p: LoadedPlugin, name: &str, want: i32) -> Result<(), String> {
    let got = call(p, name)?;
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{}: {name}() = {got}, expected {want}",
            p.identity()
        ))
    }
}

/// Calls `add(2, 3)` and checks it returns `want`.
fn add(p: LoadedPlugin, want: i32) -> Result<(), String> {
    let f = plugspec::function!(p, "add", extern "C" fn(i32, i32) -> i32)
        .map_err(|e| format!("function add: {e}"))?;
    let got = f(2, 3);
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{}: add(2, 3) = {got}, expected {want}",
            p.identity()
        ))
    }
}

/// Reads the atomic variable `name` and checks it holds `want`.
fn atomic(p: LoadedPlugin, name: &str, want: i32) -> Result<(), String> {
    let v: &'static AtomicI32 =
        plugspec::variable!(p, name, AtomicI32).map_err(|e| format!("variable {name}: {e}"))?;
    let got = v.load(Ordering::SeqCst);
    if got == want {
        Ok(())
    } else {
        Err(format!("{}: {name} = {got}, expected {want}", p.identity()))
    }
}

/// xorshift64: deterministic per thread, no dependency.
struct XorShift(u64);

impl XorShift {
    fn seeded(thread: usize) -> XorShift {
        let seed =
            0x9E37_79B9_7F4A_7C15_u64 ^ (thread as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        XorShift(seed.max(1))
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What one thread did.
#[derive(Default)]
struct Tally {
    opens: usize,
    lookups: usize,
    missing: usize,
    calls: usize,
    /// When this thread held a handle to every plugin, and how many operations were left then.
    warm: Option<(Instant, usize)>,
    /// When this thread finished.
    end: Option<Instant>,
    errors: Vec<String>,
    error_count: usize,
}

impl Tally {
    fn error(&mut self, message: String) {
        self.error_count += 1;
        if self.errors.len() < 20 {
            self.errors.push(message);
        }
    }
}

/// The first plugin any thread got for each path; every other open must be `==` to it.
static FIRST: [OnceLock<LoadedPlugin>; 8] = [const { OnceLock::new() }; 8];

/// Opens plugin `i` and checks it against every other open of its path.
fn open(loader: &ReferenceLoader, paths: &[PathBuf], i: usize) -> Result<LoadedPlugin, String> {
    let good = &PLUGINS[i];
    let p = loader
        .open(&paths[i])
        .map_err(|e| format!("open {}: {e}", good.lib))?;
    if p.identity() != good.identity {
        return Err(format!(
            "open {}: identity {:?}, expected {:?}",
            good.lib,
            p.identity(),
            good.identity
        ));
    }
    let first = FIRST[i].get_or_init(|| p);
    if *first != p {
        return Err(format!(
            "open {}: {p:?} is not == the first open's {first:?}",
            good.lib
        ));
    }
    Ok(p)
}

/// Whether the init log has the line `init <identity>`.
fn init_logged(log: &Path, identity: &str) -> bool {
    let line = format!("init {identity}");
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .any(|l| l == line)
}

fn worker(
    thread: usize,
    loader: &ReferenceLoader,
    paths: &[PathBuf],
    log: &Path,
    barrier: &Barrier,
) -> Tally {
    let mut rng = XorShift::seeded(thread);
    let mut handles: [Option<LoadedPlugin>; 8] = [None; 8];
    let mut tally = Tally::default();
    barrier.wait();
    for n in 0..OPS_PER_THREAD {
        if tally.warm.is_none() && handles.iter().all(Option::is_some) {
            tally.warm = Some((Instant::now(), OPS_PER_THREAD - n));
        }
        let i = rng.below(PLUGINS.len());
        let good = &PLUGINS[i];
        let op = rng.below(20);
        // Open: always an `open`. Any other operation needs a handle: the thread's first
        // operation on a plugin opens it (so first opens race right after the barrier).
        let plugin = match handles[i] {
            Some(p) if op >= 5 => p,
            _ => {
                tally.opens += 1;
                match open(loader, paths, i) {
                    Ok(p) => {
                        // This thread's first open of the plugin: its init has run, whoever
                        // ran it, before `open` returned (checked before any lookup here).
                        if handles[i].is_none() && !init_logged(log, good.identity) {
                            tally.error(format!(
                                "open {}: returned before `init {}` was logged",
                                good.lib, good.identity
                            ));
                        }
                        handles[i] = Some(p);
                        p
                    }
                    Err(e) => {
                        tally.error(e);
                        continue;
                    }
                }
            }
        };
        match op {
            0..=4 => {} // the open above was the operation
            5..=10 => {
                tally.lookups += 1;
                let (name, kind) = good.exports[rng.below(good.exports.len())];
                match plugin.lookup(name) {
                    Ok(s) if s.kind() == kind && s.name() == name => {
                        if s.plugin_identity() != good.identity {
                            tally.error(format!(
                                "lookup {name} in {}: symbol of {}",
                                good.identity,
                                s.plugin_identity()
                            ));
                        }
                    }
                    Ok(s) => tally.error(format!(
                        "lookup {name} in {}: got {s:?}, expected a {kind}",
                        good.identity
                    )),
                    Err(e) => tally.error(format!("lookup {name} in {}: {e}", good.identity)),
                }
            }
            11..=13 => {
                tally.missing += 1;
                let name = good.missing[rng.below(good.missing.len())];
                match plugin.lookup(name) {
                    Err(e) if e.kind() == ErrorKind::SymbolNotFound => {}
                    Err(e) => tally.error(format!(
                        "lookup of missing {name:?} in {}: wrong error {e}",
                        good.identity
                    )),
                    Ok(s) => tally.error(format!(
                        "lookup of missing {name:?} in {}: found {s:?}",
                        good.identity
                    )),
                }
            }
            _ => {
                tally.calls += 1;
                if let Err(e) = (good.calls[rng.below(good.calls.len())])(plugin) {
                    tally.error(e);
                }
            }
        }
    }
    tally.end = Some(Instant::now());
    tally
}

/// Runs the threads and checks the outcome; panics on any failure.
fn stress(paths: Vec<PathBuf>, log: &Path) {
    let loader = ReferenceLoader::with_host(HostConfig::new().shared(support::common_package()));
    let paths = Arc::new(paths);
    let barrier = Arc::new(Barrier::new(THREADS + 1));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let (loader, paths, barrier) = (loader.clone(), paths.clone(), barrier.clone());
            let log = log.to_path_buf();
            std::thread::spawn(move || worker(t, &loader, &paths, &log, &barrier))
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let tallies: Vec<Tally> = threads
        .into_iter()
        .map(|t| t.join().expect("a stress thread panicked"))
        .collect();
    let elapsed = start.elapsed();

    let total = |f: fn(&Tally) -> usize| tallies.iter().map(f).sum::<usize>();
    let ops = THREADS * OPS_PER_THREAD;
    println!(
        "stress: {THREADS} threads x {OPS_PER_THREAD} ops over {} plugins in {elapsed:.2?} \
         ({:.0} ops/s); opens {} (incl. first opens), lookups {}, missing lookups {}, calls {}",
        PLUGINS.len(),
        ops as f64 / elapsed.as_secs_f64(),
        total(|t| t.opens),
        total(|t| t.lookups),
        total(|t| t.missing),
        total(|t| t.calls),
    );
    // Informational: the run is dominated by the first opens (slow's init sleeps 300 ms), so
    // also show each thread's rate once it held every plugin.
    let warm: Vec<(Duration, usize, f64)> = tallies
        .iter()
        .filter_map(|t| {
            let (at, left) = t.warm?;
            let rest = t.end?.saturating_duration_since(at);
            Some((at - start, left, left as f64 / rest.as_secs_f64()))
        })
        .collect();
    if !warm.is_empty() {
        println!(
            "stress: threads held all {} plugins after {:.2?} .. {:.2?}; the {} ops after that \
             ran at {:.0} ops/s per thread (mean)",
            PLUGINS.len(),
            warm.iter().map(|w| w.0).min().unwrap(),
            warm.iter().map(|w| w.0).max().unwrap(),
            warm.iter().map(|w| w.1).sum::<usize>(),
            warm.iter().map(|w| w.2).sum::<f64>() / warm.len() as f64,
        );
    }
    let errors: Vec<&String> = tallies.iter().flat_map(|t| &t.errors).collect();
    assert_eq!(
        total(|t| t.error_count),
        0,
        "unexpected errors (first few): {errors:#?}"
    );

    // Every plugin was opened (every thread opens each plugin it touches), once per path.
    for (i, good) in PLUGINS.iter().enumerate() {
        let p = FIRST[i]
            .get()
            .unwrap_or_else(|| panic!("{} was never opened", good.lib));
        assert_eq!(loader.open(&paths[i]).unwrap(), *p, "{}", good.lib);
    }
    // Init ran exactly once: the counters of the plugins that have one, and the log.
    for i in [0, 1, 2] {
        let p = *FIRST[i].get().unwrap();
        call0(p, "init_count", 1).unwrap();
        atomic(p, "INIT_COUNT", 1).unwrap();
    }
    atomic(*FIRST[2].get().unwrap(), "INIT_DONE", 1).unwrap();
    atomic(*FIRST[3].get().unwrap(), "JOINED", 1).unwrap();
    atomic(*FIRST[6].get().unwrap(), "OPEN_RESULT", -1).unwrap();
    let log = std::fs::read_to_string(log).unwrap_or_default();
    let inits: Vec<&str> = log.lines().filter(|l| l.starts_with("init ")).collect();
    for good in &PLUGINS {
        let line = format!("init {}", good.identity);
        assert_eq!(
            inits.iter().filter(|l| **l == line).count(),
            1,
            "exactly one `{line}` in the init log:\n{log}"
        );
    }
    assert_eq!(inits.len(), PLUGINS.len(), "no other init ran:\n{log}");
    assert_eq!(
        log.lines().filter(|l| *l == "ctor fixtures.ctor").count(),
        1,
        "ctor's constructor ran once:\n{log}"
    );
}

#[test]
fn sixteen_threads_of_mixed_operations_over_eight_plugins() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("stress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("init.log");
    // SAFETY: this is the only test in the binary and no thread of it has started yet (the
    // fixture build below runs cargo as a child process); nothing reads the environment
    // concurrently.
    unsafe {
        std::env::set_var("PLUGSPEC_INIT_LOG", &log);
        std::env::remove_var("PLUGSPEC_FIXTURE_OPEN");
    }
    let built = build("fixtures", &tmp.join("fixtures-target"));
    let paths: Vec<PathBuf> = PLUGINS
        .iter()
        .map(|g| fixture(&built, g.lib, &dir))
        .collect();

    let (done, finished) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        stress(paths, &log);
        let _ = done.send(());
    });
    match finished.recv_timeout(DEADLINE) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it returns"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "deadlock (or a stall): {THREADS} threads x {OPS_PER_THREAD} operations did not \
             finish within {DEADLINE:?}"
        ),
    }
}
