//! `plugspec test`, `plugspec list`, `plugspec rules`: the suite against the reference loader.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use plugspec::ReferenceLoader;
use plugspec_runner::case::{self, Case, Suite};
use plugspec_runner::fixtures::{self, Catalog, Source};
use plugspec_runner::{Harness, cargo, coverage, harness, platforms, run};

use super::{Color, DirArgs, FAILED, ListArgs, Selection, TestArgs, USAGE, plural};

/// A path given on the command line, made absolute against the current directory (the
/// harness resolves relative paths against the crate's manifest directory, which `cargo run`
/// sets).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn dirs(d: &DirArgs) -> (PathBuf, PathBuf) {
    (
        d.cases
            .as_deref()
            .map_or_else(harness::default_cases_dir, absolute),
        d.fixtures
            .as_deref()
            .map_or_else(harness::default_fixtures_dir, absolute),
    )
}

/// The catalog and the suite, or the exit status after saying what is wrong.
fn load(d: &DirArgs) -> Result<(Catalog, Suite, PathBuf), ExitCode> {
    let (cases_dir, fixtures_dir) = dirs(d);
    let catalog = Catalog::scan(&fixtures_dir).map_err(|e| {
        eprintln!("plugspec: {e}");
        ExitCode::from(USAGE)
    })?;
    let suite = case::load_suite(&cases_dir, &catalog).map_err(|errors| {
        for e in errors {
            eprintln!("plugspec: {e}");
        }
        ExitCode::from(USAGE)
    })?;
    Ok((catalog, suite, cases_dir))
}

/// The selected cases, in suite order; an unknown rule, area or case ID is an error.
fn select<'a>(
    suite: &'a Suite,
    selection: &Selection,
    filter: Option<&str>,
    exact: bool,
) -> Result<Vec<&'a Case>, String> {
    for rule in &selection.rules {
        if plugspec::rules::get(rule).is_none() {
            return Err(format!(
                "--rule {rule}: no such rule (`plugspec rules` lists them)"
            ));
        }
    }
    for area in &selection.areas {
        if !case::AREAS.contains(&area.as_str()) {
            return Err(format!(
                "--area {area}: no such area (one of {})",
                case::AREAS.join(", ")
            ));
        }
    }
    for id in &selection.cases {
        if !suite.cases.iter().any(|c| &c.id == id) {
            return Err(format!(
                "--case {id}: no such case (`plugspec list` lists them)"
            ));
        }
    }
    let any = |wanted: &[String], pred: &dyn Fn(&String) -> bool| {
        wanted.is_empty() || wanted.iter().any(pred)
    };
    let chosen: Vec<&Case> = suite
        .cases
        .iter()
        .filter(|c| any(&selection.rules, &|r| c.rules.contains(r)))
        .filter(|c| any(&selection.areas, &|a| &c.area == a))
        .filter(|c| any(&selection.cases, &|id| &c.id == id))
        .filter(|c| match filter {
            None => true,
            Some(f) if exact => c.trial_name() == f,
            Some(f) => c.trial_name().contains(f),
        })
        .collect();
    if chosen.is_empty() {
        let what = filter.map_or_else(|| "the filters".to_string(), |f| format!("{f:?}"));
        return Err(format!(
            "no case matches {what} (`plugspec list` lists the cases, `plugspec --help` the commands)"
        ));
    }
    Ok(chosen)
}

