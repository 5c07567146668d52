//! The report files of `plugspec test --json FILE --markdown FILE`: a real run's JSON reads back
//! into [`Report`] and validates against `runner/report.schema.json` (with a small validator for
//! the keywords the schema uses; any other keyword is an error, so the schema cannot say more
//! than is checked), every outcome included; the Markdown has one row per rule.

// These tests build and load fixture plugins: only where plugins load (PLAT-1).
#![cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use plugspec_runner::report::{Outcome, Report, RuleOutcome, SCHEMA_VERSION, Status, Written};
use plugspec_runner::snapshot::SnapshotOutcome;
use serde_json::Value;

mod json_schema;

fn plugspec() -> Command {
    let mut c = Command::cargo_bin("plugspec").unwrap();
    c.env_remove("CI");
    c
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("report.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn assert_valid(json: &Value) {
    json_schema::assert_valid("report.schema.json", json);
}

#[test]
fn every_object_of_the_schema_is_closed_and_lists_every_field_as_required() {
    fn walk(v: &Value, at: &str) {
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            let mut required: Vec<&str> = v["required"]
                .as_array()
                .unwrap_or_else(|| panic!("{at}: no required"))
                .iter()
                .filter_map(Value::as_str)
                .collect();
            let mut names: Vec<&str> = props.keys().map(String::as_str).collect();
            required.sort_unstable();
            names.sort_unstable();
            assert_eq!(
                required, names,
                "{at}: every field is required (null, not absent)"
            );
            assert_eq!(v["additionalProperties"], Value::Bool(false), "{at}");
        }
        match v {
            Value::Object(o) => o.iter().for_each(|(k, v)| walk(v, &format!("{at}/{k}"))),
            Value::Array(a) => a.iter().for_each(|v| walk(v, at)),
            _ => {}
        }
    }
    let schema = schema();
    walk(&schema, "#");
    assert_eq!(
        schema["properties"]["schema_version"]["const"], SCHEMA_VERSION,
        "the schema file is for this schema version"
    );
}

