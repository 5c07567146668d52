//! `plugspec compare`: several JSON reports side by side, as a rule × implementation matrix.
//!
//! Each row is a rule of SPEC.md (in the first report's catalogue order, then any rule only a
//! later report has), each column a report (its `implementation`, with its platform). A cell is
//! the rule's outcome for that implementation ([`RuleOutcome`]) and how its cases came out.
//! Three renderings: [`text`] for a terminal, [`markdown`] (the README's matrix) and [`html`], a
//! self-contained page (inline style and script, no other file) whose cells are colour-coded
//! and link to the rule's cases for that implementation: each case's file and its failure
//! message, known-failure reason or why it did not apply.
//!
//! Case files are linked as `<case base><trial>.toml` (the trial name is `<area>/<ID>-<slug>`,
//! the file's path under `conformance/`), so the base is `conformance/` from a checkout's root.
//! Durations and snapshot outcomes are left out: the same runs give the same matrix.

use std::fmt::Write as _;

use crate::report::{CaseResult, Counts, Outcome, Report, RuleOutcome, RuleRow};

/// The rows: every rule of the reports, first report's order first.
fn rule_ids(reports: &[Report]) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for report in reports {
        for rule in &report.rules {
            if !ids.contains(&rule.id.as_str()) {
                ids.push(&rule.id);
            }
        }
    }
    ids
}

/// The rule's row in a report, if it has the rule.
fn row<'a>(report: &'a Report, id: &str) -> Option<&'a RuleRow> {
    report.rules.iter().find(|r| r.id == id)
}

/// The first report that has the rule (for its level and title).
fn any_row<'a>(reports: &'a [Report], id: &str) -> &'a RuleRow {
    reports
        .iter()
        .find_map(|r| row(r, id))
        .expect("the rule comes from one of the reports")
}

/// A column's heading: the implementation (the reports' totals say where it ran).
fn heading(report: &Report) -> String {
    report.implementation.clone()
}

/// An implementation and where it ran.
fn ran(report: &Report) -> String {
    format!("{} on {}", report.implementation, report.platform.target)
}

/// The outcome's word.
fn word(outcome: RuleOutcome) -> &'static str {
    match outcome {
        RuleOutcome::Pass => "pass",
        RuleOutcome::Fail => "FAIL",
        RuleOutcome::KnownFailure => "known failure",
        RuleOutcome::Ignored => "ignored",
        RuleOutcome::NotApplicable => "not applicable",
        RuleOutcome::NotRun => "not run",
        RuleOutcome::CheckedElsewhere => "checked elsewhere",
        RuleOutcome::NoCase => "no case",
    }
}

/// The outcome's CSS class (and the key of its colour).
fn class(outcome: RuleOutcome) -> &'static str {
    match outcome {
        RuleOutcome::Pass => "pass",
        RuleOutcome::Fail => "fail",
        RuleOutcome::KnownFailure => "known",
        RuleOutcome::Ignored => "ignored",
        RuleOutcome::NotApplicable => "na",
        RuleOutcome::NotRun => "notrun",
        RuleOutcome::CheckedElsewhere => "elsewhere",
        RuleOutcome::NoCase => "nocase",
    }
}

