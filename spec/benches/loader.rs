//! The reference loader against its raw baselines, in the same run, interleaved, as ratios.
//!
//! `cargo bench -p plugspec` first prints a ratio table: each row runs plugspec and its baseline
//! in alternating rounds (the order flips every round), and reports the median of each side and
//! the ratio of the medians. Then criterion measures the in-process rows again with its own
//! statistics. Rows:
//!
//! * first open in a fresh process (this binary re-runs itself, one open per process, timed in
//!   the child) versus `libloading::Library::new`, for plugins with 10, 1,000 and 10,000 exports
//!   generated and built at bench time; on Linux also versus the system calls plugspec's rules
//!   require of any loader there, made alone (see `floor_open`);
//! * cached open (OPEN-2: resolve plus registry) versus `std::fs::canonicalize` of the same path;
//! * lookup hit and miss versus an `FxHashMap` holding the same names, and versus `dlsym`;
//! * a call through a looked-up function versus a host function pointer;
//! * `fingerprint::compare` versus package count, beside a plain equality of the same records.
//!
//! Arguments after `--` go to criterion (`--warm-up-time 1 --measurement-time 2`, a filter);
//! `PLUGSPEC_BENCH_ROUNDS` sets the rounds per row (default 15), and `PLUGSPEC_BENCH_RATIOS_ONLY=1`
//! skips criterion.

use std::ffi::CString;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::Criterion;
use plugspec::fingerprint::{self, Fingerprint, HostConfig, Package};
use plugspec::{Loader, Plugin, ReferenceLoader};
use rustc_hash::FxHashMap;

#[path = "../tests/support/mod.rs"]
mod support;

/// The environment variable that makes this binary a child timing one first open.
const CHILD: &str = "PLUGSPEC_BENCH_CHILD";

/// Export counts of the generated plugins.
const SIZES: [usize; 3] = [10, 1_000, 10_000];

extern "C" fn host_add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

