//! An outside implementer: a crate generated in a temporary directory, outside this workspace,
//! that depends on `plugspec` and `plugspec-runner` by path and checks its own loader (a newtype
//! around the reference loader) with the ten-line harness from the runner's documentation, and
//! no snapshots recorded — an implementer's first run. Without `CI` its `cargo test` passes,
//! every case passes and every transcript is written as pending (`.snap.new`); with `CI=true`
//! it fails, yet the JSON report shows no failed case or rule; once the pending snapshots are
//! accepted, the `CI=true` run passes with them.
//!
//! It builds into this workspace's target directory (`--offline`, with this workspace's
//! Cargo.lock), so it reuses the dependencies and fixtures already built.
//!
//! A slow test (`spec/tests/support/slow.rs`): three `cargo test` runs of that crate, the first
//! compiling it (and, after an edit, both crates of this workspace); ignored unless
//! `PLUGSPEC_SLOW_TESTS=1` or under CI.

#[path = "../../spec/tests/support/slow.rs"]
mod slow;

use std::path::{Path, PathBuf};
use std::process::Command;

use plugspec_runner::report::{Report, RuleOutcome, Written};
use plugspec_runner::snapshot::SnapshotOutcome;

const CARGO_TOML: &str = r#"[package]
name = "my-loader"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
plugspec = { path = "@ROOT@/spec" }

[dev-dependencies]
plugspec-runner = { path = "@ROOT@/runner" }

[[test]]
name = "conformance"
harness = false

[workspace]
"#;

const LIB_RS: &str = r#"//! A loader of my own: the reference loader behind a newtype.
use std::path::Path;
use plugspec::{Error, HostConfig, Loader, ReferenceLoader};

pub struct MyLoader(ReferenceLoader);

impl Loader for MyLoader {
    type Plugin = plugspec::LoadedPlugin;
    fn with_host(host: HostConfig) -> Self {
        MyLoader(ReferenceLoader::with_host(host))
    }
    fn open(&self, path: &Path) -> Result<Self::Plugin, Error> {
        self.0.open(path)
    }
}
"#;

const CONFORMANCE_RS: &str = r#"// tests/conformance.rs, with [[test]] name = "conformance", harness = false
#[global_allocator]
static ALLOC: plugspec_runner::CountingAllocator = plugspec_runner::CountingAllocator;

fn main() {
    plugspec_runner::Harness::<my_loader::MyLoader>::new()
        .known_failures("tests/known-failures.toml") // optional
        .run(); // parses libtest args; in child mode runs the child instead; exits
}
"#;

/// Runs `cargo test --test conformance` in the scratch crate, as the README shows, with or
/// without `CI`; returns whether it succeeded, its output, and the JSON report.
fn cargo_test(krate: &Path, target: &Path, ci: bool) -> (bool, String, Report) {
    let report = krate.join("report.json");
    let _ = std::fs::remove_file(&report);
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["test", "--offline", "--test", "conformance"])
        .current_dir(krate)
        .env("CARGO_TARGET_DIR", target)
        .env("PLUGSPEC_REPORT_JSON", &report)
        .env_remove("CI")
        .env_remove("INSTA_UPDATE")
        .env_remove("INSTA_FORCE_PASS")
        .env_remove("PLUGSPEC_NO_SNAPSHOTS")
        .env_remove("NEXTEST_BINARY_ID")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("PLUGSPEC_CONFORMANCE_DIR")
        .env_remove("PLUGSPEC_FIXTURES_DIR");
    if ci {
        cmd.env("CI", "true");
    }
    let out = cmd.output().unwrap();
    let output = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report at {} ({e}):\n{output}", report.display()));
    (
        out.status.success(),
        output,
        Report::from_json(&text).unwrap(),
    )
}

/// Every case that ran passed and no rule failed: the loader conforms.
fn assert_conforms(report: &Report, output: &str) {
    assert_eq!(report.totals.fail, 0, "{output}");
    assert_eq!(report.totals.known_failure, 0, "{output}");
    assert_eq!(
        report.totals.pass + report.totals.ignored,
        report.totals.cases,
        "{output}"
    );
    assert!(report.totals.pass > 0, "{output}");
    let failed: Vec<&str> = report
        .rules
        .iter()
        .filter(|r| r.outcome == RuleOutcome::Fail)
        .map(|r| r.id.as_str())
        .collect();
    assert!(failed.is_empty(), "rules fail: {failed:?}\n{output}");
    assert_eq!(report.implementation, "my_loader::MyLoader");
}

fn pending(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".snap.new"))
                .collect()
        })
        .unwrap_or_default()
}

