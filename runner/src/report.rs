//! The report of a run: per case and per rule, with totals. The data is serialisable (serde),
//! so that JSON and Markdown renderings can be added beside the text one.

use std::fmt::Write;

use serde::Serialize;

use crate::case::Suite;
use crate::coverage::{self, Coverage};

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Every run passed.
    Pass,
    /// A run failed (or the snapshot differs, or the case is an unexpected pass).
    Fail {
        /// Why.
        message: String,
    },
    /// Not run here (platform, capability, unavailable fixture).
    Ignored {
        /// Why.
        reason: String,
    },
    /// Failed as the known-failures file says it does.
    KnownFailure {
        /// The file's reason.
        reason: String,
        /// The file's link.
        #[serde(skip_serializing_if = "Option::is_none")]
        link: Option<String>,
    },
    /// Filtered out or not run.
    NotRun,
}

impl Status {
    fn word(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail { .. } => "FAIL",
            Status::Ignored { .. } => "ignored",
            Status::KnownFailure { .. } => "known failure",
            Status::NotRun => "not run",
        }
    }
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// Case ID.
    pub id: String,
    /// Trial name.
    pub trial: String,
    /// Rules it checks.
    pub rules: Vec<String>,
    /// The outcome.
    #[serde(flatten)]
    pub status: Status,
    /// Wall time of all its runs, in milliseconds.
    pub duration_ms: u64,
    /// How many children ran.
    pub runs: u32,
}

/// Counts of case outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Passed.
    pub pass: u32,
    /// Failed.
    pub fail: u32,
    /// Ignored.
    pub ignored: u32,
    /// Known failures.
    pub known_failure: u32,
    /// Not run.
    pub not_run: u32,
}

impl Counts {
    fn add(&mut self, s: &Status) {
        match s {
            Status::Pass => self.pass += 1,
            Status::Fail { .. } => self.fail += 1,
            Status::Ignored { .. } => self.ignored += 1,
            Status::KnownFailure { .. } => self.known_failure += 1,
            Status::NotRun => self.not_run += 1,
        }
    }
}

/// One rule's row.
#[derive(Debug, Clone, Serialize)]
pub struct RuleRow {
    /// Rule ID.
    pub id: String,
    /// MUST, SHOULD, MAY, RETIRED.
    pub level: String,
    /// Title.
    pub title: String,
    /// The cases checking it.
    pub cases: Vec<String>,
    /// Outcomes of those cases.
    pub counts: Counts,
    /// Where it is checked when no case can (from `coverage.toml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_elsewhere: Option<String>,
}

/// A run's report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The spec version the rules come from.
    pub spec_version: String,
    /// The protocol version.
    pub protocol: u32,
    /// The loader under test.
    pub loader: String,
    /// The target triple.
    pub target: String,
    /// Every case, in trial order.
    pub cases: Vec<CaseResult>,
    /// Every rule, in catalogue order.
    pub rules: Vec<RuleRow>,
    /// MUST/SHOULD rules that no case checks and nothing else accounts for.
    pub uncovered: Vec<String>,
    /// Totals over cases.
    pub totals: Counts,
}

impl Report {
    /// Builds the report from the results of the cases that ran (the others are `not run`).
    pub fn build(
        suite: &Suite,
        coverage: &Coverage,
        results: &[CaseResult],
        loader: &str,
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
                        rules: c.rules.clone(),
                        status: Status::NotRun,
                        duration_ms: 0,
                        runs: 0,
                    })
            })
            .collect();
        let mut totals = Counts::default();
        for c in &cases {
            totals.add(&c.status);
        }
        let rules = coverage::cases_by_rule(suite)
            .into_iter()
            .map(|(r, ids)| {
                let mut counts = Counts::default();
                for c in cases.iter().filter(|c| ids.contains(&c.id)) {
                    counts.add(&c.status);
                }
                RuleRow {
                    id: r.id.to_string(),
                    level: r.level.as_str().to_string(),
                    title: r.title.to_string(),
                    cases: ids,
                    counts,
                    checked_elsewhere: coverage.elsewhere.get(r.id).map(|e| e.checked_by.clone()),
                }
            })
            .collect();
        Report {
            spec_version: plugspec::rules::SPEC_VERSION.to_string(),
            protocol: crate::protocol::PROTOCOL_VERSION,
            loader: loader.to_string(),
            target: plugspec::platform::current().target.to_string(),
            cases,
            rules,
            uncovered: coverage::uncovered(suite, coverage)
                .into_iter()
                .map(|r| r.id.to_string())
                .collect(),
            totals,
        }
    }

    /// The text rendering: failures first, then one line per rule, then totals.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nplugspec conformance report — spec {}, protocol {}, loader {}, target {}",
            self.spec_version, self.protocol, self.loader, self.target
        );
        let notable: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| matches!(c.status, Status::Fail { .. } | Status::KnownFailure { .. }))
            .collect();
        if !notable.is_empty() {
            let _ = writeln!(out, "\ncases:");
            for c in notable {
                let detail = match &c.status {
                    Status::Fail { message } => message.lines().next().unwrap_or("").to_string(),
                    Status::KnownFailure { reason, .. } => reason.clone(),
                    _ => String::new(),
                };
                let _ = writeln!(out, "  {:<13} {}  {}", c.status.word(), c.trial, detail);
            }
        }
        let _ = writeln!(
            out,
            "\n{:<10} {:<7} {:>5} {:>5} {:>5} {:>7} {:>6} {:>7}  title",
            "rule", "level", "cases", "pass", "fail", "ignored", "known", "not-run"
        );
        for r in &self.rules {
            let c = &r.counts;
            let _ = write!(
                out,
                "{:<10} {:<7} {:>5} {:>5} {:>5} {:>7} {:>6} {:>7}  {}",
                r.id,
                r.level,
                r.cases.len(),
                c.pass,
                c.fail,
                c.ignored,
                c.known_failure,
                c.not_run,
                r.title
            );
            if r.cases.is_empty() {
                match &r.checked_elsewhere {
                    Some(by) => {
                        let _ = write!(out, "  [no case: checked by {by}]");
                    }
                    None if r.level == "MUST" || r.level == "SHOULD" => {
                        let _ = write!(out, "  [NO CASE]");
                    }
                    None => {}
                }
            }
            let _ = writeln!(out);
        }
        if !self.uncovered.is_empty() {
            let _ = writeln!(
                out,
                "\nMUST/SHOULD rules without a case: {}",
                self.uncovered.join(", ")
            );
        }
        let t = &self.totals;
        let _ = writeln!(
            out,
            "\ncases: {} total, {} pass, {} fail, {} ignored, {} known failure, {} not run",
            self.cases.len(),
            t.pass,
            t.fail,
            t.ignored,
            t.known_failure,
            t.not_run
        );
        out
    }
}
