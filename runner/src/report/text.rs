//! The text rendering of a report, printed after a run.

use std::fmt::Write;

use super::*;

impl Report {
    /// The text rendering: failures first, then one line per rule, then totals.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nplugspec conformance report — spec {}, suite {}, protocol {}, loader {}, target {}",
            self.spec_version,
            self.suite_version,
            self.protocol_version,
            self.implementation,
            self.platform.target
        );
        let notable: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| matches!(c.status, Status::Fail { .. } | Status::KnownFailure { .. }))
            .collect();
        if !notable.is_empty() {
            let _ = writeln!(out, "\ncases:");
            for c in notable {
                let detail = c.status.message().and_then(|m| m.lines().next());
                let _ = writeln!(
                    out,
                    "  {:<13} {}  {}",
                    c.status.word(),
                    c.trial,
                    detail.unwrap_or("")
                );
            }
        }
        let _ = writeln!(
            out,
            "\n{:<10} {:<7} {:>5} {:>5} {:>5} {:>7} {:>6} {:>6} {:>7}  title",
            "rule", "level", "cases", "pass", "fail", "ignored", "n/a", "known", "not-run"
        );
        for r in &self.rules {
            let c = &r.counts;
            let _ = write!(
                out,
                "{:<10} {:<7} {:>5} {:>5} {:>5} {:>7} {:>6} {:>6} {:>7}  {}",
                r.id,
                r.level,
                r.cases.len(),
                c.pass,
                c.fail,
                c.ignored,
                c.not_applicable,
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
            let (covered, total) = r.clauses_covered();
            if total > 0 {
                let _ = write!(out, "  [clauses {covered}/{total} with a case");
                for c in r.clauses.iter().filter(|c| c.cases.is_empty()) {
                    match &c.checked_elsewhere {
                        Some(by) => {
                            let _ = write!(out, "; {}: checked by {by}", c.id);
                        }
                        None => {
                            let _ = write!(out, "; {}: NO CASE", c.id);
                        }
                    }
                }
                let _ = write!(out, "]");
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
        let differing = self.differing_snapshots();
        if !differing.is_empty() {
            let _ = writeln!(
                out,
                "\nsnapshots that differ (review them; they never decide a verdict):"
            );
            for c in differing {
                let _ = writeln!(
                    out,
                    "  snapshot {:<8} {}  (case: {})",
                    c.snapshot.word(),
                    c.trial,
                    c.status.word()
                );
            }
        }
        let _ = writeln!(out, "\ncases: {}", self.totals_line());
        let _ = writeln!(out, "{}", self.snapshots.line());
        out
    }

    pub(super) fn totals_line(&self) -> String {
        let t = &self.totals;
        format!(
            "{} total, {} pass, {} fail, {} ignored, {} not applicable, {} known failure, {} not run",
            t.cases, t.pass, t.fail, t.ignored, t.not_applicable, t.known_failure, t.not_run
        )
    }
}
