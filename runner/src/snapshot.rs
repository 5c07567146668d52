//! The observed transcript of a case, and its insta snapshot.
//!
//! The transcript lists each step as the case wrote it and what was observed — outcome, error
//! kind and message, value, identity — with machine-specific text normalised
//! ([`crate::normalize`]) and durations left out, so it is stable from run to run. It is the
//! only place message text is recorded: cases match on error kinds.
//!
//! Snapshots are named after the case (`OPN-0003-byte-copy-already-loaded.snap`) and live in
//! `<CARGO_MANIFEST_DIR>/tests/snapshots/plugspec/<os>/` of the crate under test, one directory
//! per operating system (`linux`, `macos`, `freebsd`, `windows`, …): the operating system's
//! loader words its refusals differently and libraries are named differently, so a transcript is
//! only comparable with one recorded on the same system. (The directory is read at run time;
//! cargo sets `CARGO_MANIFEST_DIR` for test binaries; the current directory otherwise.) Review
//! them with `cargo insta review`; with `CI=true` a missing or changed snapshot fails the case.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::case::{Case, Op};
use crate::normalize::Normalizer;
use crate::protocol::{Observation, ObservedError};
use crate::run::ChildRun;

/// The default snapshot directory: `<CARGO_MANIFEST_DIR or .>/tests/snapshots/plugspec/<os>`,
/// where `<os>` is this platform's [`OsFamily`](plugspec::platform::OsFamily) name.
pub fn default_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("tests")
        .join("snapshots")
        .join("plugspec")
        .join(plugspec::platform::current().os.as_str())
}

/// One step of a transcript.
#[derive(Debug, Clone, Serialize)]
pub struct TranscriptStep {
    /// The step as the case wrote it.
    pub step: String,
    /// What was observed, normalised.
    pub outcome: Vec<String>,
}

/// The normalised record of one run of a case.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    /// Case ID.
    pub id: String,
    /// Case title.
    pub title: String,
    /// Rules checked.
    pub rules: Vec<String>,
    /// Steps and outcomes.
    pub steps: Vec<TranscriptStep>,
    /// A problem on the child's side, normalised.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A compact description of an op: `open fixture=basic as=p1`.
pub fn describe(op: &Op) -> String {
    let mut out = op.name().to_string();
    if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(op) {
        for (k, v) in map {
            if k == "op" {
                continue;
            }
            let v = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            let _ = write!(out, " {k}={}", crate::normalize::escape_controls(&v));
        }
    }
    out
}

fn error_line(n: &Normalizer, e: &ObservedError) -> String {
    format!(
        "error {}{}: {}",
        e.kind,
        if e.previous_failure { " (cached)" } else { "" },
        n.apply(&e.message)
    )
}

