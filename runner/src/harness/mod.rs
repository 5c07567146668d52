//! The libtest-mimic integration: one trial per case, named `<area>/<ID>-<slug>`, so that
//! `cargo test`, filters, `--list`, `--exact`, `--ignored` and `cargo nextest run` work.
//!
//! Listing reads the case files and the fixture sources only: it never builds a fixture and
//! never starts a child. A trial builds what it needs on first use (once per process), runs its
//! case in fresh children, judges, checks the snapshot, and applies the known failures.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};
use plugspec::Loader;

use crate::case::{Case, Suite, load_suite};
use crate::coverage::Coverage;
use crate::fixtures::{Catalog, Registry, target_dir};
use crate::known_failures::KnownFailures;
use crate::parent::snapshot::SnapshotOutcome;
use crate::report::{CaseResult, Report, Snapshots, Status, Written};
use crate::{child, platforms, run, snapshot};

mod context;
mod notes;

use context::Context;
use notes::{Note, print_snapshot_notes, snapshot_failure, summarise};

/// The libtest-style argument that turns snapshot comparison off.
pub const NO_SNAPSHOTS_ARG: &str = "--no-snapshots";

/// The environment variable that turns snapshot comparison off (`1`).
pub const NO_SNAPSHOTS_ENV: &str = "PLUGSPEC_NO_SNAPSHOTS";

/// Whether an environment variable is set to something other than empty, `0`, `false`, `off`.
fn env_flag(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false" | "off"))
}

/// Whether cargo-nextest started this very binary (to list its trials or to run one).
///
/// Nextest sets `NEXTEST_BINARY_ID` (`<crate>::<test target>`) both when it lists and when it
/// runs, and its children inherit it: only a binary whose own name is that test target counts,
/// so a `plugspec` or a `cargo test` started from inside a nextest trial is not taken for one.
pub fn under_nextest() -> bool {
    let Some(id) = std::env::var_os("NEXTEST_BINARY_ID") else {
        return false;
    };
    let id = id.to_string_lossy();
    let target = id.rsplit("::").next().unwrap_or(&id).replace('-', "_");
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // cargo names a test binary `<target>-<hash>`.
    let name = stem.rsplit_once('-').map_or(stem.as_str(), |(n, _)| n);
    name == target
}

/// `<suite root>/<sub>` of the suite this runner carries, unpacked on first use
/// ([`crate::suite`]). If it cannot be unpacked, says why and returns where it would be (reading
/// it then fails, naming the path).
fn carried(sub: &str) -> PathBuf {
    match crate::suite::root() {
        Ok(root) => root.join(sub),
        Err(e) => {
            eprintln!("plugspec: {e}");
            crate::suite::unpack_dir().join(sub)
        }
    }
}

/// The conformance cases: `$PLUGSPEC_CONFORMANCE_DIR`, else the cases shipped with this runner
/// (unpacked from the runner itself, see [`crate::suite`]).
pub fn default_cases_dir() -> PathBuf {
    std::env::var_os("PLUGSPEC_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| carried("conformance"))
}

/// The fixture sources: `$PLUGSPEC_FIXTURES_DIR`, else the fixtures shipped with this runner
/// (unpacked from the runner itself, with the `plugspec` sources they build against).
pub fn default_fixtures_dir() -> PathBuf {
    std::env::var_os("PLUGSPEC_FIXTURES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| carried("fixtures"))
}

/// A report path from the environment, made absolute against the current directory.
fn report_path_from_env(var: &str) -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var_os(var).filter(|v| !v.is_empty())?);
    Some(std::path::absolute(&path).unwrap_or(path))
}

/// Resolves `path` against `$CARGO_MANIFEST_DIR` (set by cargo for test binaries), else the
/// current directory.
fn from_manifest_dir(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
        .join(path)
}