/// The case counts that are not zero, such as `2 pass, 1 known failure`.
fn brief(counts: &Counts) -> String {
    [
        (counts.pass, "pass"),
        (counts.fail, "fail"),
        (counts.known_failure, "known failure"),
        (counts.not_applicable, "not applicable"),
        (counts.ignored, "ignored"),
        (counts.not_run, "not run"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect::<Vec<_>>()
    .join(", ")
}

/// A cell as text: the outcome, then the counts when the rule has cases.
fn cell_text(row: Option<&RuleRow>) -> String {
    match row {
        None => "(not in this report)".to_string(),
        Some(r) if r.counts.cases == 0 => word(r.outcome).to_string(),
        Some(r) => format!("{} ({})", word(r.outcome), brief(&r.counts)),
    }
}

/// The matrix for a terminal: one line per rule, one column per report.
pub fn text(reports: &[Report]) -> String {
    let ids = rule_ids(reports);
    let mut columns: Vec<Vec<String>> = vec![
        std::iter::once("RULE".to_string())
            .chain(ids.iter().map(|s| s.to_string()))
            .collect(),
        std::iter::once("LEVEL".to_string())
            .chain(ids.iter().map(|id| any_row(reports, id).level.clone()))
            .collect(),
    ];
    for report in reports {
        columns.push(
            std::iter::once(heading(report))
                .chain(ids.iter().map(|id| cell_text(row(report, id))))
                .collect(),
        );
    }
    let widths: Vec<usize> = columns
        .iter()
        .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for line in 0..=ids.len() {
        let cells: Vec<String> = columns
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{:<w$}", c[line], w = *w))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push('\n');
    for report in reports {
        let t = &report.totals;
        writeln!(out, "{}: {} cases, {}", ran(report), t.cases, brief(t))
            .expect("writing to a string");
    }
    out
}

/// The outcome as a Markdown cell: a symbol, so the colour-blind and plain-text readers see it.
fn markdown_word(outcome: RuleOutcome) -> &'static str {
    match outcome {
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

/// `|` and line breaks would end a Markdown table cell.
fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The cases worth a line: everything but a pass and a filtered-out case.
fn notable(report: &Report) -> impl Iterator<Item = &CaseResult> {
    report
        .cases
        .iter()
        .filter(|c| !matches!(c.status.outcome(), Outcome::Pass | Outcome::NotRun))
}

/// The Markdown matrix (the README's): a table of rules × implementations, then per
/// implementation its failures and known failures, each linked to its case file
/// (`<case_base><trial>.toml`) with its message.
pub fn markdown(reports: &[Report], case_base: &str) -> String {
    let ids = rule_ids(reports);
    let mut out = String::from("| rule | level | title |");
    for report in reports {
        write!(out, " {} |", md_cell(&heading(report))).expect("writing to a string");
    }
    out.push_str("\n|---|---|---|");
    out.push_str(&"---|".repeat(reports.len()));
    out.push('\n');
    for id in &ids {
        let any = any_row(reports, id);
        write!(out, "| {id} | {} | {} |", any.level, md_cell(&any.title))
            .expect("writing to a string");
        for report in reports {
            let cell = match row(report, id) {
                None => "(not in this report)".to_string(),
                Some(r) if r.counts.cases == 0 => markdown_word(r.outcome).to_string(),
                Some(r) => format!("{} ({})", markdown_word(r.outcome), brief(&r.counts)),
            };
            write!(out, " {cell} |").expect("writing to a string");
        }
        out.push('\n');
    }
    for report in reports {
        let listed: Vec<&CaseResult> = notable(report)
            .filter(|c| matches!(c.status.outcome(), Outcome::Fail | Outcome::KnownFailure))
            .collect();
        write!(
            out,
            "\n**{}**: {} cases, {}.",
            md_cell(&ran(report)),
            report.totals.cases,
            brief(&report.totals)
        )
        .expect("writing to a string");
        if listed.is_empty() {
            out.push('\n');
            continue;
        }
        out.push_str(" Failures and known failures:\n\n");
        for case in listed {
            let outcome = match case.status.outcome() {
                Outcome::Fail => "**fail**",
                _ => "known failure",
            };
            writeln!(
                out,
                "- [{}]({case_base}{}.toml) ({}) {outcome}: {}",
                case.id,
                case.trial,
                case.rules.join(", "),
                md_cell(case.status.message().unwrap_or(""))
            )
            .expect("writing to a string");
        }
    }
    out
}

/// Escapes text for HTML content and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse}\
th,td{border:1px solid #bbb;padding:.25em .5em;text-align:left;vertical-align:top}\
th{background:#eee;position:sticky;top:0}\
td.cell a{color:inherit;text-decoration:none;display:block}\
td.cell small{display:block;color:#444}\
.pass{background:#c8f0c8}.fail{background:#f5b5b5}.known{background:#fde3a7}\
.na{background:#e4e4e4}.ignored{background:#f2f2f2}.notrun{background:#f2f2f2}\
.elsewhere{background:#dde8f8}.nocase{background:#f8d8f0}\
details{margin:.3em 0}pre{white-space:pre-wrap;margin:.2em 0 .5em 1.5em;font-size:90%}\
li.case{margin:.15em 0}tr.hidden{display:none}";

/// Shows the number of rules and of rules where the implementations differ, and hides the
/// others when asked.
const SCRIPT: &str = "\
(function(){\
var rows=document.querySelectorAll('tr.rule');var differ=0;\
rows.forEach(function(r){var seen={};r.querySelectorAll('td.cell').forEach(function(c){seen[c.dataset.outcome]=1});\
if(Object.keys(seen).length>1){r.classList.add('differs');differ++}});\
document.getElementById('summary').textContent=rows.length+' rules, '+differ+' where the implementations differ';\
document.getElementById('only-differ').addEventListener('change',function(e){\
rows.forEach(function(r){r.classList.toggle('hidden',e.target.checked&&!r.classList.contains('differs'))})});\
})();";

/// The HTML page: self-contained (inline style and script), one row per rule (`<tr
/// id="rule-<ID>" class="rule">`), one colour-coded cell per implementation linking to that
/// implementation's cases of the rule, listed below the table with links to their files
/// (`<case_base><trial>.toml`) and their messages.
pub fn html(reports: &[Report], case_base: &str) -> String {
    let ids = rule_ids(reports);
    let mut out = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>plugspec: implementations compared</title>\n<style>",
    );
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n<h1>plugspec: implementations compared</h1>\n");
    let first = reports.first();
    writeln!(
        out,
        "<p>spec {}, suite {}. <span id=\"summary\">{} rules</span>. \
         <label><input type=\"checkbox\" id=\"only-differ\"> only where they differ</label></p>",
        esc(first.map_or("", |r| r.spec_version.as_str())),
        esc(first.map_or("", |r| r.suite_version.as_str())),
        ids.len()
    )
    .expect("writing to a string");
    out.push_str("<table id=\"matrix\">\n<thead><tr><th>rule</th><th>level</th><th>title</th>");
    for report in reports {
        write!(out, "<th>{}</th>", esc(&heading(report))).expect("writing to a string");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for id in &ids {
        let any = any_row(reports, id);
        write!(
            out,
            "<tr id=\"rule-{0}\" class=\"rule\"><th>{0}</th><td>{1}</td><td>{2}</td>",
            esc(id),
            esc(&any.level),
            esc(&any.title)
        )
        .expect("writing to a string");
        for (n, report) in reports.iter().enumerate() {
            match row(report, id) {
                None => out.push_str(
                    "<td class=\"cell notrun\" data-outcome=\"absent\">(not in this report)</td>",
                ),
                Some(r) => {
                    let detail = if r.counts.cases == 0 {
                        esc(r.checked_elsewhere.as_deref().unwrap_or(""))
                    } else {
                        esc(&brief(&r.counts))
                    };
                    write!(
                        out,
                        "<td class=\"cell {cls}\" data-outcome=\"{cls}\"><a href=\"#i{n}-{id}\">{w}<small>{detail}</small></a></td>",
                        cls = class(r.outcome),
                        id = esc(id),
                        w = esc(word(r.outcome)),
                    )
                    .expect("writing to a string");
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    for (n, report) in reports.iter().enumerate() {
        writeln!(
            out,
            "<h2 id=\"i{n}\">{}</h2>\n<p>{} cases: {}.</p>",
            esc(&ran(report)),
            report.totals.cases,
            esc(&brief(&report.totals))
        )
        .expect("writing to a string");
        for rule in &report.rules {
            let cases: Vec<&CaseResult> = report
                .cases
                .iter()
                .filter(|c| c.rules.contains(&rule.id))
                .collect();
            let open = if matches!(rule.outcome, RuleOutcome::Fail | RuleOutcome::KnownFailure) {
                " open"
            } else {
                ""
            };
            writeln!(
                out,
                "<details id=\"i{n}-{id}\"{open}><summary class=\"{cls}\">{id}: {w}</summary><ul>",
                id = esc(&rule.id),
                cls = class(rule.outcome),
                w = esc(word(rule.outcome)),
            )
            .expect("writing to a string");
            for case in cases {
                let outcome = case.status.outcome();
                let cls = match outcome {
                    Outcome::Pass => "pass",
                    Outcome::Fail => "fail",
                    Outcome::KnownFailure => "known",
                    Outcome::NotApplicable => "na",
                    Outcome::Ignored => "ignored",
                    Outcome::NotRun => "notrun",
                };
                write!(
                    out,
                    "<li class=\"case {cls}\"><a href=\"{}{}.toml\">{}</a> {}: {}",
                    esc(case_base),
                    esc(&case.trial),
                    esc(&case.id),
                    esc(cls_word(outcome)),
                    esc(&case.title)
                )
                .expect("writing to a string");
                if let Some(message) = case.status.message() {
                    write!(out, "<pre>{}</pre>", esc(message)).expect("writing to a string");
                }
                out.push_str("</li>\n");
            }
            if let Some(elsewhere) = &rule.checked_elsewhere {
                writeln!(out, "<li>checked by {}</li>", esc(elsewhere))
                    .expect("writing to a string");
            }
            out.push_str("</ul></details>\n");
        }
    }
    out.push_str("<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

/// A case outcome's word.
fn cls_word(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "pass",
        Outcome::Fail => "FAIL",
        Outcome::KnownFailure => "known failure",
        Outcome::NotApplicable => "not applicable",
        Outcome::Ignored => "ignored",
        Outcome::NotRun => "not run",
    }
}
