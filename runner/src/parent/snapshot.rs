//! The observed transcript of a case, and its insta snapshot.
//!
//! The transcript lists each step as the case wrote it and what was observed — outcome, error
//! kind and message, value, identity — with machine-specific text normalised
//! ([`crate::parent::normalize`]) and durations left out, so it is stable from run to run. It is the
//! only place message text is recorded: cases match on error kinds.
//!
//! Snapshots are named after the case (`OPN-0003-byte-copy-already-loaded.snap`) and live in
//! `<CARGO_MANIFEST_DIR>/tests/snapshots/plugspec/` of the crate under test, one set for every
//! operating system: the normaliser hides what the system words or names its own way (the
//! library extension, the dynamic loader's message), so a transcript recorded on Linux is
//! compared on macOS and Windows too. (The directory is read at run time; cargo sets `CARGO_MANIFEST_DIR` for test binaries; the
//! current directory otherwise.)
//!
//! A snapshot never decides a verdict: [`compare`] gives a [`SnapshotOutcome`] of its own
//! (`matched`, `new`, `changed`), reported beside the case's outcome. It prints nothing and
//! follows insta's conventions for what it writes ([`update_for`]): outside CI a new or changed
//! transcript is written as `<name>.snap.new` for `cargo insta review`, and the run's exit
//! status follows the conformance verdict alone; under CI nothing is written and a new or
//! changed snapshot makes the run fail ([`differences_fail_run`]), while the report still shows
//! every case's and rule's true outcome. `INSTA_UPDATE=always` accepts them, `INSTA_UPDATE=no`
//! writes nothing, `INSTA_FORCE_PASS=1` never fails the run.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::case::{Case, Expect, Op};
use crate::parent::normalize::Normalizer;
use crate::parent::run::ChildRun;
use crate::protocol::{Observation, ObservedError};

/// The default snapshot directory: `<CARGO_MANIFEST_DIR or .>/tests/snapshots/plugspec`, one
/// set for every operating system.
pub fn default_dir() -> PathBuf {
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."));
    // One set for every operating system: the normaliser hides the OS's own wording.
    base.join("tests").join("snapshots").join("plugspec")
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

/// A compact description of an op: `open fixture=basic as=p1` (its [`Display`](std::fmt::Display)).
pub fn describe(op: &Op) -> String {
    op.to_string()
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
        let lookup = match &case.steps[i].expect {
            Expect::Lookup(x) => Some(x),
            _ => None,
        };
        if lookup.is_some_and(|x| x.size.is_some() || x.align.is_some()) {
            let n = |v: Option<usize>| v.map_or("?".to_string(), |v| v.to_string());
            let _ = write!(s, " (size {}, align {})", n(sym.size), n(sym.align));
        }
        if !sym.same_address_as.is_empty() {
            let _ = write!(s, " (same address as {})", sym.same_address_as.join(", "));
        }
        lines.push(s);
        if lookup.is_some_and(|x| x.allocations.is_some())
            && let Some(a) = o.allocations
        {
            lines.push(format!("allocations: {a}"));
        }
    }
    if let Some(v) = o.value {
        let at_least = match &case.steps[i].expect {
            Expect::Value(x) => x.at_least,
            _ => None,
        };
        match at_least {
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

/// What comparing a transcript with its stored snapshot found. Never part of a case's verdict:
/// the judge alone decides conformance; this says whether the *messages and values* recorded
/// for review are the same as last time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SnapshotOutcome {
    /// The transcript is the stored snapshot.
    Matched,
    /// No snapshot is stored for this case yet.
    New,
    /// The stored snapshot differs from the transcript.
    Changed,
    /// Not compared: snapshots are off, or the case did not run.
    NotCompared,
}

impl SnapshotOutcome {
    /// The word the text report uses.
    pub fn word(self) -> &'static str {
        match self {
            SnapshotOutcome::Matched => "matched",
            SnapshotOutcome::New => "new",
            SnapshotOutcome::Changed => "changed",
            SnapshotOutcome::NotCompared => "not compared",
        }
    }

    /// Whether the transcript differs from (or is missing in) the stored snapshots.
    pub fn differs(self) -> bool {
        matches!(self, SnapshotOutcome::New | SnapshotOutcome::Changed)
    }
}

/// What is written when a transcript differs from its snapshot, following insta's
/// `INSTA_UPDATE` (`auto` unless set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Write `<name>.snap.new` beside the snapshot, for `cargo insta review` (`INSTA_UPDATE=new`,
    /// and `auto` outside CI).
    Pending,
    /// Write `<name>.snap` itself (`INSTA_UPDATE=always` or `force`; `unseen` for new ones).
    Accept,
    /// Write nothing (`INSTA_UPDATE=no`, and `auto` under CI).
    Nothing,
}

