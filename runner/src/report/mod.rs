//! The report of a run: per case and per rule, with totals, rendered as text (printed after a
//! run), JSON (for a comparison matrix across implementations) and Markdown (for a CI job
//! summary).
//!
//! Write the files with `plugspec test --json FILE --markdown FILE`, or from an implementer's
//! harness with [`Harness::json_report`](crate::Harness::json_report) /
//! [`Harness::markdown_report`](crate::Harness::markdown_report) or the environment variables
//! `PLUGSPEC_REPORT_JSON=FILE` / `PLUGSPEC_REPORT_MD=FILE`.
//!
//! ## The JSON report, schema version 3
//!
//! The structure is exactly what `runner/report.schema.json` (JSON Schema 2020-12) describes
//! for [`SCHEMA_VERSION`]; [`Report`] reads it back with serde. Any change to it — a field
//! added, removed, renamed or retyped, a new outcome value — increments `schema_version`, so a
//! consumer that checks the number can rely on every field below. Object keys appear in the
//! order listed; absent values are `null`, never left out.
//!
//! | field | type | meaning |
//! |---|---|---|
//! | `schema_version` | integer | [`SCHEMA_VERSION`] (3) |
//! | `suite_version` | string | version of the conformance suite (the `plugspec-runner` crate) |
//! | `spec_version` | string | version of SPEC.md the rules come from ([`plugspec::rules::SPEC_VERSION`]) |
//! | `protocol_version` | integer | version of the parent↔child protocol ([`crate::protocol::PROTOCOL_VERSION`]) |
//! | `implementation` | string | the loader under test: its Rust type name unless the harness was given a name; for another driver, the loader its `hello` names, with its version (`Go go1.19.8 plugin (linux/amd64)`) |
//! | `platform` | object | where it ran: `target` (triple), `os` and `arch` (as Rust's `std::env::consts`), `loads_plugins` (bool) |
//! | `totals` | object | counts over all cases: `cases`, `pass`, `fail`, `ignored`, `not_applicable`, `known_failure`, `not_run` |
//! | `snapshots` | object | how transcripts compared with the stored snapshots (below); never part of a verdict |
//! | `cases` | array | one object per case of the suite, in trial order (below) |
//! | `rules` | array | one object per rule of SPEC.md, in catalogue order (below) |
//! | `uncovered` | array of strings | MUST/SHOULD rule IDs that no case checks and nothing else accounts for |
//!
//! A **case**: `id` (`OPN-0001`), `trial` (`open/OPN-0001-open-and-call`), `area` (`open`),
//! `title`, `rules` (rule IDs), `outcome` (`pass`, `fail`, `ignored`, `not_applicable` — the
//! driver lacks a capability the case needs, or its fixture kit lacks a fixture; never a pass —,
//! `known_failure` or `not_run` — filtered out or never started), `message` (string or `null`:
//! why it failed, why it was ignored or is not applicable, the known failure's reason; `null` for `pass` and `not_run`), `link` (string
//! or `null`: the known failure's link), `duration_ms` (wall time of all its runs) and `runs`
//! (how many child processes ran it), `snapshot` (`matched`, `new`, `changed` or `not_compared`:
//! how its transcript compared with the stored snapshot — a separate outcome that never turns
//! a case or a rule into `fail`).
//!
//! **Snapshots**: `compared` (bool), `why_not` (string or `null`: why they were not compared),
//! `dir` (string or `null`: the snapshot directory), `matched`, `new`, `changed` (counts of
//! cases), `written` (`pending` — `.snap.new` files for `cargo insta review`; `accepted` — the
//! `.snap` files themselves, `INSTA_UPDATE=always`; or `none`) and `fail_run` (bool: whether
//! the differences make the run exit non-zero, as they do under CI).
//!
//! A **rule**: `id` (`OPEN-2`), `level` (`MUST`, `SHOULD`, `MAY` or `RETIRED`), `title`,
//! `cases` (IDs of the cases checking it), `outcome` (see [`RuleOutcome`]: `fail` if any of its
//! cases failed, else `known_failure` if any is a known failure, else `pass` if any passed, else
//! `ignored`, `not_applicable`, `not_run`, or — without cases — `checked_elsewhere` or
//! `no_case`), `counts` (the same counts as `totals`, over its cases), `checked_elsewhere`
//! (string or `null`: what checks a rule no case can check, from `conformance/coverage.toml`)
//! and `clauses` (the rule's SPEC.md clauses, such as `VER-4.b`, each with `id`, `text`,
//! `cases` naming it and `checked_elsewhere`; empty for a rule that is one clause).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::case::Suite;
use crate::coverage::{self, Coverage};
use crate::parent::snapshot::SnapshotOutcome;

