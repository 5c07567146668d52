//! `plugspec`: run the conformance suite against the reference loader and print the per-rule
//! report (`plugspec` or `plugspec test [FILTER]`), list the cases (`plugspec list`), or list
//! the rules with their case counts (`plugspec rules`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use plugspec::ReferenceLoader;
use plugspec_runner::{Harness, case, child, coverage, fixtures};

#[global_allocator]
static ALLOC: plugspec_runner::CountingAllocator = plugspec_runner::CountingAllocator;

#[derive(Debug, Parser)]
#[command(
    name = "plugspec",
    version,
    about = "The plugspec conformance suite, against the reference loader"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    test: TestArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the cases (the default).
    Test(TestArgs),
    /// List the cases: trial name, rules, title.
    List(DirArgs),
    /// List the rules of SPEC.md with how many cases check each.
    Rules(DirArgs),
}

#[derive(Debug, Clone, Args)]
struct DirArgs {
    /// The directory of cases.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// The directory of fixture sources.
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Args)]
struct TestArgs {
    /// Run only the cases whose trial name contains this.
    filter: Option<String>,
    /// Match the filter exactly.
    #[arg(long)]
    exact: bool,
    /// List the trials instead of running them (builds nothing, starts no child).
    #[arg(long)]
    list: bool,
    /// Do not compare transcripts with snapshots (the default outside `cargo run`).
    #[arg(long)]
    no_snapshots: bool,
    /// The known failures file.
    #[arg(long, value_name = "FILE")]
    known_failures: Option<PathBuf>,
    /// Time limit of one child, in seconds.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<f64>,
    /// How many cases run at once (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    test_threads: Option<usize>,
    /// The directory of cases.
    #[arg(long, value_name = "DIR")]
    cases: Option<PathBuf>,
    /// The directory of fixture sources.
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
}

fn main() -> ExitCode {
    if child::is_child() {
        child::main::<ReferenceLoader>();
    }
    let cli = Cli::parse();
    match cli.command {
        None => test(cli.test),
        Some(Command::Test(args)) => test(args),
        Some(Command::List(dirs)) => list(&dirs, false),
        Some(Command::Rules(dirs)) => list(&dirs, true),
    }
}

fn test(args: TestArgs) -> ExitCode {
    let mut harness = Harness::<ReferenceLoader>::new();
    if let Some(d) = &args.cases {
        harness = harness.cases(d);
    }
    if let Some(d) = &args.fixtures {
        harness = harness.fixtures(d);
    }
    if let Some(f) = &args.known_failures {
        harness = harness.known_failures(f);
    }
    if let Some(t) = args.timeout.filter(|t| *t > 0.0) {
        harness = harness.timeout(std::time::Duration::from_secs_f64(t));
    }
    if args.no_snapshots || std::env::var_os("CARGO_MANIFEST_DIR").is_none() {
        harness = harness.without_snapshots();
    }
    let mut test_args = libtest_mimic::Arguments::from_iter(["plugspec"]);
    test_args.filter = args.filter;
    test_args.exact = args.exact;
    test_args.list = args.list;
    test_args.test_threads = args.test_threads;
    test_args.quiet = true;
    let (conclusion, report) = harness.report(true).run_with(&test_args);
    if conclusion.has_failed() || report.is_some_and(|r| r.totals.fail > 0) {
        ExitCode::from(101)
    } else {
        ExitCode::SUCCESS
    }
}

fn list(dirs: &DirArgs, rules: bool) -> ExitCode {
    let cases_dir = dirs
        .cases
        .clone()
        .unwrap_or_else(plugspec_runner::harness::default_cases_dir);
    let fixtures_dir = dirs
        .fixtures
        .clone()
        .unwrap_or_else(plugspec_runner::harness::default_fixtures_dir);
    let catalog = match fixtures::Catalog::scan(&fixtures_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("plugspec: {e}");
            return ExitCode::from(2);
        }
    };
    let suite = match case::load_suite(&cases_dir, &catalog) {
        Ok(s) => s,
        Err(errors) => {
            for e in errors {
                eprintln!("plugspec: {e}");
            }
            return ExitCode::from(2);
        }
    };
    if rules {
        let coverage = coverage::Coverage::load(&cases_dir).unwrap_or_default();
        for (rule, cases) in coverage::cases_by_rule(&suite) {
            let note = match (cases.is_empty(), coverage.elsewhere.get(rule.id)) {
                (true, Some(e)) => format!("  (checked by {})", e.checked_by),
                _ => String::new(),
            };
            println!(
                "{:<10} {:<7} {:>3} cases  {}{note}",
                rule.id,
                rule.level.as_str(),
                cases.len(),
                rule.title
            );
        }
    } else {
        for c in &suite.cases {
            println!(
                "{:<55} {:<28} {}",
                c.trial_name(),
                c.rules.join(","),
                c.title
            );
        }
    }
    ExitCode::SUCCESS
}
