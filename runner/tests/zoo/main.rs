//! The suite can fail: run it against every mutant of the zoo ([`mutants::ZOO`]) and against the
//! unbroken reference loader, and require that
//!
//! * the reference loader passes every case, and
//! * every mutant fails at least one case tagged with the rule it breaks.
//!
//! Each run is this binary re-executed with `PLUGSPEC_ZOO_RUN` set: a harness run (whose cases
//! run in their own children as usual) against the loader named by [`mutants::MUTANT_ENV`],
//! writing its JSON report; this parent reads the reports. The reference loader runs every case;
//! a mutant runs only the cases tagged with the rule it breaks (the ones that must catch it),
//! which keeps the zoo quick. Prints the
//! mutant × rule table as Markdown (also written to `<target>/tmp/plugspec-zoo.md`). One trial
//! per loader (`zoo/reference`, `zoo/<mutant>`), so a filter (`-- zoo/lazy-init`), `--list` and
//! nextest work;
//! `PLUGSPEC_ZOO_ONLY=name[,name]` also limits it to some mutants.
//!
//! A slow test (`spec/tests/support/slow.rs`): each trial is a run of the suite; ignored unless
//! `PLUGSPEC_SLOW_TESTS=1` or under CI (`PLUGSPEC_SLOW_TESTS=1 cargo test -p plugspec-runner
//! --test zoo` runs it alone).

mod mutants;
#[path = "../../../spec/tests/support/slow.rs"]
mod slow;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Trial};

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
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    command
        .env(RUN_ENV, "1")
        // The run is a whole suite of its own, not one nextest trial.
        .env_remove("NEXTEST_BINARY_ID")
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

/// Runs the suite against the reference loader: it must pass every case.
fn check_reference(dir: &Path) -> Result<String, String> {
    let started = Instant::now();
    let reference = run_suite(None, dir)?;
    let failed = failures(&reference);
    let passed = reference
        .cases
        .iter()
        .filter(|c| matches!(c.status, Status::Pass))
        .count();
    let line = format!(
        "reference loader         {passed} cases pass, {} fail ({:.1} s)",
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        Ok(line)
    } else {
        Err(format!(
            "{line}\nthe reference loader fails {:?}",
            failed.iter().map(|(id, _)| id).collect::<Vec<_>>()
        ))
    }
}

/// Runs the suite against one mutant: a case tagged with the rule it breaks must fail.
fn check_mutant(name: &'static str, rule: &'static str, dir: &Path) -> Result<Outcome, String> {
    let t = Instant::now();
    let report = run_suite(Some(name), dir)?;
    let outcome = Outcome {
        name,
        rule,
        failed: failures(&report),
        seconds: t.elapsed().as_secs_f64(),
    };
    if outcome.catching().is_empty() {
        return Err(format!(
            "mutant {name} (breaks {rule}) survives: no case tagged {rule} fails (failing: {:?})",
            outcome.failed.iter().map(|(id, _)| id).collect::<Vec<_>>()
        ));
    }
    Ok(outcome)
}

fn main() {
    if plugspec_runner::child::is_child() {
        Harness::<ZooLoader>::new().run();
    }
    if std::env::var_os(RUN_ENV).is_some() {
        // A mutant runs only against the cases of the rule it breaks: those are the ones that
        // must catch it, and the whole suite per mutant would make the zoo slow.
        let rule = std::env::var(MUTANT_ENV)
            .ok()
            .and_then(|m| ZOO.iter().find(|(n, _, _)| *n == m).map(|(_, _, r)| *r));
        let mut harness = Harness::<ZooLoader>::new();
        if let Some(rule) = rule {
            harness = harness.only_rules([rule]);
        }
        harness
            .without_snapshots()
            // A mutant that hangs is caught by the time limit; keep it short here.
            .timeout(Duration::from_secs(5))
            .run();
    }
    // One trial per loader, so `--list`, `--exact`, filters and nextest work; each trial is a
    // run of the suite. As many at a time as there are cores (libtest's default, and nextest's):
    // a mutant's run has only the cases of its rule, mostly process start-up and cargo's no-op
    // check of the fixtures, and one run at a time left cores idle (on two cores the zoo took
    // 13.5 s one at a time, 7.6 s two at a time).
    let args = Arguments::from_args();
    let loads = plugspec::platform::current().loads_plugins;
    let only: Option<Vec<String>> = std::env::var("PLUGSPEC_ZOO_ONLY")
        .ok()
        .map(|v| v.split(',').map(str::to_string).collect());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("plugspec-zoo-{}", std::process::id()));
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let started = Instant::now();
    let not_here = "this platform does not load plugins: nothing to mutate";
    let slow = &format!("one run of the suite, {} in the zoo", ZOO.len() + 1);
    let mut trials = vec![{
        let dir = dir.clone();
        slow::trial(
            Trial::test("zoo/reference", move || {
                let line = check_reference(&dir)?;
                println!("{line}");
                Ok(())
            })
            .with_ignored_flag(!loads),
            slow,
        )
    }];
    for (name, _, rule) in ZOO {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
            continue;
        }
        let (dir, outcomes) = (dir.clone(), outcomes.clone());
        trials.push(slow::trial(
            Trial::test(format!("zoo/{name}"), move || {
                let outcome = check_mutant(name, rule, &dir)?;
                println!(
                    "{name:<24} breaks {rule:<9} caught by {:?} ({} failing {}, {:.1} s)",
                    outcome.catching(),
                    outcome.failed.len(),
                    if outcome.failed.len() == 1 {
                        "case"
                    } else {
                        "cases"
                    },
                    outcome.seconds
                );
                outcomes
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(outcome);
                Ok(())
            })
            .with_ignored_flag(!loads || !mutants::breaks_here(name)),
            slow,
        ));
    }
    if !loads && !args.list {
        println!("zoo: {not_here}");
    }
    let conclusion = libtest_mimic::run(&args, trials);
    let mut outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|e| e.into_inner()));
    if outcomes.len() > 1 {
        // In ZOO's order, whatever order the trials finished in.
        outcomes.sort_by_key(|o| ZOO.iter().position(|(n, _, _)| *n == o.name));
        let table = markdown(&outcomes);
        println!("\n{table}");
        let _ = std::fs::write(dir.with_file_name("plugspec-zoo.md"), &table);
        println!("zoo: {:.1} s in all", started.elapsed().as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&dir);
    conclusion.exit()
}

/// The mutant × rule table: one row per mutant, one column per rule any mutant breaks; a cell
/// lists the cases tagged with that rule that failed against the mutant (a mutant runs only the
/// cases of its own rule, so other columns show cases tagged with both).
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
