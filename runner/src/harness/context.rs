//! What every trial of a run shares ([`Context`]): the suite, the fixtures, the driver and the
//! results; and one trial's outcome: whether its case applies, the verdict of
//! [`run::run_case`] with the known failures applied, its transcript against the snapshot, and
//! the record the report is made from.

use super::*;

/// What every trial shares.
pub(super) struct Context {
    pub(super) registry: Registry,
    pub(super) suite: Suite,
    pub(super) coverage: Coverage,
    pub(super) known: KnownFailures,
    pub(super) snapshots: Option<PathBuf>,
    pub(super) fixtures_src: PathBuf,
    pub(super) timeout: Duration,
    pub(super) driver: run::Driver,
    pub(super) info: run::DriverInfo,
    pub(super) results: Mutex<Vec<CaseResult>>,
    pub(super) notes: Mutex<Vec<Note>>,
    pub(super) cases_dir: PathBuf,
}

impl Context {
    fn record(
        &self,
        case: &Case,
        status: Status,
        started: Instant,
        runs: u32,
        snapshot: SnapshotOutcome,
    ) {
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        results.push(CaseResult {
            id: case.id.clone(),
            trial: case.trial_name(),
            area: case.area.clone(),
            title: case.title.clone(),
            rules: case.rules.clone(),
            status,
            duration_ms: started.elapsed().as_millis() as u64,
            runs,
            snapshot,
        });
    }

    /// The case file, relative to the directory holding the suite (`conformance/open/….toml`).
    fn case_file(&self, case: &Case) -> String {
        let base = self.cases_dir.parent().unwrap_or(&self.cases_dir);
        plugspec::error::escaped(case.file.strip_prefix(base).unwrap_or(&case.file)).to_string()
    }

    /// A failure line that tells the implementer what to fix: the rules the case checks and
    /// its file, then what was expected and observed.
    fn failure(&self, case: &Case, message: &str) -> String {
        format!(
            "{} ({}; {}): {message}",
            case.id,
            case.rules.join(", "),
            self.case_file(case)
        )
    }

    /// Why the case is not applicable to the driver: a capability it needs that the driver's
    /// `hello` does not announce, or a fixture the driver's kit lacks.
    pub(super) fn not_applicable(&self, case: &Case) -> Option<String> {
        let missing: Vec<&str> = case
            .needs()
            .into_iter()
            .filter(|n| !self.info.capabilities.iter().any(|c| c == n))
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "not applicable: the driver lacks {}",
                missing.join(", ")
            ));
        }
        let kit = self.registry.catalog();
        case.fixtures.iter().find(|f| !kit.contains(f)).map(|f| {
            format!(
                "not applicable: the {} fixture kit has no fixture {f}",
                kit.kit()
            )
        })
    }

    pub(super) fn run_trial(
        &self,
        case: &Case,
        ignore: Option<String>,
        not_applicable: Option<String>,
    ) -> Result<Completion, Failed> {
        let started = Instant::now();
        if let Some(reason) = not_applicable {
            self.record(
                case,
                Status::NotApplicable {
                    reason: reason.clone(),
                },
                started,
                0,
                SnapshotOutcome::NotCompared,
            );
            return Ok(Completion::ignored_with(reason));
        }
        if let Some(reason) = ignore {
            self.record(
                case,
                Status::Ignored {
                    reason: reason.clone(),
                },
                started,
                0,
                SnapshotOutcome::NotCompared,
            );
            return Ok(Completion::ignored_with(reason));
        }
        let run::CaseRun {
            verdict,
            transcript,
            runs,
        } = run::run_case(
            case,
            &self.driver,
            &self.registry,
            self.timeout,
            &self.fixtures_src,
        );
        // The verdict is the judge's alone; the snapshot is compared apart from it.
        let known = self.known.get(&case.id);
        let (status, result) = match (verdict, known) {
            (Err(message), None) => {
                let message = self.failure(case, &message);
                (
                    Status::Fail {
                        message: message.clone(),
                    },
                    Err(message),
                )
            }
            (Err(_), Some(k)) => (
                Status::KnownFailure {
                    reason: k.reason.clone(),
                    link: k.link.clone(),
                },
                Ok(Some(format!("known failure: {}", k.reason))),
            ),
            (Ok(()), Some(k)) => {
                let message = self.failure(
                    case,
                    &format!(
                        "unexpected pass: {} lists {} as a known failure ({}); remove it",
                        self.known
                            .file
                            .as_ref()
                            .map_or("the known failures".into(), |f| {
                                plugspec::error::escaped(f).to_string()
                            }),
                        case.id,
                        k.reason
                    ),
                );
                (
                    Status::Fail {
                        message: message.clone(),
                    },
                    Err(message),
                )
            }
            (Ok(()), None) => (Status::Pass, Ok(None)),
        };
        let compared = match (&self.snapshots, &transcript) {
            (Some(dir), Some(t)) => Some(snapshot::compare(
                &case.snapshot_name(),
                &snapshot::render(t),
                dir,
            )),
            _ => None,
        };
        let outcome = match &compared {
            Some(Ok(c)) => c.outcome,
            _ => SnapshotOutcome::NotCompared,
        };
        // Under CI a new or changed snapshot fails the trial (insta's convention), but never
        // the case's verdict in the report.
        let snapshot_failure = match &compared {
            Some(Ok(c)) if c.outcome.differs() && snapshot::differences_fail_run(c.update) => {
                Some(snapshot_failure(c))
            }
            _ => None,
        };
        if let Some(compared) = compared.filter(|c| !matches!(c, Ok(c) if !c.outcome.differs())) {
            let mut notes = self.notes.lock().unwrap_or_else(|e| e.into_inner());
            notes.push(Note {
                trial: case.trial_name(),
                compared,
            });
        }
        self.record(case, status, started, runs, outcome);
        match (result, snapshot_failure) {
            (Err(m), _) => Err(Failed::from(m)),
            (Ok(_), Some(s)) => Err(Failed::from(s)),
            (Ok(None), None) => Ok(Completion::Completed),
            (Ok(Some(reason)), None) => Ok(Completion::ignored_with(reason)),
        }
    }
}
