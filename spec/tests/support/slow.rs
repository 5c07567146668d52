//! The slow tests: the ones that build crates with rustc or cargo on every run after an edit
//! (trybuild's compile checks, the build-settings workspace, the outside crate) or run the suite
//! once per mutant (the zoo). A plain `cargo test --workspace` reports each of them as ignored,
//! naming what it builds or runs and how to run it; they run with `PLUGSPEC_SLOW_TESTS=1`, and
//! under CI (`CI` set to anything but `false`, `0` or empty, as insta decides it) unless
//! `PLUGSPEC_SLOW_TESTS=0`. `.ci/run` runs the README's `cargo test --workspace` with
//! `PLUGSPEC_SLOW_TESTS=0` (as a developer's machine runs it), then these targets by name.
//!
//! Not `#[ignore]`: `cargo test --workspace -- --ignored` would also run what is ignored for a
//! reason, and fail or pass without checking anything: the zoo's mutants that break nothing on
//! this platform (they survive), the trials that `compare` and `broken` flag where they cannot
//! run, the ```` ```ignore ```` doctests (reported as passed).
//!
//! Shared by the slow targets of both crates (`#[path = ".../spec/tests/support/slow.rs"]`), each
//! a `harness = false` target that wraps its trials in [`trial`].

use libtest_mimic::{Completion, Trial};

/// `1` runs the slow tests, `0` leaves them out even under CI; unset or empty, CI decides.
pub const VAR: &str = "PLUGSPEC_SLOW_TESTS";

/// Whether the slow tests run here: [`VAR`] if it is set, else whether this is a CI run.
pub fn run() -> bool {
    match std::env::var(VAR).ok().as_deref() {
        Some("1") => true,
        Some("0") => false,
        None | Some("") => ci(),
        Some(other) => panic!("{VAR}={other:?}: set it to 1 (run the slow tests) or 0 (do not)"),
    }
}

/// Whether this is a CI run, as insta (and the runner's snapshots) decide it: `CI` set to
/// anything but `false`, `0` or empty, or `TF_BUILD` set.
fn ci() -> bool {
    match std::env::var("CI").ok().as_deref() {
        Some("false") | Some("0") | Some("") => false,
        None => std::env::var_os("TF_BUILD").is_some(),
        Some(_) => true,
    }
}

/// `trial` itself when the slow tests run ([`run`]). Otherwise, under nextest, `trial` flagged
/// ignored: nextest decides while listing, shows it as skipped, and `--run-ignored` runs it for
/// real. Otherwise a trial of the same name that runs nothing and reports itself ignored, naming
/// `what` it builds or runs and how to run it, flagged ignored where `trial` was (for a
/// platform's reason): libtest's `--ignored` runs this stand-in, never `trial`.
pub fn trial(trial: Trial, what: &str) -> Trial {
    if run() {
        return trial;
    }
    if std::env::var_os("NEXTEST_BINARY_ID").is_some() {
        return trial.with_ignored_flag(true);
    }
    let flagged = trial.has_ignored_flag();
    let reason = format!("slow: {what}; {VAR}=1 or CI=true runs it");
    Trial::ignorable_test(trial.name().to_string(), move || {
        Ok(Completion::ignored_with(reason))
    })
    .with_kind(trial.kind().to_string())
    .with_ignored_flag(flagged)
}

/// The whole `main` of a slow target that holds one test: `test`, as the trial `name`, through
/// [`trial`] (`what` it builds or runs), where `runs_here` (the platforms it can run on; no trial
/// elsewhere).
#[allow(dead_code)] // the zoo has one trial per mutant and its own `main`
pub fn main_of_one(name: &str, what: &str, runs_here: bool, test: fn()) -> ! {
    let args = libtest_mimic::Arguments::from_args();
    let trials = if runs_here {
        let one = Trial::test(name, move || {
            test();
            Ok(())
        });
        vec![trial(one, what)]
    } else {
        Vec::new()
    };
    libtest_mimic::run(&args, trials).exit()
}