/// The conformance suite as a libtest-mimic harness for the loader `L`.
///
/// ```no_run
/// // tests/conformance.rs, with [[test]] name = "conformance", harness = false
/// # #[allow(clippy::needless_doctest_main)]
/// fn main() {
///     plugspec_runner::Harness::<plugspec::ReferenceLoader>::new()
///         .known_failures("tests/known-failures.toml") // optional
///         .run();
/// }
/// ```
pub struct Harness<L> {
    /// `None`: the default, resolved (and unpacked) only when the harness runs.
    cases_dir: Option<PathBuf>,
    fixtures_dir: Option<PathBuf>,
    known_failures: Option<PathBuf>,
    snapshots: Result<PathBuf, String>,
    timeout: Duration,
    report: bool,
    json_report: Option<PathBuf>,
    markdown_report: Option<PathBuf>,
    implementation: Option<String>,
    only_rules: Option<Vec<String>>,
    driver: Option<(run::Driver, Option<PathBuf>)>,
    _loader: PhantomData<fn() -> L>,
}

impl<L: Loader> Default for Harness<L> {
    fn default() -> Self {
        Harness::new()
    }
}

impl<L> std::fmt::Debug for Harness<L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("cases_dir", &self.cases_dir)
            .field("fixtures_dir", &self.fixtures_dir)
            .field("known_failures", &self.known_failures)
            .field("snapshots", &self.snapshots)
            .field("timeout", &self.timeout)
            .field("json_report", &self.json_report)
            .field("markdown_report", &self.markdown_report)
            .finish()
    }
}

impl<L: Loader> Harness<L> {
    /// The shipped cases and fixtures, snapshots in `<crate>/tests/snapshots/plugspec/`, the time
    /// limit from `$PLUGSPEC_CASE_TIMEOUT` (default 30 s), report files from
    /// `$PLUGSPEC_REPORT_JSON` and `$PLUGSPEC_REPORT_MD` (paths; none by default).
    pub fn new() -> Self {
        Harness {
            cases_dir: None,
            fixtures_dir: None,
            known_failures: None,
            snapshots: if env_flag(NO_SNAPSHOTS_ENV) {
                Err(format!("{NO_SNAPSHOTS_ENV} is set"))
            } else {
                Ok(snapshot::default_dir())
            },
            timeout: run::timeout_from_env(run::DEFAULT_TIMEOUT),
            report: std::env::var("PLUGSPEC_REPORT").map_or(true, |v| v != "0" && v != "off"),
            json_report: report_path_from_env("PLUGSPEC_REPORT_JSON"),
            markdown_report: report_path_from_env("PLUGSPEC_REPORT_MD"),
            implementation: None,
            only_rules: None,
            driver: None,
            _loader: PhantomData,
        }
    }

    /// The loader's known failures (TOML; a relative path is relative to the crate's manifest
    /// directory).
    pub fn known_failures(mut self, path: impl AsRef<Path>) -> Self {
        self.known_failures = Some(from_manifest_dir(path.as_ref()));
        self
    }

    /// Another directory of cases.
    pub fn cases(mut self, dir: impl AsRef<Path>) -> Self {
        self.cases_dir = Some(from_manifest_dir(dir.as_ref()));
        self
    }

    /// Another directory of fixture sources.
    pub fn fixtures(mut self, dir: impl AsRef<Path>) -> Self {
        self.fixtures_dir = Some(from_manifest_dir(dir.as_ref()));
        self
    }

    /// Another snapshot directory.
    pub fn snapshot_dir(mut self, dir: impl AsRef<Path>) -> Self {
        if self.snapshots.is_ok() {
            self.snapshots = Ok(from_manifest_dir(dir.as_ref()));
        }
        self
    }

    /// No snapshots: transcripts are not compared (as `--no-snapshots` or
    /// `PLUGSPEC_NO_SNAPSHOTS=1` do).
    pub fn without_snapshots(self) -> Self {
        self.without_snapshots_because("turned off by the harness")
    }