fn main() {
    if let Ok(how) = std::env::var(CHILD) {
        child(&how);
        return;
    }
    let rounds = std::env::var("PLUGSPEC_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15);
    let plugins = generate();
    let mut table = Table::default();
    first_opens(&plugins, rounds, &mut table);
    let loaded = Loaded::open(&plugins);
    in_process(&loaded, rounds, &mut table);
    fingerprints(rounds, &mut table);
    table.print();
    if std::env::var_os("PLUGSPEC_BENCH_RATIOS_ONLY").is_none() {
        let mut c = Criterion::default()
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .configure_from_args();
        criterion_benches(&mut c, &loaded);
        c.final_summary();
    }
}

// ---------------------------------------------------------------------------------------------
// Generated plugins

/// One generated plugin: its file and its export names.
struct Generated {
    exports: usize,
    path: PathBuf,
    names: Vec<String>,
}

/// Writes a cargo workspace with one plugin per size under the target dir, builds it (release,
/// like this bench), and copies each library to a path of its own.
fn generate() -> Vec<Generated> {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-plugins");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR"));
    let members: Vec<String> = SIZES.iter().map(|n| format!("gen{n}")).collect();
    write_if_changed(
        &root.join("Cargo.toml"),
        &format!(
            "[workspace]\nresolver = \"3\"\nmembers = [{}]\n\n\
             [workspace.dependencies]\nplugspec = {{ path = {:?}, default-features = false }}\n\n\
             [profile.release]\ndebug = false\n",
            members
                .iter()
                .map(|m| format!("{m:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            spec.display().to_string(),
        ),
    );
    for (n, member) in SIZES.iter().zip(&members) {
        let dir = root.join(member);
        write_if_changed(
            &dir.join("Cargo.toml"),
            &format!(
                "[package]\nname = {member:?}\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
                 [lib]\ncrate-type = [\"cdylib\"]\n\n[dependencies]\nplugspec = {{ workspace = true }}\n"
            ),
        );
        write_if_changed(&dir.join("src/lib.rs"), &plugin_source(*n));
    }
    // The fixtures' lock file pins plugspec's own dependencies to the versions the suite uses;
    // cargo adds the generated members to it.
    let lock = root.join("Cargo.lock");
    if !lock.exists() {
        std::fs::copy(spec.join("../fixtures/Cargo.lock"), &lock).unwrap();
    }
    eprintln!("building the generated plugins (10, 1,000, 10,000 exports)…");
    let built = build_release(&root);
    let copies = root.join(format!("copies-{}", std::process::id()));
    std::fs::create_dir_all(&copies).unwrap();
    SIZES
        .iter()
        .zip(&members)
        .map(|(&exports, member)| {
            let path = support::fixture(&built, member, &copies);
            let names = (0..exports).map(|i| format!("f{i}")).collect();
            Generated {
                exports,
                path,
                names,
            }
        })
        .collect()
}

/// A plugin exporting `f0` … `f{n-1}` (each also a dynamic symbol, so that `dlsym` sees the same
/// names) and `add`.
fn plugin_source(n: usize) -> String {
    // The manifest of 10,000 exports is built in a constant: more steps than rustc's default.
    let mut s = String::from(
        "//! Generated by the plugspec loader benchmark.\n#![allow(long_running_const_eval)]\n\n",
    );
    for i in 0..n {
        s += &format!(
            "#[unsafe(no_mangle)]\npub extern \"C\" fn f{i}(x: i32) -> i32 {{ x.wrapping_add({i}) }}\n"
        );
    }
    s += "#[unsafe(no_mangle)]\npub extern \"C\" fn add(a: i32, b: i32) -> i32 { a.wrapping_add(b) }\n\n";
    s += &format!("plugspec::plugin! {{\n    identity: \"bench.gen{n}\",\n    functions: {{\n");
    for i in 0..n {
        s += &format!("        f{i}: extern \"C\" fn(i32) -> i32,\n");
    }
    s += "        add: extern \"C\" fn(i32, i32) -> i32,\n    },\n}\n";
    s
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return;
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// `cargo build --release` of every cdylib of the workspace at `root`.
fn build_release(root: &Path) -> Vec<PathBuf> {
    let messages = escargot::CargoBuild::new()
        .manifest_path(root.join("Cargo.toml"))
        .target_dir(root.join("target"))
        .release()
        .args(["--workspace", "--lib"])
        // `RUSTFLAGS` passes through, as it did to this bench: the fixture build policy
        // (`runner/src/fixture_cargo.rs`), so that the plugins' fingerprints match.
        .exec()
        .expect("cargo runs");
    let mut out = Vec::new();
    // Drain every message: dropping the iterator early can deadlock.
    for message in messages {
        let message = message.unwrap_or_else(|e| panic!("the generated plugins build: {e}"));
        if let Ok(escargot::format::Message::CompilerArtifact(a)) = message.decode()
            && a.target.kind.iter().any(|k| k == "cdylib")
        {
            out.extend(a.filenames.iter().map(|f| f.to_path_buf()).filter(|f| {
                f.extension()
                    .is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
            }));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Interleaved measurement

/// One row of the ratio table.
struct Row {
    what: String,
    ours: f64,
    baseline_name: String,
    baseline: f64,
    unit: &'static str,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn add(
        &mut self,
        what: &str,
        ours: f64,
        baseline_name: &str,
        baseline: f64,
        unit: &'static str,
    ) {
        eprintln!("  {what}: {ours:.1} {unit} vs {baseline_name} {baseline:.1} {unit}");
        self.rows.push(Row {
            what: what.into(),
            ours,
            baseline_name: baseline_name.into(),
            baseline,
            unit,
        });
    }

    /// Measures `ours` against `baseline` ([`interleaved`]) and adds the row, in nanoseconds per
    /// call.
    fn race(
        &mut self,
        rounds: usize,
        what: &str,
        ours: &mut dyn FnMut(),
        baseline_name: &str,
        baseline: &mut dyn FnMut(),
    ) {
        let (a, b) = interleaved(rounds, ours, baseline);
        self.add(what, a, baseline_name, b, "ns");
    }

    fn print(&self) {
        println!();
        println!("| row | plugspec | baseline (same run, interleaved) | ratio |");
        println!("|---|---|---|---|");
        for r in &self.rows {
            println!(
                "| {} | {} | {}: {} | **{:.2}×** |",
                r.what,
                show(r.ours, r.unit),
                r.baseline_name,
                show(r.baseline, r.unit),
                r.ours / r.baseline
            );
        }
        println!();
    }
}

fn show(value: f64, unit: &str) -> String {
    match unit {
        "ns" if value >= 1e6 => format!("{:.2} ms", value / 1e6),
        "ns" if value >= 1e3 => format!("{:.2} µs", value / 1e3),
        "ns" => format!("{value:.1} ns"),
        _ => format!("{value:.1} {unit}"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// How many calls of `f` take about 2 ms.
fn calibrate(f: &mut dyn FnMut()) -> u64 {
    let mut batch = 1u64;
    loop {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        let took = start.elapsed();
        if took >= Duration::from_millis(2) || batch >= 1 << 30 {
            return batch.max(1);
        }
        batch *= if took < Duration::from_micros(100) {
            10
        } else {
            2
        };
    }
}

/// The medians of `rounds` alternating measurements of `ours` and of `baseline`: the order flips
/// every round, so that neither side always runs second.
fn alternate(
    rounds: usize,
    ours: &mut dyn FnMut() -> f64,
    baseline: &mut dyn FnMut() -> f64,
) -> (f64, f64) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            a.push(ours());
            b.push(baseline());
        } else {
            b.push(baseline());
            a.push(ours());
        }
    }
    (median(a), median(b))
}

/// Nanoseconds per call of `ours` and of `baseline`: medians over `rounds` alternating rounds of
/// equal batches.
fn interleaved(rounds: usize, ours: &mut dyn FnMut(), baseline: &mut dyn FnMut()) -> (f64, f64) {
    let batch = calibrate(ours).max(calibrate(baseline));
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..batch {
            f();
        }
        start.elapsed().as_nanos() as f64 / batch as f64
    };
    alternate(rounds, &mut || time(ours), &mut || time(baseline))
}

// ---------------------------------------------------------------------------------------------
// First open, in fresh processes

/// In a child: open the library once, by `plugspec` or `raw`, and print the nanoseconds.
fn child(how: &str) {
    let (mode, path) = how.split_once(':').expect("mode:path");
    let path = Path::new(path);
    let start = Instant::now();
    match mode {
        "plugspec" => {
            let plugin = ReferenceLoader::new().open(path).expect("the plugin opens");
            let took = start.elapsed();
            black_box(plugin);
            println!("{}", took.as_nanos());
        }
        "raw" => {
            // SAFETY: a generated plugin built by this bench; it has no constructors.
            let library = unsafe { libloading::Library::new(path) }.expect("dlopen");
            let took = start.elapsed();
            std::mem::forget(library);
            println!("{}", took.as_nanos());
        }
        #[cfg(target_os = "linux")]
        "floor" => {
            let descriptor = floor_open(path);
            let took = start.elapsed();
            assert!(!descriptor.is_null(), "the descriptor is found");
            println!("{}", took.as_nanos());
        }
        other => panic!("unknown child mode {other}"),
    }
}

/// The floor under any Linux loader that keeps plugspec's rules, made alone, with nothing decoded
/// or built: the path opened once with `O_PATH` (OPEN-6: a FIFO or device is never opened),
/// named by `readlinkat` in `/proc/self/fd` (OPEN-1), its type checked, re-opened for reading
/// through that directory, the ELF header, section headers, section names, the `.plugspec`
/// section and the dynamic section read with `pread` (VER-11, OPEN-10.b), the checked descriptor
/// mapped by its `/proc/self/fd` name with `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` (OPEN-8.a),
/// and the plugin's descriptor looked up. Returns the descriptor's address.
#[cfg(target_os = "linux")]
fn floor_open(path: &Path) -> *const () {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::FileExt;

    let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: NUL-terminated strings alive for the calls; every descriptor returned is checked
    // and owned once.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    assert!(fd >= 0);
    // SAFETY: just opened, owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: as above.
    let dir = unsafe {
        libc::open(
            c"/proc/self/fd".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    assert!(dir >= 0);
    // SAFETY: just opened, owned by nothing else.
    let dir = unsafe { OwnedFd::from_raw_fd(dir) };
    let number = CString::new(fd.as_raw_fd().to_string()).unwrap();
    let mut name = [0u8; 4096];
    // SAFETY: `name` is writable for its length.
    let n = unsafe {
        libc::readlinkat(
            dir.as_raw_fd(),
            number.as_ptr(),
            name.as_mut_ptr().cast(),
            name.len(),
        )
    };
    assert!(n > 0);
    let meta = std::fs::File::from(fd.try_clone().unwrap())
        .metadata()
        .unwrap();
    assert!(meta.is_file());
    // SAFETY: as above.
    let file = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            number.as_ptr(),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    assert!(file >= 0);
    // SAFETY: just opened, owned by nothing else.
    let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(file) });
    let read = |at: u64, len: usize| {
        let mut bytes = vec![0u8; len];
        file.read_exact_at(&mut bytes, at).unwrap();
        bytes
    };
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]) as usize;
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap());
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let header = read(0, 64);
    let (shoff, shentsize, shnum, shstrndx) = (
        u64_at(&header, 0x28),
        u16_at(&header, 0x3a),
        u16_at(&header, 0x3c),
        u16_at(&header, 0x3e),
    );
    let sections = read(shoff, shentsize * shnum);
    let section = |i: usize| &sections[i * shentsize..(i + 1) * shentsize];
    let names = section(shstrndx);
    let names = read(u64_at(names, 0x18), u64_at(names, 0x20) as usize);
    let mut manifest = Vec::new();
    let mut dynamic = Vec::new();
    for i in 0..shnum {
        let s = section(i);
        let at = u32_at(s, 0) as usize;
        if names[at..].starts_with(b".plugspec\0") {
            manifest = read(u64_at(s, 0x18), u64_at(s, 0x20) as usize);
        } else if u32_at(s, 4) == 6 {
            // SHT_DYNAMIC
            dynamic = read(u64_at(s, 0x18), u64_at(s, 0x20) as usize);
        }
    }
    assert!(manifest.starts_with(b"PLUGSPEC") && !dynamic.is_empty());
    let mapped = format!("/proc/self/fd/{}", file.as_raw_fd());
    let flags = libc::RTLD_NOW | libc::RTLD_LOCAL | libc::RTLD_NODELETE;
    // SAFETY: a generated plugin built by this bench; it has no constructors.
    let library = unsafe { libloading::os::unix::Library::open(Some(&mapped), flags) }.unwrap();
    let symbol = CString::new(plugspec::abi::DESCRIPTOR_SYMBOL).unwrap();
    // SAFETY: the descriptor's address is only compared with null.
    let descriptor = unsafe { library.get::<*const ()>(symbol.as_bytes_with_nul()) }
        .map(|s| *s)
        .unwrap();
    // Mapped for good, as plugspec does: the library and its descriptor stay.
    std::mem::forget(library);
    std::mem::forget(file);
    descriptor
}

fn time_child(mode: &str, path: &Path) -> f64 {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, format!("{mode}:{}", path.display()))
        .output()
        .expect("the bench re-runs itself");
    assert!(
        out.status.success(),
        "child {mode} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn first_opens(plugins: &[Generated], rounds: usize, table: &mut Table) {
    for p in plugins {
        // One unmeasured pair warms the page cache.
        time_child("plugspec", &p.path);
        time_child("raw", &p.path);
        let (ours, raw) = alternate(rounds, &mut || time_child("plugspec", &p.path), &mut || {
            time_child("raw", &p.path)
        });
        table.add(
            &format!(
                "first open, fresh process, {} exports",
                thousands(p.exports)
            ),
            ours,
            "libloading `Library::new`",
            raw,
            "ns",
        );
        #[cfg(target_os = "linux")]
        {
            time_child("floor", &p.path);
            let (ours, floor) =
                alternate(rounds, &mut || time_child("plugspec", &p.path), &mut || {
                    time_child("floor", &p.path)
                });
            table.add(
                &format!(
                    "first open, fresh process, {} exports",
                    thousands(p.exports)
                ),
                ours,
                "the system calls the rules require, alone (`floor_open`)",
                floor,
                "ns",
            );
        }
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// In process

/// The generated plugins, loaded by plugspec and mapped by libloading.
struct Loaded<'g> {
    loader: ReferenceLoader,
    plugins: Vec<(&'g Generated, plugspec::LoadedPlugin, libloading::Library)>,
}

impl<'g> Loaded<'g> {
    fn open(generated: &'g [Generated]) -> Loaded<'g> {
        let loader = ReferenceLoader::new();
        let plugins = generated
            .iter()
            .map(|g| {
                let plugin = loader.open(&g.path).expect("the generated plugin loads");
                // SAFETY: already mapped by plugspec; this only takes another reference.
                let raw = unsafe { libloading::Library::new(&g.path) }.expect("dlopen");
                (g, plugin, raw)
            })
            .collect();
        Loaded { loader, plugins }
    }
}

/// A name cycler: each call returns the next of `names`.
fn cycle<'a, T>(names: &'a [T]) -> impl FnMut() -> &'a T {
    let mut i = 0;
    move || {
        i = if i + 1 == names.len() { 0 } else { i + 1 };
        &names[i]
    }
}

fn in_process(loaded: &Loaded<'_>, rounds: usize, table: &mut Table) {
    let (_, small, _) = &loaded.plugins[0];
    let path = small.path();
    let loader = &loaded.loader;
    table.race(
        rounds,
        "cached open (already loaded)",
        &mut || {
            black_box(loader.open(black_box(path)).unwrap());
        },
        "`std::fs::canonicalize`",
        &mut || {
            black_box(std::fs::canonicalize(black_box(path)).unwrap());
        },
    );

    for (g, plugin, raw) in &loaded.plugins {
        let size = thousands(g.exports);
        let map: FxHashMap<&str, usize> = g
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        // Names probed in a scrambled order, so that neither side walks memory in sequence.
        let probe: Vec<&str> = (0..g.names.len().min(1024))
            .map(|i| g.names[(i * 7919) % g.names.len()].as_str())
            .collect();
        // Also against a map that owns copies of the names, as a table built at load owns its
        // keys: the first map's keys are the very strings probed, so its one name comparison
        // reads memory the probe's hash has just read.
        let copies: Vec<String> = g.names.clone();
        let owned: FxHashMap<&str, usize> = copies
            .iter()
            .enumerate()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        for (baseline, keys) in [
            ("`FxHashMap` hit, same names", &map),
            ("`FxHashMap` hit, its own copies of the names", &owned),
        ] {
            let (mut p, mut m) = (cycle(&probe), cycle(&probe));
            table.race(
                rounds,
                &format!("lookup hit, {size} exports"),
                &mut || {
                    black_box(plugin.lookup(black_box(p())).unwrap());
                },
                baseline,
                &mut || {
                    black_box(keys.get(black_box(m())).unwrap());
                },
            );
        }
        let c_names: Vec<CString> = probe.iter().map(|n| CString::new(*n).unwrap()).collect();
        let (mut p, mut d) = (cycle(&probe), cycle(&c_names));
        table.race(
            rounds,
            &format!("lookup hit, {size} exports"),
            &mut || {
                black_box(plugin.lookup(black_box(p())).unwrap());
            },
            "`dlsym` hit",
            &mut || {
                // SAFETY: the address is only passed to black_box, never called.
                black_box(
                    unsafe { raw.get::<*const u8>(black_box(d()).as_bytes_with_nul()) }.unwrap(),
                );
            },
        );
        let misses: Vec<String> = (0..64).map(|i| format!("missing_{i}")).collect();
        let c_misses: Vec<CString> = misses
            .iter()
            .map(|n| CString::new(n.as_str()).unwrap())
            .collect();
        let (mut p, mut m) = (cycle(&misses), cycle(&misses));
        table.race(
            rounds,
            &format!("lookup miss (`get`, no error), {size} exports"),
            &mut || {
                black_box(plugin.get(black_box(p())));
            },
            "`FxHashMap` miss",
            &mut || {
                black_box(map.get(black_box(m().as_str())));
            },
        );
        let (mut p, mut d) = (cycle(&misses), cycle(&c_misses));
        table.race(
            rounds,
            &format!("lookup miss (`lookup`, typed error), {size} exports"),
            &mut || {
                black_box(plugin.lookup(black_box(p())).unwrap_err());
            },
            "`dlsym` miss",
            &mut || {
                // SAFETY: a missing symbol: only the error is used.
                black_box(
                    unsafe { raw.get::<*const u8>(black_box(d()).as_bytes_with_nul()) }
                        .unwrap_err(),
                );
            },
        );
    }

    let (_, plugin, raw) = &loaded.plugins[0];
    let add = plugspec::function!(*plugin, "add", extern "C" fn(i32, i32) -> i32).unwrap();
    // SAFETY: `add` is exported with exactly this signature by the generated plugin.
    let raw_add = *unsafe { raw.get::<extern "C" fn(i32, i32) -> i32>(b"add\0") }.unwrap();
    assert_eq!(
        add as usize, raw_add as usize,
        "plugspec's function is dlsym's address"
    );
    table.race(
        rounds,
        "call through a looked-up function",
        &mut || {
            black_box(add(black_box(2), black_box(3)));
        },
        "the same function through `dlsym`'s pointer",
        &mut || {
            black_box(raw_add(black_box(2), black_box(3)));
        },
    );
    let host: extern "C" fn(i32, i32) -> i32 = black_box(host_add);
    table.race(
        rounds,
        "call through a looked-up function",
        &mut || {
            black_box(add(black_box(2), black_box(3)));
        },
        "host `extern \"C\"` fn pointer",
        &mut || {
            black_box(host(black_box(2), black_box(3)));
        },
    );
}

// ---------------------------------------------------------------------------------------------
// Fingerprints

/// A host sharing `n` packages besides plugspec, and a plugin fingerprint equal to it.
fn fingerprint_pair(n: usize) -> (HostConfig, Fingerprint<'static>) {
    let mut host = HostConfig::new();
    for i in 0..n {
        let leak = |s: String| &*Box::leak(s.into_boxed_str());
        host = host.shared(Package {
            name: leak(format!("shared-package-{i}")),
            version: "1.0.0",
            hash: leak(format!("{:016x}", i * 0x9e37_79b9)),
        });
    }
    let plugin = Fingerprint::of_host(&host);
    (host, plugin)
}

fn fingerprints(rounds: usize, table: &mut Table) {
    for n in [0, 10, 100, 1_000] {
        let (host, plugin) = fingerprint_pair(n);
        table.race(
            rounds,
            &format!(
                "fingerprint compare, equal, {} shared packages",
                thousands(n)
            ),
            &mut || {
                assert!(fingerprint::compare(black_box(&plugin), black_box(&host)).is_empty());
            },
            "plain equality of the same records",
            &mut || {
                let (p, h) = (black_box(&plugin), black_box(&host));
                let same = p.build == h.build
                    && p.packages.len() == h.packages.len()
                    && p.packages
                        .iter()
                        .zip(&h.packages)
                        .all(|(p, h)| (p.name, p.version, p.hash) == (h.name, h.version, h.hash));
                assert!(same);
            },
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Criterion

fn criterion_benches(c: &mut Criterion, loaded: &Loaded<'_>) {
    let loader = &loaded.loader;
    let (g, plugin, raw) = &loaded.plugins[1];
    let path = plugin.path();

    let mut open = c.benchmark_group("cached open");
    open.bench_function("plugspec ReferenceLoader::open", |b| {
        b.iter(|| loader.open(black_box(path)).unwrap())
    });
    open.bench_function("baseline: std::fs::canonicalize", |b| {
        b.iter(|| std::fs::canonicalize(black_box(path)).unwrap())
    });
    open.finish();

    let name = g.names[g.names.len() / 2].as_str();
    let c_name = CString::new(name).unwrap();
    let map: FxHashMap<&str, usize> = g
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let mut lookup = c.benchmark_group("lookup hit (1,000 exports)");
    lookup.bench_function("plugspec Plugin::lookup", |b| {
        b.iter(|| plugin.lookup(black_box(name)).unwrap())
    });
    lookup.bench_function("baseline: FxHashMap::get", |b| {
        b.iter(|| *map.get(black_box(name)).unwrap())
    });
    lookup.bench_function("baseline: dlsym", |b| {
        // SAFETY: the address is only returned, never called.
        b.iter(|| unsafe { raw.get::<*const u8>(black_box(c_name.as_bytes_with_nul())) }.unwrap())
    });
    lookup.finish();

    let mut miss = c.benchmark_group("lookup miss (1,000 exports)");
    miss.bench_function("plugspec LoadedPlugin::get", |b| {
        b.iter(|| plugin.get(black_box("missing")).is_none())
    });
    miss.bench_function("plugspec Plugin::lookup", |b| {
        b.iter(|| plugin.lookup(black_box("missing")).unwrap_err())
    });
    miss.bench_function("baseline: dlsym", |b| {
        // SAFETY: a missing symbol: only the error is used.
        b.iter(|| unsafe { raw.get::<*const u8>(black_box(b"missing\0")) }.unwrap_err())
    });
    miss.finish();

    let add = plugspec::function!(*plugin, "add", extern "C" fn(i32, i32) -> i32).unwrap();
    let mut call = c.benchmark_group("call");
    call.bench_function("plugin function via plugspec", |b| {
        b.iter(|| add(black_box(2), black_box(3)))
    });
    call.bench_function("baseline: host extern \"C\" fn pointer", |b| {
        let f: extern "C" fn(i32, i32) -> i32 = black_box(host_add);
        b.iter(|| f(black_box(2), black_box(3)))
    });
    call.finish();

    let mut fp = c.benchmark_group("fingerprint compare (equal)");
    for n in [0, 10, 100, 1_000] {
        let (host, plugin) = fingerprint_pair(n);
        fp.bench_function(format!("{n} shared packages"), |b| {
            b.iter(|| fingerprint::compare(black_box(&plugin), black_box(&host)))
        });
    }
    fp.finish();
}
