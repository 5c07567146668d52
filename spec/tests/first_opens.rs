//! Simultaneous first opens of distinct plugins (rules API-2, API-3, OPEN-2, INIT-2, INIT-3,
//! INIT-4).
//!
//! Thirty-two threads, four for each of eight good plugins that nobody opened before, are released
//! by one barrier and each open their plugin once. This proves, for the reference loader: all
//! opens of one path return `==` plugins, every init ran exactly once (counters and the init log),
//! each of slow's four openers sees `INIT_DONE == 1` right after its `open` returned (nobody
//! returns before slow's 300 ms init finished), and opening other plugins does not deadlock behind
//! slow's init (everything finishes within 30 s). Open times are printed (`--nocapture`), never
//! asserted.
//!
//! Repetition: with `PLUGSPEC_REPEAT=N`, the test builds the fixtures once and runs the scenario
//! in N child processes, one after another, by re-executing this test binary for this one test
//! (a loaded plugin stays loaded for the life of its process, so each repetition needs a fresh
//! process). It fails if any child fails, and prints how many passed and the total time.
//!
//! Each test file is its own process and holds exactly one test: loaded plugins live in a
//! process-wide registry.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use plugspec::{HostConfig, LoadedPlugin, Loader, Plugin, ReferenceLoader};

mod support;
use support::{build, fixture};

/// The name of the one test, for re-executing it with `--exact`.
const TEST_NAME: &str = "simultaneous_first_opens_of_distinct_plugins";
/// Set in a child process to the directory holding the fixture copies: run the scenario once.
const CHILD_ENV: &str = "PLUGSPEC_FIRST_OPENS_CHILD";
/// How many child processes to run the scenario in.
const REPEAT_ENV: &str = "PLUGSPEC_REPEAT";

const PER_PLUGIN: usize = 4;
const DEADLINE: Duration = Duration::from_secs(30);
/// A child process gets this long before it is killed and counted as failed.
const CHILD_DEADLINE: Duration = Duration::from_secs(90);

/// The eight good plugins: library name (`libfx_basic.so`) and identity.
const PLUGINS: [(&str, &str); 8] = [
    ("fx_basic", "fixtures.basic"),
    ("fx_twin", "fixtures.twin"),
    ("fx_slow", "fixtures.slow"),
    ("fx_spawn", "fixtures.spawn"),
    ("fx_ctor", "fixtures.ctor"),
    ("fx_versioned", "fixtures.versioned"),
    ("fx_opener", "fixtures.opener"),
    ("fx_noentry", "fixtures.noentry"),
];
const SLOW: usize = 2;
/// The plugins with an `INIT_COUNT` (basic, twin, slow).
const COUNTED: [usize; 3] = [0, 1, SLOW];

/// What one opener saw.
struct Opened {
    plugin: usize,
    result: Result<LoadedPlugin, String>,
    /// From the barrier's release to `open` returning.
    took: Duration,
    /// slow's `INIT_DONE`, read right after `open` returned.
    init_done: Option<i32>,
}

fn atomic(p: LoadedPlugin, name: &str) -> i32 {
    let v: &'static AtomicI32 = plugspec::variable!(p, name, AtomicI32)
        .unwrap_or_else(|e| panic!("{}: variable {name}: {e}", p.identity()));
    v.load(Ordering::SeqCst)
}

/// Copies the eight plugins (built once by the caller) into `dir`.
fn copy_plugins(dir: &Path) -> Vec<PathBuf> {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let built = build("fixtures", &tmp.join("fixtures-target"));
    PLUGINS
        .iter()
        .map(|(lib, _)| fixture(&built, lib, dir))
        .collect()
}

/// The scenario, once, in this process. `dir` holds the plugin copies; the init log is written
/// next to them, named after this process.
fn first_opens_once(dir: &Path) {
    let paths: Vec<PathBuf> = PLUGINS
        .iter()
        .map(|(lib, _)| dir.join(format!("lib{lib}.{}", std::env::consts::DLL_EXTENSION)))
        .collect();
    let log = dir.join(format!("init-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    // SAFETY: this is the only test in the binary and no thread of it has started yet; nothing
    // reads the environment concurrently.
    unsafe {
        std::env::set_var("PLUGSPEC_INIT_LOG", &log);
        std::env::remove_var("PLUGSPEC_FIXTURE_OPEN");
    }

    let (done, finished) = mpsc::channel();
    let log_for_worker = log.clone();
    let worker = std::thread::spawn(move || {
        scenario(&paths, &log_for_worker);
        let _ = done.send(());
    });
    match finished.recv_timeout(DEADLINE) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the worker sends before it returns"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "deadlock: {} simultaneous first opens did not finish within {DEADLINE:?}",
            PLUGINS.len() * PER_PLUGIN
        ),
    }
    let _ = std::fs::remove_file(&log);
}