fn outcome(case: &Case, i: usize, o: &Observation, n: &Normalizer) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(p) = &o.panic {
        lines.push(format!("PANIC: {}", n.apply(p)));
        return lines;
    }
    if let Some(h) = &o.harness_error {
        lines.push(format!("HARNESS ERROR: {}", n.apply(h)));
        return lines;
    }
    if let Some(threads) = &o.threads {
        let ok = threads.iter().filter(|t| t.error.is_none()).count();
        let same = threads.iter().filter(|t| t.same_as_first).count();
        let mut s = format!(
            "{} threads: {ok} ok, {same} with the first one's plugin",
            threads.len()
        );
        let mut kinds: Vec<&str> = threads
            .iter()
            .filter_map(|t| t.error.as_ref().map(|e| e.kind.as_str()))
            .collect();
        kinds.sort();
        kinds.dedup();
        for k in kinds {
            let c = threads
                .iter()
                .filter(|t| t.error.as_ref().is_some_and(|e| e.kind == k))
                .count();
            let _ = write!(s, ", {c} error {k}");
        }
        let mut reads: Vec<i32> = threads.iter().filter_map(|t| t.read).collect();
        if !reads.is_empty() {
            reads.sort();
            reads.dedup();
            let _ = write!(
                s,
                ", read after open: {}",
                reads
                    .iter()
                    .map(|r| format!(
                        "{r} ×{}",
                        threads.iter().filter(|t| t.read == Some(*r)).count()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        lines.push(s);
    }
    if let Some(e) = &o.error {
        lines.push(error_line(n, e));
    } else if let Some(id) = &o.identity {
        let mut s = format!("ok: plugin {id}");
        if !o.identical_to.is_empty() {
            let _ = write!(s, " (== {})", o.identical_to.join(", "));
        }
        lines.push(s);
    }
    if let Some(sym) = &o.symbol {
        let mut s = format!("ok: {} {}", sym.kind, sym.rust_type);
        if !sym.same_address_as.is_empty() {
            let _ = write!(s, " (same address as {})", sym.same_address_as.join(", "));
        }
        lines.push(s);
        if case.steps[i].expect.allocations.is_some()
            && let Some(a) = o.allocations
        {
            lines.push(format!("allocations: {a}"));
        }
    }
    if let Some(v) = o.value {
        match case.steps[i].expect.at_least {
            Some(min) if v >= min => lines.push(format!("= (at least {min})")),
            _ => lines.push(format!("= {v}")),
        }
    }
    if let Some(m) = o.mapped {
        lines.push(if m { "mapped" } else { "not mapped" }.into());
    }
    if let Some(f) = o.found {
        lines.push(
            if f {
                "found globally"
            } else {
                "not found globally"
            }
            .into(),
        );
    }
    if let Some(log) = &o.lines {
        if log.is_empty() {
            lines.push("log: (empty)".into());
        }
        for l in log {
            lines.push(format!("log: {}", n.apply(l)));
        }
    }
    if let Some(loaded) = &o.loaded {
        lines.push(format!("loaded: {}", loaded.join(", ")));
    }
    for s in o.skipped.iter().flatten() {
        lines.push(format!("skipped {}: {}", s.file, error_line(n, &s.error)));
    }
    for f in o.fingerprint.iter().flatten() {
        lines.push(format!("fingerprint: {}", n.apply(f)));
    }
    if lines.is_empty() {
        lines.push("ok".into());
    }
    lines
}

/// The transcript of one run.
pub fn transcript(
    case: &Case,
    run: &ChildRun,
    fixtures_root: &Path,
    fixtures_src: &Path,
) -> Transcript {
    let n = Normalizer::new(&run.case_dir, fixtures_root, fixtures_src);
    Transcript {
        id: case.id.clone(),
        title: case.title.clone(),
        rules: case.rules.clone(),
        steps: case
            .steps
            .iter()
            .enumerate()
            .map(|(i, step)| TranscriptStep {
                step: describe(&step.op),
                outcome: match run.observations.get(i) {
                    Some(o) => outcome(case, i, o, &n),
                    None => vec!["(not reached)".into()],
                },
            })
            .collect(),
        problem: run.problem.as_ref().map(|p| n.apply(p)),
    }
}

/// The transcript as the snapshot's text.
pub fn render(t: &Transcript) -> String {
    let mut out = format!("{} · {}\nrules: {}\n", t.id, t.title, t.rules.join(", "));
    for (i, s) in t.steps.iter().enumerate() {
        let _ = writeln!(out, "{:>2}. {}", i + 1, s.step);
        for o in &s.outcome {
            let _ = writeln!(out, "    -> {o}");
        }
    }
    if let Some(p) = &t.problem {
        let _ = writeln!(out, "problem: {p}");
    }
    out
}

/// Asserts the snapshot `name` in `dir`; `Err` carries insta's failure message.
pub fn assert(name: &str, text: &str, dir: &Path) -> Result<(), String> {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(dir);
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(name, text));
    }));
    result.map_err(|payload| {
        format!(
            "the snapshot {name} differs or is missing ({}); review with `cargo insta review`",
            plugspec::sdk::panic_message(payload.as_ref())
        )
    })
}
