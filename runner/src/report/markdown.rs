//! The Markdown rendering of a report, for a CI job summary.

use std::fmt::Write;

use super::*;

impl Report {
    /// The Markdown rendering (for a CI job summary): a header table, the cases that did not
    /// pass, then one row per rule with its level, cases and outcome.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let p = &self.platform;
        let _ = writeln!(out, "# plugspec conformance report\n");
        let _ = writeln!(out, "| | |\n|---|---|");
        let _ = writeln!(out, "| implementation | `{}` |", cell(&self.implementation));
        let _ = writeln!(
            out,
            "| platform | `{}` ({}, {}{}) |",
            p.target,
            p.os,
            p.arch,
            if p.loads_plugins {
                ""
            } else {
                ", does not load plugins"
            }
        );
        let _ = writeln!(out, "| spec | {} |", self.spec_version);
        let _ = writeln!(
            out,
            "| suite | {} (protocol {}, report schema {}) |",
            self.suite_version, self.protocol_version, self.schema_version
        );
        let _ = writeln!(out, "| cases | {} |", self.totals_line());
        let _ = writeln!(
            out,
            "| {} |",
            cell(&self.snapshots.line()).replacen(": ", " | ", 1)
        );
        if !self.uncovered.is_empty() {
            let _ = writeln!(
                out,
                "| MUST/SHOULD rules without a case | {} |",
                self.uncovered.join(", ")
            );
        }
        let notable: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| !matches!(c.status, Status::Pass | Status::NotRun))
            .collect();
        if !notable.is_empty() {
            let _ = writeln!(
                out,
                "\n## Cases that did not pass\n\n| case | rules | outcome | why |\n|---|---|---|---|"
            );
            for c in notable {
                let outcome = match c.status.outcome() {
                    Outcome::Fail => "❌ **fail**",
                    Outcome::KnownFailure => "⚠️ known failure",
                    Outcome::NotApplicable => "⬜ not applicable",
                    _ => "➖ ignored",
                };
                let mut why = c
                    .status
                    .message()
                    .and_then(|m| m.lines().next())
                    .map(|m| cell(&shorten(m, 300)))
                    .unwrap_or_default();
                if let Status::KnownFailure { link: Some(l), .. } = &c.status {
                    let _ = write!(why, " ({})", cell(l));
                }
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {outcome} | {why} |",
                    c.trial,
                    c.rules.join(", ")
                );
            }
        }
        let differing = self.differing_snapshots();
        if !differing.is_empty() {
            let _ = writeln!(
                out,
                "\n## Snapshots that differ\n\nNever a verdict: the transcript (messages, values) differs from the stored snapshot.\n\n| case | snapshot | case outcome |\n|---|---|---|"
            );
            for c in differing {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} |",
                    c.trial,
                    c.snapshot.word(),
                    c.status.word()
                );
            }
        }
        let _ = writeln!(
            out,
            "\n## Rules\n\n| rule | level | outcome | cases | title |\n|---|---|---|---|---|"
        );
        for r in &self.rules {
            let c = &r.counts;
            let mut outcome = r.outcome.markdown().to_string();
            if c.cases > 0 && c.pass != c.cases {
                let parts: Vec<String> = [
                    (c.pass, "pass"),
                    (c.fail, "fail"),
                    (c.known_failure, "known failure"),
                    (c.ignored, "ignored"),
                    (c.not_applicable, "not applicable"),
                    (c.not_run, "not run"),
                ]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect();
                let _ = write!(outcome, " ({})", parts.join(", "));
            }
            let cases = match (&r.checked_elsewhere, r.cases.is_empty()) {
                (Some(by), true) => format!("checked by {}", cell(by)),
                (None, true) => "—".to_string(),
                _ => r.cases.join(", "),
            };
            let (covered, total) = r.clauses_covered();
            let clauses = if total > 0 {
                let list: Vec<String> = r
                    .clauses
                    .iter()
                    .map(|c| {
                        if c.cases.is_empty() {
                            format!("`{}` —", c.id)
                        } else {
                            format!("`{}` {}", c.id, c.cases.join(", "))
                        }
                    })
                    .collect();
                format!(" (clauses {covered}/{total}: {})", list.join("; "))
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {outcome} | {cases} | {}{clauses} |",
                r.id,
                r.level,
                cell(&r.title)
            );
        }
        out
    }
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}
