//! One case's result: the domain model ([`CaseResult`] with its [`Status`]) and its JSON form
//! (`outcome` + `message` + `link`, bridged by serde's `into`/`try_from`).

use super::*;

/// What happened to one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Every run passed.
    Pass,
    /// A run failed, or the case is an unexpected pass (a snapshot never makes a case fail).
    Fail {
        /// Why.
        message: String,
    },
    /// Not run here (platform, capability, unavailable fixture).
    Ignored {
        /// Why.
        reason: String,
    },
    /// Not applicable to this driver: it lacks a capability the case needs, or its fixture kit
    /// lacks a fixture the case uses. Never a pass.
    NotApplicable {
        /// What is missing.
        reason: String,
    },
    /// Failed as the known-failures file says it does.
    KnownFailure {
        /// The file's reason.
        reason: String,
        /// The file's link.
        link: Option<String>,
    },
    /// Filtered out or not run.
    NotRun,
}

impl Status {
    /// The outcome without its message.
    pub fn outcome(&self) -> Outcome {
        match self {
            Status::Pass => Outcome::Pass,
            Status::Fail { .. } => Outcome::Fail,
            Status::Ignored { .. } => Outcome::Ignored,
            Status::NotApplicable { .. } => Outcome::NotApplicable,
            Status::KnownFailure { .. } => Outcome::KnownFailure,
            Status::NotRun => Outcome::NotRun,
        }
    }

    /// The failure message, ignore reason or known-failure reason.
    pub fn message(&self) -> Option<&str> {
        match self {
            Status::Fail { message } => Some(message),
            Status::Ignored { reason }
            | Status::NotApplicable { reason }
            | Status::KnownFailure { reason, .. } => Some(reason),
            Status::Pass | Status::NotRun => None,
        }
    }

    pub(super) fn word(&self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail { .. } => "FAIL",
            Status::Ignored { .. } => "ignored",
            Status::NotApplicable { .. } => "not applicable",
            Status::KnownFailure { .. } => "known failure",
            Status::NotRun => "not run",
        }
    }
}

/// A case's outcome, as the JSON report names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every run passed.
    Pass,
    /// A run failed.
    Fail,
    /// Not run here, with a reason.
    Ignored,
    /// Not applicable to the driver (a capability or fixture it lacks), with the reason.
    NotApplicable,
    /// Failed as the known-failures file says.
    KnownFailure,
    /// Filtered out or never started.
    NotRun,
}

/// One case's result.
///
/// In JSON: `id`, `trial`, `area`, `title`, `rules`, `outcome`, `message`, `link`,
/// `duration_ms`, `runs`, `snapshot` (see the [module documentation](crate::report)).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "CaseRecord", try_from = "CaseRecord")]
pub struct CaseResult {
    /// Case ID.
    pub id: String,
    /// Trial name.
    pub trial: String,
    /// The area (the case's directory).
    pub area: String,
    /// The case's title.
    pub title: String,
    /// Rules it checks.
    pub rules: Vec<String>,
    /// The outcome.
    pub status: Status,
    /// Wall time of all its runs, in milliseconds.
    pub duration_ms: u64,
    /// How many children ran.
    pub runs: u32,
    /// How the transcript compared with the stored snapshot (never part of the verdict).
    pub snapshot: SnapshotOutcome,
}

/// The JSON form of a [`CaseResult`]: the status as `outcome` + `message` + `link`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseRecord {
    id: String,
    trial: String,
    area: String,
    title: String,
    rules: Vec<String>,
    outcome: Outcome,
    message: Option<String>,
    link: Option<String>,
    duration_ms: u64,
    runs: u32,
    snapshot: SnapshotOutcome,
}

impl From<CaseResult> for CaseRecord {
    fn from(c: CaseResult) -> CaseRecord {
        let outcome = c.status.outcome();
        let message = c.status.message().map(str::to_string);
        let link = match c.status {
            Status::KnownFailure { link, .. } => link,
            _ => None,
        };
        CaseRecord {
            id: c.id,
            trial: c.trial,
            area: c.area,
            title: c.title,
            rules: c.rules,
            outcome,
            message,
            link,
            duration_ms: c.duration_ms,
            runs: c.runs,
            snapshot: c.snapshot,
        }
    }
}

impl TryFrom<CaseRecord> for CaseResult {
    type Error = String;

    fn try_from(r: CaseRecord) -> Result<CaseResult, String> {
        let need = |what: &str| {
            format!(
                "case {}: outcome {:?} needs a message ({what})",
                r.id, r.outcome
            )
        };
        let status = match r.outcome {
            Outcome::Pass => Status::Pass,
            Outcome::NotRun => Status::NotRun,
            Outcome::Fail => Status::Fail {
                message: r.message.clone().ok_or_else(|| need("why it failed"))?,
            },
            Outcome::Ignored => Status::Ignored {
                reason: r
                    .message
                    .clone()
                    .ok_or_else(|| need("why it was ignored"))?,
            },
            Outcome::NotApplicable => Status::NotApplicable {
                reason: r
                    .message
                    .clone()
                    .ok_or_else(|| need("why it is not applicable"))?,
            },
            Outcome::KnownFailure => Status::KnownFailure {
                reason: r
                    .message
                    .clone()
                    .ok_or_else(|| need("the known failure's reason"))?,
                link: r.link.clone(),
            },
        };
        Ok(CaseResult {
            id: r.id,
            trial: r.trial,
            area: r.area,
            title: r.title,
            rules: r.rules,
            status,
            duration_ms: r.duration_ms,
            runs: r.runs,
            snapshot: r.snapshot,
        })
    }
}