#[test]
fn a_real_run_writes_reports_that_match_the_schema() {
    let (json, markdown) = (scratch("run.json"), scratch("run.md"));
    plugspec()
        .args(["test", "--no-snapshots", "--case", "OPN-0001", "--json"])
        .arg(&json)
        .arg("--markdown")
        .arg(&markdown)
        .assert()
        .success();
    let text = std::fs::read_to_string(&json).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_valid(&value);
    let report = Report::from_json(&text).unwrap();
    assert_eq!(report.schema_version, SCHEMA_VERSION);
    assert_eq!(report.spec_version, plugspec::rules::SPEC_VERSION);
    assert_eq!(report.suite_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(report.implementation, "plugspec::loader::ReferenceLoader");
    assert_eq!(report.platform.target, plugspec::platform::current().target);
    assert_eq!(report.platform.os, std::env::consts::OS);
    assert_eq!(report.rules.len(), plugspec::rules::all().len());
    assert_eq!(report.totals.cases as usize, report.cases.len());
    let opn = report.cases.iter().find(|c| c.id == "OPN-0001").unwrap();
    assert_eq!(opn.area, "open");
    assert_eq!(opn.trial, "open/OPN-0001-open-and-call");
    assert!(opn.rules.contains(&"API-1".to_string()));
    if report.platform.loads_plugins {
        assert_eq!(opn.status, Status::Pass);
        assert_eq!(opn.runs, 1);
        assert_eq!(report.totals.pass, 1);
    }
    assert_eq!(report.totals.not_run as usize, report.cases.len() - 1);
    // The JSON names outcomes flat: `outcome` + `message` + `link`, every field present.
    let case = value["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "OPN-0002")
        .unwrap();
    assert_eq!(case["outcome"], "not_run");
    assert_eq!(case["message"], Value::Null);
    // Markdown: one row per rule.
    let md = std::fs::read_to_string(&markdown).unwrap();
    assert!(md.starts_with("# plugspec conformance report"), "{md}");
    for rule in plugspec::rules::all() {
        assert!(
            md.contains(&format!("| `{}` | {} |", rule.id, rule.level.as_str())),
            "{md}"
        );
    }
}

const PASSES: &str = r#"id = "OPN-9001"
title = "passes"
rules = ["OPEN-1"]
platforms = ["loading"]

[[step]]
op = "open"
fixture = "basic"
expect = { identity = "fixtures.basic" }
"#;

#[test]
fn every_outcome_is_reported_and_matches_the_schema() {
    if !plugspec::platform::current().loads_plugins {
        return;
    }
    // A cases directory of its own: a pass, a failure, a known failure, an ignored case and a
    // case filtered out.
    let cases = scratch("cases");
    std::fs::create_dir_all(cases.join("open")).unwrap();
    let wrong = PASSES.replace(
        "identity = \"fixtures.basic\"",
        "identity = \"fixtures.wrong\"",
    );
    for (file, text) in [
        ("OPN-9001-passes.toml", PASSES.to_string()),
        (
            "OPN-9002-fails.toml",
            wrong
                .replace("9001", "9002")
                .replace("\"passes\"", "\"fails\""),
        ),
        (
            "OPN-9003-known.toml",
            wrong
                .replace("9001", "9003")
                .replace("\"passes\"", "\"known\""),
        ),
        (
            "OPN-9004-ignored.toml",
            PASSES
                .replace("9001", "9004")
                .replace("\"passes\"", "\"ignored\"")
                .replace("\"loading\"", "\"refusing\""),
        ),
        (
            "OPN-9005-filtered.toml",
            PASSES
                .replace("9001", "9005")
                .replace("\"passes\"", "\"filtered\""),
        ),
    ] {
        std::fs::write(cases.join("open").join(file), text).unwrap();
    }
    let known = scratch("known.toml");
    std::fs::write(
        &known,
        "[[failure]]\nid = \"OPN-9003\"\nreason = \"wrong on purpose\"\nlink = \"https://example.invalid/1\"\n",
    )
    .unwrap();
    let (json, markdown) = (scratch("outcomes.json"), scratch("outcomes.md"));
    let mut cmd = plugspec();
    cmd.args(["test", "--no-snapshots", "--cases"]).arg(&cases);
    for id in ["OPN-9001", "OPN-9002", "OPN-9003", "OPN-9004"] {
        cmd.args(["--case", id]);
    }
    cmd.arg("--known-failures")
        .arg(&known)
        .arg("--json")
        .arg(&json)
        .arg("--markdown")
        .arg(&markdown)
        .assert()
        .code(1);
    let text = std::fs::read_to_string(&json).unwrap();
    assert_valid(&serde_json::from_str(&text).unwrap());
    let report = Report::from_json(&text).unwrap();
    let outcome = |id: &str| {
        let c = report.cases.iter().find(|c| c.id == id).unwrap();
        (c.status.outcome(), c.status.message().map(str::to_string))
    };
    assert_eq!(outcome("OPN-9001"), (Outcome::Pass, None));
    assert_eq!(outcome("OPN-9002").0, Outcome::Fail);
    // A failure names the case's rules and file, besides what was expected and observed.
    let failure = outcome("OPN-9002").1.unwrap();
    assert!(failure.contains("fixtures.wrong"), "{failure}");
    assert!(
        failure.starts_with("OPN-9002 (OPEN-1; cases/open/OPN-9002-fails.toml): "),
        "{failure}"
    );
    assert_eq!(
        outcome("OPN-9003"),
        (Outcome::KnownFailure, Some("wrong on purpose".to_string()))
    );
    assert_eq!(outcome("OPN-9004").0, Outcome::Ignored);
    assert_eq!(outcome("OPN-9005"), (Outcome::NotRun, None));
    let c = &report.totals;
    assert_eq!(
        (
            c.cases,
            c.pass,
            c.fail,
            c.known_failure,
            c.ignored,
            c.not_run
        ),
        (5, 1, 1, 1, 1, 1)
    );
    let open1 = report.rules.iter().find(|r| r.id == "OPEN-1").unwrap();
    assert_eq!(open1.outcome, RuleOutcome::Fail);
    assert_eq!(open1.cases.len(), 5);
    let open2 = report.rules.iter().find(|r| r.id == "OPEN-2").unwrap();
    assert_eq!(open2.outcome, RuleOutcome::NoCase);
    assert!(report.uncovered.contains(&"OPEN-2".to_string()));
    let md = std::fs::read_to_string(&markdown).unwrap();
    assert!(md.contains("## Cases that did not pass"), "{md}");
    assert!(
        md.contains("wrong on purpose (https://example.invalid/1)"),
        "{md}"
    );
    assert!(md.contains("| `OPEN-1` | MUST | ❌ **fail** (1 pass, 1 fail, 1 known failure, 1 ignored, 1 not run) |"), "{md}");
}

#[test]
fn a_report_file_that_cannot_be_written_fails_the_run() {
    let blocker = scratch("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    plugspec()
        .args(["test", "--no-snapshots", "--case", "OPN-0001", "--json"])
        .arg(blocker.join("report.json"))
        .assert()
        .code(1)
        .stderr(predicates::str::contains("cannot create"));
}

/// Runs OPN-0001 and OPN-0002 with the snapshots of a scratch crate directory: OPN-0001's
/// stored transcript differs by one word of a message, OPN-0002 has none. Returns the exit
/// code, the output and the report.
fn run_with_drifted_snapshots(crate_dir: &Path, ci: bool) -> (i32, String, Report, Value) {
    let relative = plugspec_runner::snapshot::default_dir()
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_path_buf();
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join(&relative);
    let theirs = crate_dir.join(&relative);
    let _ = std::fs::remove_dir_all(crate_dir);
    std::fs::create_dir_all(&theirs).unwrap();
    let name = "OPN-0001-open-and-call.snap";
    let text = std::fs::read_to_string(ours.join(name)).unwrap();
    let drifted = text.replacen("ok: plugin fixtures.basic", "ok: plugin fixtures.basic!", 1);
    assert_ne!(
        text, drifted,
        "the stored snapshot has the line this test changes"
    );
    std::fs::write(theirs.join(name), drifted).unwrap();
    let json = crate_dir.join("report.json");
    let mut cmd = plugspec();
    cmd.env("CARGO_MANIFEST_DIR", crate_dir)
        .env_remove("INSTA_UPDATE")
        .env_remove("INSTA_FORCE_PASS")
        .args(["test", "--case", "OPN-0001", "--case", "OPN-0002", "--json"])
        .arg(&json);
    if ci {
        cmd.env("CI", "true");
    }
    let out = cmd.output().unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&json).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_valid(&value);
    (
        out.status.code().unwrap_or(-1),
        output,
        Report::from_json(&text).unwrap(),
        value,
    )
}

/// What both runs below must show: the cases pass, no rule fails, the snapshot outcomes apart.
fn assert_conformance_unaffected(report: &Report, output: &str) {
    let snapshot = |id: &str| report.cases.iter().find(|c| c.id == id).unwrap().snapshot;
    assert_eq!(snapshot("OPN-0001"), SnapshotOutcome::Changed, "{output}");
    assert_eq!(snapshot("OPN-0002"), SnapshotOutcome::New, "{output}");
    assert_eq!(snapshot("OPN-0003"), SnapshotOutcome::NotCompared);
    assert_eq!((report.totals.pass, report.totals.fail), (2, 0), "{output}");
    assert!(
        report.rules.iter().all(|r| r.outcome != RuleOutcome::Fail),
        "{output}"
    );
    let s = &report.snapshots;
    assert!(s.compared);
    assert_eq!((s.matched, s.new, s.changed), (0, 1, 1));
    // One line per snapshot; no insta box, no panic, no backtrace.
    assert!(
        output.contains("snapshot changed  open/OPN-0001-open-and-call"),
        "{output}"
    );
    assert!(
        output.contains("snapshot new      open/OPN-0002-"),
        "{output}"
    );
    for noise in ["panicked", "stack backtrace", "Snapshot Summary", "────"] {
        assert!(!output.contains(noise), "{noise:?} in:\n{output}");
    }
}

#[test]
fn a_changed_message_is_a_snapshot_outcome_never_a_failed_rule() {
    let crate_dir = scratch("drift");
    let pending = |name: &str| {
        plugspec_runner::snapshot::default_dir()
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .map(|r| crate_dir.join(r).join(format!("{name}.snap.new")))
            .unwrap()
    };
    // Without CI: the run passes and the transcripts wait for review as .snap.new.
    let (code, output, report, value) = run_with_drifted_snapshots(&crate_dir, false);
    assert_eq!(code, 0, "{output}");
    assert_conformance_unaffected(&report, &output);
    assert_eq!(report.snapshots.written, Written::Pending);
    assert!(!report.snapshots.fail_run);
    assert!(value["cases"][0]["snapshot"].is_string());
    assert!(pending("OPN-0001-open-and-call").is_file(), "{output}");
    assert!(
        pending("OPN-0002-one-resolved-path-one-plugin").is_file(),
        "{output}"
    );
    // The diff of the changed one is shown once, at the end.
    assert_eq!(
        output
            .matches("+++ OPN-0001-open-and-call (this run)")
            .count(),
        1,
        "{output}"
    );
    // Under CI: the run fails, nothing is written, and the report is the same.
    let (code, output, report, _) = run_with_drifted_snapshots(&crate_dir, true);
    assert_eq!(code, 1, "{output}");
    assert_conformance_unaffected(&report, &output);
    assert_eq!(report.snapshots.written, Written::None);
    assert!(report.snapshots.fail_run);
    assert!(!pending("OPN-0001-open-and-call").exists(), "{output}");
    assert!(
        !pending("OPN-0002-one-resolved-path-one-plugin").exists(),
        "{output}"
    );
    let _ = std::fs::remove_dir_all(&crate_dir);
}