fn an_outside_crate_without_snapshots_gets_a_verdict_then_records_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let target = tmp.parent().unwrap().to_path_buf();
    let krate = std::env::temp_dir().join(format!("plugspec-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&krate);
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::create_dir_all(krate.join("tests")).unwrap();
    let root_s = root.display().to_string();
    std::fs::write(
        krate.join("Cargo.toml"),
        CARGO_TOML.replace("@ROOT@", &root_s),
    )
    .unwrap();
    std::fs::write(krate.join("src/lib.rs"), LIB_RS).unwrap();
    std::fs::write(krate.join("tests/conformance.rs"), CONFORMANCE_RS).unwrap();
    std::fs::write(
        krate.join("tests/known-failures.toml"),
        "# my loader fails nothing yet\n",
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    // Where the harness looks for the crate's snapshots: nothing is recorded there yet.
    let snapshots = krate.join(
        plugspec_runner::snapshot::default_dir()
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap(),
    );
    assert!(!snapshots.exists());

    // 1. The first run, without CI: a verdict (every case passes), exit 0, and every
    //    transcript written as pending for `cargo insta review`.
    let started = std::time::Instant::now();
    let (ok, output, report) = cargo_test(&krate, &target, false);
    assert!(ok, "cargo test in {} failed:\n{output}", krate.display());
    assert!(output.contains("test result: ok."), "{output}");
    assert!(output.contains("loader my_loader::MyLoader"), "{output}");
    assert_conforms(&report, &output);
    assert_eq!(report.snapshots.new, report.totals.pass, "{output}");
    assert_eq!(report.snapshots.written, Written::Pending);
    let written = pending(&snapshots);
    assert_eq!(written.len() as u32, report.totals.pass, "{output}");
    for noise in ["panicked", "stack backtrace", "Snapshot Summary"] {
        assert!(!output.contains(noise), "{noise:?} in:\n{output}");
    }
    eprintln!(
        "outside crate: first cargo test took {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // 2. Under CI with nothing accepted: the run fails, yet the report shows the verdict.
    let (ok, output, report) = cargo_test(&krate, &target, true);
    assert!(
        !ok,
        "CI=true with no snapshots recorded must fail:\n{output}"
    );
    assert_conforms(&report, &output);
    assert!(report.snapshots.fail_run);
    assert_eq!(report.snapshots.written, Written::None);
    assert!(
        report
            .cases
            .iter()
            .all(|c| c.snapshot != SnapshotOutcome::Changed),
        "{output}"
    );

    // Under nextest, what will not run is decided while listing: the cases ignored here are
    // exactly the trials the binary lists as ignored (nextest shows them as SKIP).
    let binary = output
        .lines()
        .find_map(|l| {
            let (_, rest) = l.split_once("Running tests/conformance.rs (")?;
            Some(krate.join(rest.strip_suffix(')')?))
        })
        .unwrap_or_else(|| panic!("which test binary ran?\n{output}"));
    let list_ignored = |nextest: bool| {
        let mut cmd = Command::new(&binary);
        cmd.args(["--list", "--format", "terse", "--ignored"])
            .current_dir(&krate)
            .env("CARGO_MANIFEST_DIR", &krate)
            .env_remove("NEXTEST_BINARY_ID");
        if nextest {
            cmd.env("NEXTEST_BINARY_ID", "my-loader::conformance");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let mut listed: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test").map(str::to_string))
            .collect();
        listed.sort();
        listed
    };
    let mut ignored: Vec<String> = report
        .cases
        .iter()
        .filter(|c| c.status.outcome() == plugspec_runner::report::Outcome::Ignored)
        .map(|c| c.trial.clone())
        .collect();
    ignored.sort();
    assert_eq!(list_ignored(true), ignored);
    assert!(list_ignored(false).is_empty());

    // 3. Accept the pending transcripts (what `cargo insta accept` does: rename them), and
    //    the CI run passes with the snapshots found in the crate's own directory.
    for p in &written {
        let s = p.to_string_lossy();
        std::fs::rename(p, s.trim_end_matches(".new")).unwrap();
    }
    let (ok, output, report) = cargo_test(&krate, &target, true);
    assert!(ok, "CI=true after accepting failed:\n{output}");
    assert_conforms(&report, &output);
    assert_eq!(report.snapshots.matched, report.totals.pass, "{output}");
    let _ = std::fs::remove_dir_all(&krate);
}

fn main() {
    // The crate builds and loads fixture plugins: only where plugins load (PLAT-1).
    slow::main_of_one(
        "an_outside_crate_without_snapshots_gets_a_verdict_then_records_them",
        "builds a crate outside the workspace and runs its cargo test three times",
        cfg!(any(
            target_os = "linux",
            target_os = "macos",
            target_os = "freebsd"
        )),
        an_outside_crate_without_snapshots_gets_a_verdict_then_records_them,
    )
}
