//! The `plugspec` binary: listing builds nothing, known failures are strict (an unexpected pass
//! and an unknown ID are errors), and a run prints the per-rule report.

// These tests build and load fixture plugins: only where plugins load (PLAT-1).
#![cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]

use std::path::PathBuf;
use std::process::Command;

fn plugspec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_plugspec"));
    c.env_remove("CI");
    c
}

fn scratch(name: &str, text: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn listing_names_every_case_and_builds_nothing() {
    let out = plugspec().arg("list").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("open/OPN-0001-open-and-call"), "{text}");
    let out = plugspec().arg("rules").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("OPEN-2"), "{text}");
}

#[test]
fn an_unexpected_pass_fails_the_run() {
    let file = scratch(
        "xpass.toml",
        "[[failure]]\nid = \"OPN-0001\"\nreason = \"pretend it fails\"\n",
    );
    let out = plugspec()
        .args([
            "test",
            "--no-snapshots",
            "--exact",
            "open/OPN-0001-open-and-call",
            "--known-failures",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("unexpected pass"), "{text}");
}

#[test]
fn an_unknown_known_failure_id_fails_the_run() {
    let file = scratch(
        "unknown.toml",
        "[[failure]]\nid = \"XYZ-0001\"\nreason = \"r\"\n",
    );
    let out = plugspec()
        .args(["test", "--no-snapshots", "--known-failures"])
        .arg(&file)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("unknown case ID \"XYZ-0001\""), "{text}");
}

#[test]
fn a_run_prints_the_per_rule_report() {
    let out = plugspec()
        .args(["test", "--no-snapshots", "OPN-0003"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("OPEN-3     MUST        3"), "{text}");
    assert!(text.contains("1 pass"), "{text}");
}

#[test]
fn listing_trials_builds_no_fixture() {
    let target =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("list-{}", std::process::id()));
    let out = plugspec()
        .args(["test", "--list"])
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("open/OPN-0001-open-and-call: test"), "{text}");
    assert!(
        !target.join("plugspec-fixtures").exists(),
        "listing built fixtures"
    );
}

#[test]
fn bad_test_threads_and_colors_are_usage_errors() {
    for bad in [
        &["test", "--test-threads", "0"][..],
        &["test", "--test-threads", "many"],
        &["test", "--color", "sometimes"],
    ] {
        let out = plugspec().args(bad).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.starts_with("error: invalid value"),
            "{bad:?}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{bad:?}");
    }
    for good in ["auto", "always", "never"] {
        let out = plugspec()
            .args(["test", "--list", "--color", good])
            .output()
            .unwrap();
        assert!(out.status.success(), "--color {good}");
    }
}

#[test]
fn a_closed_pipe_ends_listing_quietly() {
    for command in [&["list"][..], &["rules"], &["test", "--list"]] {
        let mut child = plugspec()
            .args(command)
            .env("RUST_BACKTRACE", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close the only reading end before the command has printed anything (it has still
        // to read the suite): every write of it goes into a closed pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(101), "{command:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{command:?}: {stderr}");
        assert!(stderr.is_empty(), "{command:?}: {stderr}");
    }
}

#[test]
fn counts_of_one_are_singular() {
    let out = plugspec().arg("rules").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(" 1 case  "), "{text}");
    assert!(!text.contains(" 1 cases"), "{text}");
}