    /// No snapshots, saying why (the reports and the summary line show it).
    pub fn without_snapshots_because(mut self, why: impl Into<String>) -> Self {
        self.snapshots = Err(why.into());
        self
    }

    /// The time limit of one child.
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    /// Whether to print the per-rule report after the run (default: yes, unless
    /// `PLUGSPEC_REPORT=0`).
    pub fn report(mut self, on: bool) -> Self {
        self.report = on;
        self
    }

    /// Also write the report as JSON to `path` after the run (the structure is documented in
    /// [`crate::report`] and `runner/report.schema.json`). Overrides `$PLUGSPEC_REPORT_JSON`.
    pub fn json_report(mut self, path: impl AsRef<Path>) -> Self {
        self.json_report = Some(from_manifest_dir(path.as_ref()));
        self
    }

    /// Also write the per-rule report as Markdown to `path` after the run (for a CI job
    /// summary). Overrides `$PLUGSPEC_REPORT_MD`.
    pub fn markdown_report(mut self, path: impl AsRef<Path>) -> Self {
        self.markdown_report = Some(from_manifest_dir(path.as_ref()));
        self
    }

    /// Runs the cases in another driver of the protocol (`runner/PROTOCOL.md`) instead of this
    /// binary's Rust driver: one fresh process of `driver` per case run, with its plugins from
    /// the fixture kit in `kit` (a directory with a `kit.toml`; `None`: the Rust kit). The
    /// driver's `hello` names the implementation in the reports and says what it can do; a case
    /// needing more is not applicable. Snapshots are not compared (they are the Rust driver's
    /// transcripts).
    pub fn driver(mut self, driver: run::Driver, kit: Option<PathBuf>) -> Self {
        self.snapshots = Err(format!(
            "driver {}: the snapshots are the Rust driver's transcripts",
            driver.display()
        ));
        self.driver = Some((driver, kit));
        self
    }

    /// The implementation's name in the reports (default: the loader's Rust type name).
    pub fn implementation(mut self, name: impl Into<String>) -> Self {
        self.implementation = Some(name.into());
        self
    }

    /// Runs only the cases tagged with at least one of `rules`; the others are reported as not
    /// run. For a quick check of one rule (the mutant zoo runs each mutant against its rule's
    /// cases only).
    pub fn only_rules<S: Into<String>>(mut self, rules: impl IntoIterator<Item = S>) -> Self {
        self.only_rules = Some(rules.into_iter().map(Into::into).collect());
        self
    }

    /// Runs the harness and exits: as the child when started as one, else parses the libtest
    /// arguments (plus `--no-snapshots`), runs the trials, prints the report.
    pub fn run(mut self) -> ! {
        if child::is_child() {
            child::main::<L>();
        }
        let mut no_snapshots = false;
        let args = Arguments::from_iter(std::env::args_os().filter(|a| {
            let ours = a == NO_SNAPSHOTS_ARG;
            no_snapshots |= ours;
            !ours
        }));
        if no_snapshots {
            self = self.without_snapshots_because(NO_SNAPSHOTS_ARG);
        }
        if args.test_threads == Some(0) {
            // libtest refuses it too; with no thread nothing would ever run.
            eprintln!("error: --test-threads must be at least 1");
            std::process::exit(2);
        }
        let (conclusion, _) = self.run_with(&args);
        conclusion.exit()
    }

