//! The per-rule half of a report: outcome counts ([`Counts`]) and one row per rule
//! ([`RuleRow`], [`RuleOutcome`]) with its clauses ([`ClauseRow`]).

use super::*;

/// Counts of case outcomes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// All cases counted.
    pub cases: u32,
    /// Passed.
    pub pass: u32,
    /// Failed.
    pub fail: u32,
    /// Ignored.
    pub ignored: u32,
    /// Not applicable to the driver.
    pub not_applicable: u32,
    /// Known failures.
    pub known_failure: u32,
    /// Not run.
    pub not_run: u32,
}

impl Counts {
    pub(super) fn add(&mut self, s: &Status) {
        self.cases += 1;
        match s {
            Status::Pass => self.pass += 1,
            Status::Fail { .. } => self.fail += 1,
            Status::Ignored { .. } => self.ignored += 1,
            Status::NotApplicable { .. } => self.not_applicable += 1,
            Status::KnownFailure { .. } => self.known_failure += 1,
            Status::NotRun => self.not_run += 1,
        }
    }
}

/// A rule's outcome over its cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleOutcome {
    /// At least one case passed and none failed.
    Pass,
    /// At least one of its cases failed.
    Fail,
    /// None failed, at least one is a known failure.
    KnownFailure,
    /// Every case was ignored here.
    Ignored,
    /// No case passed or failed, and at least one is not applicable to the driver.
    NotApplicable,
    /// No case ran (filtered out), and not every one was ignored.
    NotRun,
    /// No case checks it; `coverage.toml` says what does.
    CheckedElsewhere,
    /// No case checks it and nothing accounts for it.
    NoCase,
}

impl RuleOutcome {
    pub(super) fn of(counts: &Counts, elsewhere: bool) -> RuleOutcome {
        if counts.cases == 0 {
            return if elsewhere {
                RuleOutcome::CheckedElsewhere
            } else {
                RuleOutcome::NoCase
            };
        }
        if counts.fail > 0 {
            RuleOutcome::Fail
        } else if counts.known_failure > 0 {
            RuleOutcome::KnownFailure
        } else if counts.pass > 0 {
            RuleOutcome::Pass
        } else if counts.ignored == counts.cases {
            RuleOutcome::Ignored
        } else if counts.not_applicable > 0
            && counts.ignored + counts.not_applicable == counts.cases
        {
            RuleOutcome::NotApplicable
        } else {
            RuleOutcome::NotRun
        }
    }

    pub(super) fn markdown(self) -> &'static str {
        match self {
            RuleOutcome::Pass => "✅ pass",
            RuleOutcome::Fail => "❌ **fail**",
            RuleOutcome::KnownFailure => "⚠️ known failure",
            RuleOutcome::Ignored => "➖ ignored",
            RuleOutcome::NotApplicable => "⬜ not applicable",
            RuleOutcome::NotRun => "⏸️ not run",
            RuleOutcome::CheckedElsewhere => "☑️ checked elsewhere",
            RuleOutcome::NoCase => "❓ no case",
        }
    }
}

/// One rule's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleRow {
    /// Rule ID.
    pub id: String,
    /// MUST, SHOULD, MAY, RETIRED.
    pub level: String,
    /// Title.
    pub title: String,
    /// The cases checking it.
    pub cases: Vec<String>,
    /// The outcome over those cases.
    pub outcome: RuleOutcome,
    /// Outcomes of those cases.
    pub counts: Counts,
    /// Where it is checked when no case can (from `coverage.toml`).
    pub checked_elsewhere: Option<String>,
    /// Its clauses (SPEC.md sub-IDs), each with the cases naming it; empty for a rule that is
    /// one clause.
    #[serde(default)]
    pub clauses: Vec<ClauseRow>,
}

impl RuleRow {
    /// How many of its clauses a case names, and how many it has.
    pub fn clauses_covered(&self) -> (usize, usize) {
        let covered = self.clauses.iter().filter(|c| !c.cases.is_empty()).count();
        (covered, self.clauses.len())
    }
}

/// One clause of a rule in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClauseRow {
    /// The clause ID (`VER-4.b`).
    pub id: String,
    /// What it requires.
    pub text: String,
    /// The cases naming it.
    pub cases: Vec<String>,
    /// Why no case checks it and what does (from `coverage.toml`).
    pub checked_elsewhere: Option<String>,
}