mod case;
mod markdown;
mod rules;
mod text;

pub use case::{CaseResult, Outcome, Status};
pub use rules::{ClauseRow, Counts, RuleOutcome, RuleRow};

/// The version of the JSON report's structure (the `schema_version` field).
pub const SCHEMA_VERSION: u32 = 3;

/// Where the run happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlatformInfo {
    /// The target triple (`x86_64-unknown-linux-gnu`).
    pub target: String,
    /// The operating system, as `std::env::consts::OS` (`linux`, `macos`, `windows`).
    pub os: String,
    /// The architecture, as `std::env::consts::ARCH` (`x86_64`, `aarch64`).
    pub arch: String,
    /// Whether plugins load here (elsewhere every case that loads is ignored).
    pub loads_plugins: bool,
}

impl PlatformInfo {
    /// The platform this process runs on.
    pub fn current() -> PlatformInfo {
        let p = plugspec::platform::current();
        PlatformInfo {
            target: p.target.to_string(),
            os: std::env::consts::OS.to_string(),
            arch: std::env::consts::ARCH.to_string(),
            loads_plugins: p.loads_plugins,
        }
    }
}

/// What a run's snapshot comparison wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Written {
    /// `.snap.new` files beside the snapshots, for `cargo insta review`.
    Pending,
    /// The `.snap` files themselves (`INSTA_UPDATE=always`).
    Accepted,
    /// Nothing (everything matched, or CI, or `INSTA_UPDATE=no`).
    None,
}

/// How the run's transcripts compared with the stored snapshots: apart from every verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshots {
    /// Whether transcripts were compared at all.
    pub compared: bool,
    /// Why they were not compared.
    pub why_not: Option<String>,
    /// The snapshot directory.
    pub dir: Option<String>,
    /// Cases whose transcript matched.
    pub matched: u32,
    /// Cases without a stored snapshot.
    pub new: u32,
    /// Cases whose stored snapshot differs.
    pub changed: u32,
    /// What was written for the new and changed ones.
    pub written: Written,
    /// Whether the differences make the run exit non-zero (under CI, insta's convention).
    pub fail_run: bool,
}

impl Snapshots {
    /// Snapshots not compared, and why.
    pub fn off(why: impl Into<String>) -> Snapshots {
        Snapshots {
            compared: false,
            why_not: Some(why.into()),
            dir: None,
            matched: 0,
            new: 0,
            changed: 0,
            written: Written::None,
            fail_run: false,
        }
    }

    /// Counts the cases' snapshot outcomes into `self`.
    fn count(&mut self, cases: &[CaseResult]) {
        for c in cases {
            match c.snapshot {
                SnapshotOutcome::Matched => self.matched += 1,
                SnapshotOutcome::New => self.new += 1,
                SnapshotOutcome::Changed => self.changed += 1,
                SnapshotOutcome::NotCompared => {}
            }
        }
    }

    /// One line: `snapshots: 3 new, 1 changed, 110 matched (pending …)`.
    pub fn line(&self) -> String {
        if !self.compared {
            return format!(
                "snapshots: not compared ({})",
                self.why_not.as_deref().unwrap_or("off")
            );
        }
        let mut line = format!(
            "snapshots: {} matched, {} new, {} changed",
            self.matched, self.new, self.changed
        );
        if self.new + self.changed > 0 {
            line.push_str(match self.written {
                Written::Pending => " — written as .snap.new for `cargo insta review`",
                Written::Accepted => " — accepted (INSTA_UPDATE)",
                Written::None => " — nothing written",
            });
            if self.fail_run {
                line.push_str("; under CI this fails the run");
            }
            line.push_str(" (never a conformance failure)");
        }
        line
    }
}

/// A run's report; its JSON form is described in the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The version of the conformance suite (this crate).
    pub suite_version: String,
    /// The spec version the rules come from.
    pub spec_version: String,
    /// The protocol version.
    pub protocol_version: u32,
    /// The loader under test.
    pub implementation: String,
    /// Where it ran.
    pub platform: PlatformInfo,
    /// Totals over cases.
    pub totals: Counts,
    /// How transcripts compared with the stored snapshots.
    pub snapshots: Snapshots,
    /// Every case, in trial order.
    pub cases: Vec<CaseResult>,
    /// Every rule, in catalogue order.
    pub rules: Vec<RuleRow>,
    /// MUST/SHOULD rules that no case checks and nothing else accounts for.
    pub uncovered: Vec<String>,
}

