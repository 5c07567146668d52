//! The suite can fail: run it against every mutant of the zoo ([`mutants::ZOO`]) and against the
//! unbroken reference loader, in child processes, and require that
//!
//! * the reference loader passes every case, and
//! * every mutant fails at least one case tagged with the rule it breaks.
//!
//! Prints the mutant × rule table as Markdown (also written to
//! `<target>/plugspec-zoo.md`). Run it alone with `cargo test -p plugspec-runner --test zoo`;
//! `PLUGSPEC_ZOO_ONLY=name[,name]` limits it to some mutants.

mod mutants;

use std::time::{Duration, Instant};

use libtest_mimic::Arguments;
use plugspec_runner::Harness;
use plugspec_runner::report::{Report, Status};

use mutants::{MUTANT_ENV, ZOO, ZooLoader};

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

fn run_suite(mutant: Option<&str>) -> Report {
    // SAFETY: the parent sets this between runs, while no other thread of this process runs
    // (libtest-mimic has joined its workers); the children inherit it.
    unsafe {
        match mutant {
            Some(name) => std::env::set_var(MUTANT_ENV, name),
            None => std::env::remove_var(MUTANT_ENV),
        }
    }
    let args = Arguments {
        quiet: true,
        ..Arguments::default()
    };
    let (_, report) = Harness::<ZooLoader>::new()
        .without_snapshots()
        .report(false)
        // A mutant that hangs is caught by the time limit; keep it short here.
        .timeout(Duration::from_secs(5))
        .run_with(&args);
    report.expect("the suite ran and reported")
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
    if !plugspec::platform::current().loads_plugins {
        println!("zoo: this platform does not load plugins; nothing to mutate");
        return;
    }
    let only: Option<Vec<String>> = std::env::var("PLUGSPEC_ZOO_ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());

    let started = Instant::now();
    let reference = run_suite(None);
    let reference_failures = failures(&reference);
    let ran = reference
        .cases
        .iter()
        .filter(|c| matches!(c.status, Status::Pass))
        .count();
    println!(
        "reference loader: {ran} cases pass, {} fail ({:.1} s)",
        reference_failures.len(),
        started.elapsed().as_secs_f64()
    );

    let mut outcomes = Vec::new();
    for (name, _, rule) in ZOO {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
            continue;
        }
        let t = Instant::now();
        let report = run_suite(Some(name));
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
        outcomes.push(outcome);
    }

    let table = markdown(&outcomes);
    println!("\n{table}");
    let target = std::env::var_os("CARGO_TARGET_TMPDIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let _ = std::fs::write(target.join("plugspec-zoo.md"), &table);
    println!("zoo: {:.1} s in all", started.elapsed().as_secs_f64());

    let mut problems = Vec::new();
    if !reference_failures.is_empty() {
        problems.push(format!(
            "the reference loader fails {:?}",
            reference_failures
                .iter()
                .map(|(id, _)| id)
                .collect::<Vec<_>>()
        ));
    }
    for o in &outcomes {
        if o.catching().is_empty() {
            problems.push(format!(
                "mutant {} (breaks {}) survives: no case tagged {} fails (failing: {:?})",
                o.name,
                o.rule,
                o.rule,
                o.failed.iter().map(|(id, _)| id).collect::<Vec<_>>()
            ));
        }
    }
    if problems.is_empty() {
        println!("test result: ok. {} passed; 0 failed", outcomes.len() + 1);
    } else {
        for p in &problems {
            eprintln!("zoo: {p}");
        }
        println!(
            "test result: FAILED. {} passed; {} failed",
            outcomes.len() + 1 - problems.len(),
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