/// Whether this is a CI run, as insta decides it: `CI` set to anything but `false`, `0` or
/// empty, or `TF_BUILD` set.
pub fn is_ci() -> bool {
    match std::env::var("CI").ok().as_deref() {
        Some("false") | Some("0") | Some("") => false,
        None => std::env::var_os("TF_BUILD").is_some(),
        Some(_) => true,
    }
}

/// What to write for a snapshot with this `outcome`, from `$INSTA_UPDATE` and [`is_ci`].
pub fn update_for(outcome: SnapshotOutcome) -> Update {
    match std::env::var("INSTA_UPDATE").ok().as_deref() {
        Some("always") | Some("force") => Update::Accept,
        Some("unseen") if outcome == SnapshotOutcome::New => Update::Accept,
        Some("unseen") | Some("new") => Update::Pending,
        Some("no") => Update::Nothing,
        _ if is_ci() => Update::Nothing,
        _ => Update::Pending,
    }
}

/// Whether a transcript that differs from its snapshot fails the run: under CI, unless it was
/// accepted (`INSTA_UPDATE=always`) or `INSTA_FORCE_PASS=1` — insta's convention. Without CI the
/// run's exit status follows the conformance verdict alone.
pub fn differences_fail_run(update: Update) -> bool {
    is_ci() && update != Update::Accept && std::env::var("INSTA_FORCE_PASS").as_deref() != Ok("1")
}

/// The result of comparing one transcript with its snapshot.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// What was found.
    pub outcome: SnapshotOutcome,
    /// The snapshot file (`<dir>/<name>.snap`).
    pub file: PathBuf,
    /// What was written: the pending `.snap.new`, or the `.snap` itself when accepted.
    pub written: Option<PathBuf>,
    /// What [`update_for`] chose.
    pub update: Update,
    /// A unified diff, stored snapshot → transcript (for a changed snapshot).
    pub diff: Option<String>,
}

/// The header every snapshot file starts with (insta's file format; the `source` is this
/// module, which renders the transcript, at the path it had when snapshots were first stored:
/// kept, so that every stored snapshot, the suite's and implementers', stays byte-identical).
const HEADER: &str = "---\nsource: runner/src/snapshot.rs\n---\n";

/// Compares `text` with the snapshot `name` in `dir`, writing what `$INSTA_UPDATE` asks for
/// when they differ. Prints nothing and never panics; `Err` says which file could not be
/// read or written.
pub fn compare(name: &str, text: &str, dir: &Path) -> Result<Comparison, String> {
    use insta::internals::TextSnapshotContents;
    let file = dir.join(format!("{name}.snap"));
    let new = TextSnapshotContents::new(text.to_string(), insta::TextSnapshotKind::File);
    let (outcome, old) = if file.exists() {
        let stored = insta::Snapshot::from_file(&file).map_err(|e| {
            format!(
                "cannot read the snapshot {}: {e}",
                plugspec::error::escaped(&file)
            )
        })?;
        let old = stored.as_text().cloned().ok_or_else(|| {
            format!(
                "the snapshot {} is not a text snapshot",
                plugspec::error::escaped(&file)
            )
        })?;
        if old.matches_latest(&new) {
            (SnapshotOutcome::Matched, Some(old))
        } else {
            (SnapshotOutcome::Changed, Some(old))
        }
    } else {
        (SnapshotOutcome::New, None)
    };
    let pending = file.with_extension("snap.new");
    let mut comparison = Comparison {
        outcome,
        file: file.clone(),
        written: None,
        update: Update::Nothing,
        diff: None,
    };
    if outcome == SnapshotOutcome::Matched {
        // A pending file left from an earlier run is stale now.
        let _ = std::fs::remove_file(&pending);
        return Ok(comparison);
    }
    let new_text = new.to_string();
    comparison.diff = old.map(|old| {
        similar::TextDiff::from_lines(&format!("{old}\n"), &format!("{new_text}\n"))
            .unified_diff()
            .context_radius(2)
            .header(
                &format!("{name}.snap (stored)"),
                &format!("{name} (this run)"),
            )
            .to_string()
    });
    comparison.update = update_for(outcome);
    let target = match comparison.update {
        Update::Nothing => return Ok(comparison),
        Update::Pending => pending,
        Update::Accept => {
            let _ = std::fs::remove_file(&pending);
            file
        }
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create {}: {e}", plugspec::error::escaped(dir)))?;
    std::fs::write(&target, format!("{HEADER}{new_text}\n"))
        .map_err(|e| format!("cannot write {}: {e}", plugspec::error::escaped(&target)))?;
    comparison.written = Some(target);
    Ok(comparison)
}