impl Report {
    /// Builds the report from the results of the cases that ran (the others are `not run`).
    pub fn build(
        suite: &Suite,
        coverage: &Coverage,
        results: &[CaseResult],
        implementation: &str,
        mut snapshots: Snapshots,
    ) -> Report {
        let cases: Vec<CaseResult> = suite
            .cases
            .iter()
            .map(|c| {
                results
                    .iter()
                    .find(|r| r.id == c.id)
                    .cloned()
                    .unwrap_or_else(|| CaseResult {
                        id: c.id.clone(),
                        trial: c.trial_name(),
                        area: c.area.clone(),
                        title: c.title.clone(),
                        rules: c.rules.clone(),
                        status: Status::NotRun,
                        duration_ms: 0,
                        runs: 0,
                        snapshot: SnapshotOutcome::NotCompared,
                    })
            })
            .collect();
        let mut totals = Counts::default();
        for c in &cases {
            totals.add(&c.status);
        }
        snapshots.count(&cases);
        let rules = coverage::cases_by_rule(suite)
            .into_iter()
            .map(|(r, ids)| {
                let mut counts = Counts::default();
                for c in cases.iter().filter(|c| ids.contains(&c.id)) {
                    counts.add(&c.status);
                }
                let checked_elsewhere = coverage.elsewhere.get(r.id).map(|e| e.checked_by.clone());
                let clauses = plugspec::rules::clauses_of(r.id)
                    .into_iter()
                    .map(|cl| ClauseRow {
                        id: cl.id.to_string(),
                        text: cl.text.to_string(),
                        cases: suite
                            .cases
                            .iter()
                            .filter(|c| c.clauses.iter().any(|id| id == cl.id))
                            .map(|c| c.id.clone())
                            .collect(),
                        checked_elsewhere: coverage
                            .elsewhere_clauses
                            .get(cl.id)
                            .map(|e| e.checked_by.clone()),
                    })
                    .collect();
                RuleRow {
                    id: r.id.to_string(),
                    level: r.level.as_str().to_string(),
                    title: r.title.to_string(),
                    cases: ids,
                    outcome: RuleOutcome::of(&counts, checked_elsewhere.is_some()),
                    counts,
                    checked_elsewhere,
                    clauses,
                }
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            suite_version: env!("CARGO_PKG_VERSION").to_string(),
            spec_version: plugspec::rules::SPEC_VERSION.to_string(),
            protocol_version: crate::protocol::PROTOCOL_VERSION,
            implementation: implementation.to_string(),
            platform: PlatformInfo::current(),
            totals,
            snapshots,
            cases,
            rules,
            uncovered: coverage::uncovered(suite, coverage)
                .into_iter()
                .map(|r| r.id.to_string())
                .collect(),
        }
    }

    /// Reads a JSON report back (checking the schema version).
    ///
    /// ```
    /// use plugspec_runner::Report;
    ///
    /// let error = Report::from_json(r#"{"schema_version": 99}"#).unwrap_err();
    /// assert_eq!(error, "report schema version 99; this runner reads 3");
    /// assert!(Report::from_json("[]").is_err());
    /// ```
    pub fn from_json(text: &str) -> Result<Report, String> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        match value.get("schema_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(SCHEMA_VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "report schema version {v}; this runner reads {SCHEMA_VERSION}"
                ));
            }
            None => return Err("no schema_version: not a plugspec report".to_string()),
        }
        serde_json::from_value(value).map_err(|e| format!("not a plugspec report: {e}"))
    }

    /// The JSON rendering (pretty-printed, with a final newline).
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            // Every field is a string, number, bool or list of them: this cannot fail.
            format!("{{\"error\": \"cannot serialise the report: {e}\"}}")
        });
        text.push('\n');
        text
    }

    /// Writes [`Report::json`] to `path`.
    pub fn write_json(&self, path: &Path) -> Result<(), String> {
        write(path, &self.json())
    }

    /// Writes [`Report::markdown`] to `path`.
    pub fn write_markdown(&self, path: &Path) -> Result<(), String> {
        write(path, &self.markdown())
    }

    /// The cases whose transcript is new or changed.
    pub fn differing_snapshots(&self) -> Vec<&CaseResult> {
        self.cases.iter().filter(|c| c.snapshot.differs()).collect()
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", plugspec::error::escaped(dir)))?;
    }
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write {}: {e}", plugspec::error::escaped(path)))
}
