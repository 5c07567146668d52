//! `plugspec test --driver CMD [ARGS…]`: another driver of the protocol answers the cases. A
//! driver that crashes or hangs fails the case it was running, never passes it, and the run
//! goes on with the next case; a case needing a capability the driver's `hello` does not
//! announce is not applicable (its own outcome, valid against the report schema).

// These tests build the fixture plugins the cases copy: only where plugins load (PLAT-1).
#![cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]

use std::path::PathBuf;

use assert_cmd::Command;
use plugspec_runner::report::{Outcome, Report};

mod json_schema;

/// A driver in sh: it answers the probe (a request of no steps) with its hello, then for a
/// real run says hello and crashes (`crash`) or hangs (`hang`), as its first argument says.
const FAKE_DRIVER: &str = r#"#!/bin/sh
read -r line
echo '{"type":"hello","protocol":2,"driver":"fake 0.1","loader":"fake loader 1.0","capabilities":["open","lookup","call","files"],"kit":"plugspec"}'
case "$line" in *'"steps":[]'*) echo '{"type":"done"}'; exit 0;; esac
case "$1" in
crash) kill -SEGV $$ ;;
hang) exec sleep 30 ;;
esac
"#;

fn run(mode: &str) -> (Report, serde_json::Value, String) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("driver-{mode}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("driver.sh");
    std::fs::write(&script, FAKE_DRIVER).unwrap();
    let json = dir.join("report.json");
    let output = Command::cargo_bin("plugspec")
        .unwrap()
        .env_remove("CI")
        .args([
            "test", "--case", "OPN-0003", "--case", "OPN-0004", "--case", "INI-0007",
        ])
        .args(["--timeout", "3", "--json"])
        .arg(&json)
        .arg("--driver")
        .arg("sh")
        .arg(&script)
        .arg(mode)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(1), "{text}");
    let raw = std::fs::read_to_string(&json).unwrap();
    let value: serde_json::Value = serde_json::from_str(&raw).unwrap();
    (Report::from_json(&raw).unwrap(), value, text)
}

fn check(mode: &str, problem: &str) {
    let (report, value, text) = run(mode);
    json_schema::assert_valid("report.schema.json", &value);
    assert_eq!(report.implementation, "fake loader 1.0", "{text}");
    let case = |id: &str| report.cases.iter().find(|c| c.id == id).unwrap();
    // Both cases the driver could run failed: the run went on after the first crash or hang.
    for id in ["OPN-0003", "OPN-0004"] {
        let c = case(id);
        assert_eq!(c.status.outcome(), Outcome::Fail, "{id}: {text}");
        let message = c.status.message().unwrap();
        assert!(message.contains(problem), "{id}: {message}");
    }
    let na = case("INI-0007");
    assert_eq!(na.status.outcome(), Outcome::NotApplicable, "{text}");
    assert!(
        na.status
            .message()
            .unwrap()
            .contains("the driver lacks init_log"),
        "{:?}",
        na.status
    );
    assert_eq!(report.totals.pass, 0, "{text}");
    assert_eq!(report.totals.not_applicable, 1, "{text}");
}

#[test]
fn a_crashing_driver_fails_each_case_and_the_run_goes_on() {
    check("crash", "killed by signal 11");
}

#[test]
fn a_hanging_driver_fails_each_case_at_the_time_limit() {
    check("hang", "timed out after 3.0 s");
}