    /// Runs the trials with these arguments (not as a child) and returns the conclusion and,
    /// unless listing, the report.
    ///
    /// Writes the report files asked for; a file that cannot be written counts as one failed
    /// trial in the conclusion.
    pub fn run_with(self, args: &Arguments) -> (Conclusion, Option<Report>) {
        // Under nextest each trial is a process of its own: its output is that trial's, not
        // the whole per-rule table.
        let report_on = self.report && !under_nextest();
        let snapshots_off = self.snapshots.clone().err();
        let files = (self.json_report.clone(), self.markdown_report.clone());
        let implementation = self.implementation.clone();
        let (trials, context) = match self.prepare(args.list) {
            Ok((trials, context)) => (trials, Some(context)),
            Err(problem) => (
                vec![Trial::test("conformance/suite-is-valid", move || {
                    Err(Failed::from(problem))
                })],
                None,
            ),
        };
        let mut conclusion = libtest_mimic::run(args, trials);
        if args.list {
            return (conclusion, None);
        }
        if let Some(c) = &context {
            // Passed runs removed their directories; an empty per-process directory goes too.
            let _ = std::fs::remove_dir(run::scratch_root(c.registry.root()));
            let _ = std::fs::remove_dir(run::safe_scratch_root(c.registry.root()));
        }
        let report = context.map(|c| {
            let results = c.results.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let notes = c.notes.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let snapshots = match (&c.snapshots, snapshots_off) {
                (Some(dir), _) => summarise(dir, &notes),
                (None, why) => Snapshots::off(why.unwrap_or_default()),
            };
            print_snapshot_notes(&notes, &snapshots);
            let implementation = implementation.unwrap_or_else(|| c.info.loader.clone());
            Report::build(&c.suite, &c.coverage, &results, &implementation, snapshots)
        });
        if report_on && let Some(r) = &report {
            println!("{}", r.text());
        }
        if let Some(r) = &report {
            let written = [
                files.0.map(|p| r.write_json(&p)),
                files.1.map(|p| r.write_markdown(&p)),
            ];
            for problem in written.into_iter().flatten().filter_map(Result::err) {
                eprintln!("plugspec: {problem}");
                conclusion.num_failed += 1;
            }
        }
        (conclusion, report)
    }