pub fn test(args: TestArgs) -> ExitCode {
    let mut harness = Harness::<ReferenceLoader>::new();
    let (cases_dir, fixtures_dir) = dirs(&args.dirs);
    harness = harness.cases(&cases_dir).fixtures(&fixtures_dir);
    if let Some(f) = &args.known_failures {
        harness = harness.known_failures(absolute(f));
    } else if args.driver == ["go"] {
        // Go's known failures ship with its driver.
        let go = match plugspec_runner::suite::root() {
            Ok(root) => root.join("drivers/go/known-failures.toml"),
            Err(e) => {
                eprintln!("plugspec: --driver go: {e}");
                return ExitCode::from(FAILED);
            }
        };
        eprintln!(
            "plugspec: --driver go: known failures from {}",
            shown(&go).display()
        );
        harness = harness.known_failures(go);
    }
    if !args.driver.is_empty() {
        match driver(&args) {
            Ok((driver, kit)) => harness = harness.driver(driver, kit),
            Err(e) => {
                eprintln!("plugspec: --driver: {e}");
                return ExitCode::from(FAILED);
            }
        }
    }
    if let Some(t) = args.timeout {
        if !(t > 0.0 && t.is_finite()) {
            eprintln!("plugspec: --timeout {t}: must be a positive number of seconds");
            return ExitCode::from(USAGE);
        }
        harness = harness.timeout(std::time::Duration::from_secs_f64(t));
    }
    // Snapshots live in the crate's `tests/snapshots/`; only cargo says where that crate is.
    let snapshots_off = if !args.driver.is_empty() {
        // The harness says why (the snapshots are the Rust driver's transcripts).
        None
    } else if args.no_snapshots {
        Some("--no-snapshots".to_string())
    } else if std::env::var_os("CARGO_MANIFEST_DIR").is_none() {
        Some(
            "not run by cargo: no crate directory to find tests/snapshots/ in; `cargo run -p plugspec-runner` compares them"
                .to_string(),
        )
    } else {
        None
    };
    if let Some(why) = snapshots_off {
        if !args.list {
            eprintln!("plugspec: snapshots: not compared ({why})");
        }
        harness = harness.without_snapshots_because(why);
    }
    if let Some(f) = &args.json {
        harness = harness.json_report(absolute(f));
    }
    if let Some(f) = &args.markdown {
        harness = harness.markdown_report(absolute(f));
    }
    let mut test_args = libtest_mimic::Arguments::from_iter(["plugspec"]);
    test_args.list = args.list;
    test_args.test_threads = args.test_threads.map(std::num::NonZeroUsize::get);
    test_args.color = Some(match args.color.or_else(color_from_env) {
        Some(Color::Always) => libtest_mimic::ColorSetting::Always,
        Some(Color::Never) => libtest_mimic::ColorSetting::Never,
        Some(Color::Auto) | None => libtest_mimic::ColorSetting::Auto,
    });
    test_args.quiet = true;
    // An invalid suite is reported by the harness itself, as a failing trial.
    if let Ok((catalog, suite, _)) = load(&args.dirs) {
        let filtered = args.filter.is_some() || !args.selection.is_empty();
        let chosen = match select(&suite, &args.selection, args.filter.as_deref(), args.exact) {
            Ok(chosen) => chosen,
            Err(e) if filtered => {
                eprintln!("plugspec: {e}");
                return ExitCode::from(USAGE);
            }
            Err(_) => Vec::new(),
        };
        if filtered {
            test_args.exact = true;
            test_args.skip = suite
                .cases
                .iter()
                .filter(|c| !chosen.iter().any(|k| k.id == c.id))
                .map(|c| c.trial_name())
                .collect();
        }
        if !args.list && args.driver.is_empty() {
            build_fixtures(&catalog, &chosen);
        }
    }
    let (conclusion, report) = harness.report(true).run_with(&test_args);
    if conclusion.has_failed() || report.is_some_and(|r| r.totals.fail > 0) {
        ExitCode::from(FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// `$CARGO_TERM_COLOR`, as cargo reads it, when `--color` is not given.
fn color_from_env() -> Option<Color> {
    match std::env::var("CARGO_TERM_COLOR").ok()?.as_str() {
        "always" => Some(Color::Always),
        "never" => Some(Color::Never),
        _ => Some(Color::Auto),
    }
}

/// The driver and its kit from `--driver` and `--kit`. `--driver go` is the bundled Go driver
/// (`runner/drivers/go`, carried in the runner like the cases), built here against the Go kit
/// (`conformance/kits/go`, or `--kit`) with the kit's fixtures, each build shown with its time.
fn driver(args: &TestArgs) -> Result<(run::Driver, Option<PathBuf>), String> {
    let kit = args.kit.as_deref().map(absolute);
    if args.driver.len() == 1 && args.driver[0] == "go" {
        let kit = kit.unwrap_or_else(|| dirs(&args.dirs).0.join("kits").join("go"));
        let work = fixtures::target_dir().join("plugspec-fixtures").join("go");
        // The driver this runner carries (see `plugspec_runner::suite`), linked against the
        // kit's shared package.
        let source = plugspec_runner::suite::root()?.join("drivers").join("go");
        let program = work.join("plugspec-go-driver");
        timed(&format!("Go driver ({})", shown(&source).display()), || {
            fixtures::build_go_against_kit(&source, &kit, &program, &work)
        })?;
        if !args.list {
            let catalog = Catalog::scan_kit(&kit)?;
            let registry =
                fixtures::Registry::new(catalog, work.parent().unwrap_or(&work).to_path_buf());
            for name in registry.catalog().names() {
                timed(&format!("Go fixture {name}"), || registry.artifact(name))?;
            }
        }
        return Ok((
            run::Driver {
                program,
                args: Vec::new(),
            },
            Some(kit),
        ));
    }
    let (program, rest) = args.driver.split_first().ok_or("no command given")?;
    let program = if program.contains('/') {
        absolute(Path::new(program))
    } else {
        PathBuf::from(program)
    };
    Ok((
        run::Driver {
            program,
            args: rest.to_vec(),
        },
        kit,
    ))
}

/// Runs a build, saying what and how long it took.
fn timed<T>(what: &str, build: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    eprint!("plugspec: building {what} … ");
    let started = Instant::now();
    let built = build();
    let secs = started.elapsed().as_secs_f64();
    match &built {
        Ok(_) => eprintln!("{secs:.1} s"),
        Err(_) => eprintln!("FAILED after {secs:.1} s"),
    }
    built
}

/// Builds every fixture workspace (and C fixture) the chosen cases need, before the run,
/// saying which and how long each took. The trials then find them built (cargo's no-op check
/// takes some milliseconds); a build that fails here fails its cases again, with the compiler's
/// diagnostics.
fn build_fixtures(catalog: &Catalog, chosen: &[&Case]) {
    let platform = plugspec::platform::current();
    let root = fixtures::target_dir().join("plugspec-fixtures");
    let mut workspaces: BTreeMap<&Path, &str> = BTreeMap::new();
    let mut c_sources: BTreeMap<&Path, ()> = BTreeMap::new();
    for case in chosen
        .iter()
        .filter(|c| platforms::applies(&c.platforms, c.loads(), &platform).is_ok())
    {
        for name in case
            .fixtures
            .iter()
            .filter(|f| catalog.unavailable(f).is_none())
        {
            match catalog.source(name) {
                Some(Source::Cargo {
                    workspace,
                    workspace_name,
                    ..
                }) => {
                    workspaces.insert(workspace, workspace_name);
                }
                Some(Source::C { source }) => {
                    c_sources.insert(source, ());
                }
                Some(Source::Go { .. }) | None => {}
            }
        }
    }
    // On a terminal, one line that follows the build: how many crates so far, and the last.
    let terminal = std::io::stderr().is_terminal();
    for (manifest, name) in workspaces {
        let heading = format!(
            "plugspec: building fixture workspace {name} ({}) … ",
            shown(manifest).display()
        );
        eprint!("{heading}");
        let started = Instant::now();
        let mut compiled = 0usize;
        let built = cargo::build_workspace_with_progress(
            manifest,
            &root.join(name),
            &mut |krate, fresh| {
                if terminal && !fresh {
                    compiled += 1;
                    eprint!(
                        "\r\x1b[K{heading}{} compiled, now {krate} ({:.0} s)",
                        plural(compiled, "crate"),
                        started.elapsed().as_secs_f64()
                    );
                }
            },
        );
        if terminal && compiled > 0 {
            eprint!("\r\x1b[K{heading}");
        }
        let secs = started.elapsed().as_secs_f64();
        match built {
            Ok(b) if b.fresh => eprintln!("up to date ({secs:.2} s)"),
            Ok(_) => eprintln!("built in {secs:.1} s"),
            Err(e) => eprintln!("FAILED after {secs:.1} s\n{e}"),
        }
    }
    if c_sources.is_empty() {
        return;
    }
    let Some(cc) = cargo::c_compiler() else {
        return;
    };
    eprint!(
        "plugspec: compiling the C fixtures ({}) with {} … ",
        c_sources
            .keys()
            .map(|s| shown(s).display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        cc.display()
    );
    let started = Instant::now();
    let failures: Vec<String> = c_sources
        .keys()
        .filter_map(|source| cargo::build_c(&cc, source, &root.join("c")).err())
        .collect();
    let secs = started.elapsed().as_secs_f64();
    if failures.is_empty() {
        eprintln!("done ({secs:.2} s)");
    } else {
        eprintln!("FAILED after {secs:.1} s\n{}", failures.join("\n"));
    }
}

/// A path as short as it can be shown: resolved, relative to the current directory when inside.
fn shown(path: &Path) -> PathBuf {
    let resolved = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    std::env::current_dir()
        .ok()
        .and_then(|cwd| resolved.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or(resolved)
}

pub fn list(args: &ListArgs) -> ExitCode {
    let (_, suite, _) = match load(&args.dirs) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let chosen = match select(&suite, &args.selection, None, false) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("plugspec: {e}");
            return ExitCode::from(USAGE);
        }
    };
    for c in chosen {
        println!(
            "{:<55} {:<28} {}",
            c.trial_name(),
            c.rules.join(","),
            c.title
        );
    }
    ExitCode::SUCCESS
}

pub fn rules(args: &DirArgs) -> ExitCode {
    let (_, suite, cases_dir) = match load(args) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let coverage = match coverage::Coverage::load(&cases_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("plugspec: {e}");
            return ExitCode::from(USAGE);
        }
    };
    for (rule, cases) in coverage::cases_by_rule(&suite) {
        let covered = if cases.is_empty() {
            match coverage.elsewhere.get(rule.id) {
                Some(e) => format!("checked by {}", e.checked_by),
                None => "no case".to_string(),
            }
        } else {
            cases.join(",")
        };
        println!(
            "{:<10} {:<7} {:>9}  {:<58} {covered}",
            rule.id,
            rule.level.as_str(),
            plural(cases.len(), "case"),
            rule.title
        );
    }
    ExitCode::SUCCESS
}