fn scenario(paths: &[PathBuf], log: &Path) {
    let loader = ReferenceLoader::with_host(HostConfig::new().shared(support::common_package()));
    let threads = PLUGINS.len() * PER_PLUGIN;
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            // Interleave: threads 0..8 open plugins 0..8, then again, so that thread start order
            // does not group one plugin's openers.
            let plugin = t % PLUGINS.len();
            let (loader, path, barrier) = (loader.clone(), paths[plugin].clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let start = Instant::now();
                let result = loader.open(&path);
                let took = start.elapsed();
                let init_done = match (&result, plugin) {
                    (Ok(p), SLOW) => Some(atomic(*p, "INIT_DONE")),
                    _ => None,
                };
                Opened {
                    plugin,
                    result: result.map_err(|e| e.to_string()),
                    took,
                    init_done,
                }
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let opened: Vec<Opened> = handles
        .into_iter()
        .map(|h| h.join().expect("an opener panicked"))
        .collect();
    let elapsed = start.elapsed();

    println!("first opens: {threads} threads, {PER_PLUGIN} per plugin, all done in {elapsed:.2?}");
    for (i, (lib, _)) in PLUGINS.iter().enumerate() {
        let times: Vec<Duration> = opened
            .iter()
            .filter(|o| o.plugin == i)
            .map(|o| o.took)
            .collect();
        println!(
            "  {lib:<14} open took {:>9.2?} .. {:>9.2?}",
            times.iter().min().unwrap(),
            times.iter().max().unwrap()
        );
    }
    let others_max = opened
        .iter()
        .filter(|o| o.plugin != SLOW)
        .map(|o| o.took)
        .max()
        .unwrap();
    println!("  slowest open of a plugin other than slow: {others_max:.2?} (slow's init: 300 ms)");

    let errors: Vec<String> = opened
        .iter()
        .filter_map(|o| {
            o.result
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", PLUGINS[o.plugin].0))
        })
        .collect();
    assert!(errors.is_empty(), "opens failed: {errors:#?}");

    // All opens of one path are one plugin, with the right identity; distinct paths differ.
    let mut firsts: Vec<LoadedPlugin> = Vec::new();
    for (i, (lib, identity)) in PLUGINS.iter().enumerate() {
        let mut ps = opened
            .iter()
            .filter(|o| o.plugin == i)
            .map(|o| *o.result.as_ref().unwrap());
        let first = ps.next().unwrap();
        assert_eq!(first.identity(), *identity, "{lib}");
        for p in ps {
            assert_eq!(p, first, "every open of {lib} returns the same plugin");
        }
        assert!(!firsts.contains(&first), "{lib} is a plugin of its own");
        firsts.push(first);
    }
    // slow: every opener saw its init finished.
    let done: Vec<Option<i32>> = opened
        .iter()
        .filter(|o| o.plugin == SLOW)
        .map(|o| o.init_done)
        .collect();
    assert_eq!(
        done,
        vec![Some(1); PER_PLUGIN],
        "slow's INIT_DONE per opener"
    );

    // Init ran once: the counters, and exactly one init line per plugin in the log.
    for i in COUNTED {
        assert_eq!(atomic(firsts[i], "INIT_COUNT"), 1, "{}", PLUGINS[i].0);
    }
    assert_eq!(atomic(firsts[3], "JOINED"), 1, "spawn joined its thread");
    assert_eq!(
        atomic(firsts[6], "OPEN_RESULT"),
        -1,
        "opener opened nothing"
    );
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let inits: Vec<&str> = text.lines().filter(|l| l.starts_with("init ")).collect();
    for (_, identity) in PLUGINS {
        let line = format!("init {identity}");
        assert_eq!(
            inits.iter().filter(|l| **l == line).count(),
            1,
            "exactly one `{line}` in the init log:\n{text}"
        );
    }
    assert_eq!(inits.len(), PLUGINS.len(), "no other init ran:\n{text}");
}

/// Runs the scenario in `n` child processes, one after another; panics unless all pass.
fn repeat(n: usize) {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("first-opens-repeat-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    copy_plugins(&dir);
    let exe = std::env::current_exe().expect("the test binary's path");
    let start = Instant::now();
    let mut failures: Vec<String> = Vec::new();
    for run in 0..n {
        let out = dir.join(format!("child-{run}.out"));
        let file = std::fs::File::create(&out).unwrap();
        let mut child = Command::new(&exe)
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &dir)
            .env_remove(REPEAT_ENV)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .expect("the test binary runs");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > CHILD_DEADLINE {
                // Only the child this loop started, by its handle.
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let output = std::fs::read_to_string(&out).unwrap_or_default();
        // `--exact` with a wrong name runs nothing and still exits 0: require the one pass.
        let passed = status.is_some_and(|s| s.success()) && output.contains("1 passed");
        if !passed {
            failures.push(format!(
                "run {run}: {}\n{output}",
                status.map_or("killed after the deadline".to_string(), |s| s.to_string())
            ));
        }
    }
    let elapsed = start.elapsed();
    println!(
        "first opens repeated: {} of {n} child processes passed in {elapsed:.2?} ({:.2?} per run)",
        n - failures.len(),
        elapsed / n.max(1) as u32
    );
    assert!(
        failures.is_empty(),
        "{} of {n} runs failed; the first:\n{}",
        failures.len(),
        failures[..failures.len().min(3)].join("\n---\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn simultaneous_first_opens_of_distinct_plugins() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        first_opens_once(Path::new(&dir));
        return;
    }
    if let Some(n) = std::env::var(REPEAT_ENV).ok().filter(|v| !v.is_empty()) {
        let n: usize = n
            .parse()
            .unwrap_or_else(|_| panic!("{REPEAT_ENV}={n:?} is not a count"));
        repeat(n);
        return;
    }
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = tmp.join(format!("first-opens-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    copy_plugins(&dir);
    first_opens_once(&dir);
}
