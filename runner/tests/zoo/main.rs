//! The suite can fail: run it against every mutant of the zoo ([`mutants::ZOO`]) and against the
//! unbroken reference loader, and require that
//!
//! * the reference loader passes every case, and
//! * every mutant fails at least one case tagged with the rule it breaks.
//!
//! Each run is this binary re-executed with `PLUGSPEC_ZOO_RUN` set: a whole harness run (whose
//! cases run in their own children as usual) against the loader named by
//! [`mutants::MUTANT_ENV`], writing its JSON report; this parent reads the reports. Prints the
//! mutant × rule table as Markdown (also written to `<target>/tmp/plugspec-zoo.md`). Run it alone
//! with `cargo test -p plugspec-runner --test zoo`; `PLUGSPEC_ZOO_ONLY=name[,name]` limits it to
//! some mutants.

mod mutants;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use plugspec_runner::Harness;
use plugspec_runner::report::{Report, Status};

use mutants::{MUTANT_ENV, ZOO, ZooLoader};

/// Set in a re-executed zoo binary: run the suite once and write the report.
const RUN_ENV: &str = "PLUGSPEC_ZOO_RUN";

/// What one run of the suite against one loader found.
struct Outcome {
    name: &'static str,
    rule: &'static str,
    failed: Vec<(String, Vec<String>)>,
    seconds: f64,
}

impl Outcome {
    /// The failing cases tagged with the broken rule: the ones that catch the mutant.
    fn catching(&self) -> Vec<&str> {
        self.failed
            .iter()
            .filter(|(_, rules)| rules.iter().any(|r| r == self.rule))
            .map(|(id, _)| id.as_str())
            .collect()
    }
}

/// Runs the whole suite against `mutant` (or the reference loader) in a re-executed copy of this
/// binary, and reads its report.
fn run_suite(mutant: Option<&str>, dir: &Path) -> Result<Report, String> {
    let label = mutant.unwrap_or("reference");
    let report_path = dir.join(format!("{label}.json"));
    let mut command = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    command
        .env(RUN_ENV, "1")
        .env("PLUGSPEC_REPORT_JSON", &report_path)
        .env("PLUGSPEC_REPORT", "0")
        .env_remove(MUTANT_ENV);
    if let Some(name) = mutant {
        command.env(MUTANT_ENV, name);
    }
    let out = command
        .output()
        .map_err(|e| format!("cannot run the suite for {label}: {e}"))?;
    let text = std::fs::read_to_string(&report_path).map_err(|e| {
        format!(
            "the run for {label} wrote no report ({e}); its output:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })?;
    Report::from_json(&text)
}

fn failures(report: &Report) -> Vec<(String, Vec<String>)> {
    report
        .cases
        .iter()
        .filter(|c| matches!(c.status, Status::Fail { .. }))
        .map(|c| (c.id.clone(), c.rules.clone()))
        .collect()
}

fn main() {
    if plugspec_runner::child::is_child() {
        Harness::<ZooLoader>::new().run();
    }
    if std::env::var_os(RUN_ENV).is_some() {
        Harness::<ZooLoader>::new()
            .without_snapshots()
            // A mutant that hangs is caught by the time limit; keep it short here.
            .timeout(Duration::from_secs(5))
            .run();
    }
    if !plugspec::platform::current().loads_plugins {
        println!("zoo: this platform does not load plugins; nothing to mutate");
        println!("test result: ok. 0 passed; 0 failed");
        return;
    }
    let only: Option<Vec<String>> = std::env::var("PLUGSPEC_ZOO_ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("plugspec-zoo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory for the zoo's reports");

    let started = Instant::now();
    let mut problems = Vec::new();
    match run_suite(None, &dir) {
        Ok(reference) => {
            let failed = failures(&reference);
            let passed = reference
                .cases
                .iter()
                .filter(|c| matches!(c.status, Status::Pass))
                .count();
            println!(
                "reference loader         {passed} cases pass, {} fail ({:.1} s)",
                failed.len(),
                started.elapsed().as_secs_f64()
            );
            if !failed.is_empty() {
                problems.push(format!(
                    "the reference loader fails {:?}",
                    failed.iter().map(|(id, _)| id).collect::<Vec<_>>()
                ));
            }
        }
        Err(e) => problems.push(e),
    }

    let mut outcomes = Vec::new();
    for (name, _, rule) in ZOO {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
            continue;
        }
        let t = Instant::now();
        let report = match run_suite(Some(name), &dir) {
            Ok(report) => report,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        let outcome = Outcome {
            name,
            rule,
            failed: failures(&report),
            seconds: t.elapsed().as_secs_f64(),
        };
        println!(
            "{name:<24} breaks {rule:<9} caught by {:?} ({} failing cases, {:.1} s)",
            outcome.catching(),
            outcome.failed.len(),
            outcome.seconds
        );
        if outcome.catching().is_empty() {
            problems.push(format!(
                "mutant {name} (breaks {rule}) survives: no case tagged {rule} fails (failing: {:?})",
                outcome.failed.iter().map(|(id, _)| id).collect::<Vec<_>>()
            ));
        }
        outcomes.push(outcome);
    }

    let table = markdown(&outcomes);
    println!("\n{table}");
    let _ = std::fs::write(dir.with_file_name("plugspec-zoo.md"), &table);
    let _ = std::fs::remove_dir_all(&dir);
    println!("zoo: {:.1} s in all", started.elapsed().as_secs_f64());

    let runs = outcomes.len() + 1;
    if problems.is_empty() {
        println!("test result: ok. {runs} passed; 0 failed");
    } else {
        for p in &problems {
            eprintln!("zoo: {p}");
        }
        println!(
            "test result: FAILED. {} passed; {} failed",
            runs.saturating_sub(problems.len()),
            problems.len()
        );
        std::process::exit(101);
    }
}

/// The mutant × rule table: one row per mutant, one column per rule any mutant breaks; a cell
/// lists the cases tagged with that rule that failed against the mutant.
fn markdown(outcomes: &[Outcome]) -> String {
    let mut rules: Vec<&str> = outcomes.iter().map(|o| o.rule).collect();
    rules.sort_by_key(|r| {
        let rule = plugspec::rules::get(r);
        (
            rule.map(|r| plugspec::rules::AREAS.iter().position(|a| *a == r.area)),
            rule.map(|r| r.number()),
        )
    });
    rules.dedup();
    let mut out = String::from("| mutant | breaks | caught |");
    for r in &rules {
        out.push_str(&format!(" {r} |"));
    }
    out.push_str("\n|---|---|---|");
    for _ in &rules {
        out.push_str("---|");
    }
    out.push('\n');
    for o in outcomes {
        let caught = if o.catching().is_empty() {
            "**NO**"
        } else {
            "yes"
        };
        out.push_str(&format!("| {} | {} | {caught} |", o.name, o.rule));
        for r in &rules {
            let ids: Vec<&str> = o
                .failed
                .iter()
                .filter(|(_, rs)| rs.iter().any(|x| x == r))
                .map(|(id, _)| id.as_str())
                .collect();
            let cell = if ids.is_empty() {
                String::new()
            } else if *r == o.rule {
                format!("**{}**", ids.join(" "))
            } else {
                ids.join(" ")
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}