    /// Loads everything a run needs (without building) and makes the trials.
    fn prepare(mut self, listing: bool) -> Result<(Vec<Trial>, Arc<Context>), String> {
        let cases_dir = self.cases_dir.take().unwrap_or_else(default_cases_dir);
        let fixtures_dir = self
            .fixtures_dir
            .take()
            .unwrap_or_else(default_fixtures_dir);
        let catalog = Catalog::scan(&fixtures_dir)?;
        let suite = load_suite(&cases_dir, &catalog).map_err(|errors| {
            format!(
                "the conformance cases are invalid:\n{}",
                errors
                    .iter()
                    .map(|e| format!("  {e}"))
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })?;
        let coverage = Coverage::load(&cases_dir)?;
        let known = match &self.known_failures {
            Some(path) => KnownFailures::load(path, &suite)?,
            None => KnownFailures::default(),
        };
        let root = target_dir().join("plugspec-fixtures");
        let (driver, kit, info) = match &self.driver {
            None => {
                let exe = std::env::current_exe()
                    .map_err(|e| format!("cannot find the running binary to re-execute: {e}"))?;
                let info = run::DriverInfo {
                    driver: format!("plugspec-runner {}", env!("CARGO_PKG_VERSION")),
                    loader: std::any::type_name::<L>().to_string(),
                    capabilities: child::rust_capabilities(),
                    kit: Some(crate::protocol::RUST_KIT.to_string()),
                };
                let driver = run::Driver {
                    program: exe,
                    args: Vec::new(),
                };
                (driver, catalog, info)
            }
            Some((driver, kit_dir)) => {
                let kit = match kit_dir {
                    Some(dir) => Catalog::scan_kit(dir)?,
                    None => catalog,
                };
                // Listing starts no process: every case is listed as if it applied.
                let info = if listing {
                    run::DriverInfo {
                        driver: driver.display(),
                        loader: driver.display(),
                        capabilities: crate::protocol::DRIVER_CAPABILITIES
                            .iter()
                            .map(|(c, _)| c.to_string())
                            .collect(),
                        kit: Some(kit.kit().to_string()),
                    }
                } else {
                    let dir = run::scratch_root(&root).join("probe");
                    let info = run::probe(driver, &dir, self.timeout)?;
                    let _ = std::fs::remove_dir_all(&dir);
                    info
                };
                if info.kit.as_deref() != Some(kit.kit()) {
                    return Err(format!(
                        "the driver {} uses the fixture kit {:?}, the runner was given the kit {:?}",
                        driver.display(),
                        info.kit.as_deref().unwrap_or("(none)"),
                        kit.kit()
                    ));
                }
                (driver.clone(), kit, info)
            }
        };
        let context = Arc::new(Context {
            registry: Registry::new(kit, root),
            info,
            suite,
            coverage,
            known,
            snapshots: self.snapshots.ok(),
            fixtures_src: fixtures_dir,
            timeout: self.timeout,
            driver,
            results: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
            cases_dir,
        });
        let nextest = under_nextest();
        let counting = crate::child::alloc::is_counting();
        let platform = plugspec::platform::current();
        let unprivileged_problem = run::unprivileged_user().and_then(|_| {
            run::unprivileged_problem(
                &run::scratch_root(context.registry.root()),
                &context.driver.program,
            )
        });
        let root_problem = run::root_problem();
        let safe_permissions_problem =
            run::safe_permissions_problem(&run::safe_scratch_root(context.registry.root()));
        let only_rules = self.only_rules;
        let mut cases: Vec<&Case> = context
            .suite
            .cases
            .iter()
            .filter(|c| {
                only_rules
                    .as_ref()
                    .is_none_or(|only| c.rules.iter().any(|r| only.contains(r)))
            })
            .collect();
        // Long cases first, so that parallel trials finish together.
        cases.sort_by_key(|c| std::cmp::Reverse(c.repeat));
        let trials = cases
            .into_iter()
            .map(|case| {
                let ignore = platforms::applies(&case.platforms, case.loads(), &platform)
                    .err()
                    .or_else(|| {
                        case.requires
                            .iter()
                            .any(|r| r == "alloc_count" && !counting)
                            .then(|| {
                                "needs allocation counting: install plugspec_runner::CountingAllocator as the #[global_allocator]".to_string()
                            })
                    })
                    .or_else(|| {
                        // Run as root, the child drops to an unprivileged user for these cases
                        // (run::run_child); ignored only where that user could not run it.
                        case.requires
                            .iter()
                            .any(|r| r == "unprivileged")
                            .then_some(unprivileged_problem.as_ref())
                            .flatten()
                            .cloned()
                    })
                    .or_else(|| {
                        case.requires
                            .iter()
                            .any(|r| r == "root")
                            .then_some(root_problem.as_ref())
                            .flatten()
                            .cloned()
                    })
                    .or_else(|| {
                        case.host
                            .safe_permissions
                            .then_some(safe_permissions_problem.as_ref())
                            .flatten()
                            .cloned()
                    })
                    .or_else(|| {
                        case.fixtures
                            .iter()
                            .find_map(|f| context.registry.catalog().unavailable(f))
                    });
                // Under nextest, what will not run is decided while listing, so that nextest
                // shows it as skipped (with `--run-ignored` the trial runs and says why).
                let not_applicable = ignore.is_none().then(|| context.not_applicable(case)).flatten();
                let skip_at_list = nextest
                    && (ignore.is_some()
                        || not_applicable.is_some()
                        || context.known.get(&case.id).is_some());
                let context = context.clone();
                let id = case.id.clone();
                Trial::ignorable_test(case.trial_name(), move || {
                    let case = context
                        .suite
                        .cases
                        .iter()
                        .find(|c| c.id == id)
                        .expect("the trial's case is in the suite");
                    context.run_trial(case, ignore, not_applicable)
                })
                .with_ignored_flag(skip_at_list)
            })
            .collect();
        Ok((trials, context))
    }
}
