//! `conformance/README.md` and `conformance/case.schema.json` are what the runner's types render
//! ([`plugspec_runner::authoring`]); a change to the case format without them fails here.
//! `PLUGSPEC_BLESS=1` rewrites both. The schema is also checked against every case in the suite:
//! each one (TOML read as JSON) is valid, and keys the runner rejects are rejected by it too.

mod json_schema;

use std::path::{Path, PathBuf};

use plugspec_runner::authoring;
use serde_json::Value;

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance")
}

fn check_or_bless(path: &Path, rendered: &str) {
    if std::env::var_os("PLUGSPEC_BLESS").is_some() {
        std::fs::write(path, rendered).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == rendered,
        "{} is stale: run `PLUGSPEC_BLESS=1 cargo test -p plugspec-runner --test authoring` and commit it\n{}",
        path.display(),
        similar::TextDiff::from_lines(committed.as_str(), rendered)
            .unified_diff()
            .context_radius(2)
    );
}

#[test]
fn the_case_readme_is_current() {
    let readme = authoring::case_readme().unwrap();
    for must in [
        "## Operations",
        "### `open`",
        "### `alter_manifest`",
        "`$FIXTURE(name)`",
        "| `open/` | `OPN-` |",
    ] {
        assert!(readme.contains(must), "the README lacks {must:?}");
    }
    check_or_bless(&conformance().join("README.md"), &readme);
}

#[test]
fn the_case_schema_is_current() {
    let schema = serde_json::to_string_pretty(&authoring::case_schema()).unwrap() + "\n";
    check_or_bless(&conformance().join("case.schema.json"), &schema);
}

fn cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for area in std::fs::read_dir(conformance()).unwrap() {
        let area = area.unwrap().path();
        if !area.is_dir() || area.ends_with("kits") {
            continue;
        }
        for file in std::fs::read_dir(&area).unwrap() {
            let file = file.unwrap().path();
            if file.extension().is_some_and(|e| e == "toml") {
                out.push(file);
            }
        }
    }
    out.sort();
    out
}

fn as_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    serde_json::to_value(table).unwrap()
}

#[test]
fn every_case_in_the_suite_is_valid_against_the_schema() {
    let schema = authoring::case_schema();
    let files = cases();
    assert!(files.len() > 100, "only {} cases found", files.len());
    for file in files {
        let mut errors = Vec::new();
        json_schema::validate(&schema, &schema, &as_json(&file), "", &mut errors);
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn the_schema_rejects_what_the_runner_rejects() {
    let schema = authoring::case_schema();
    let base = as_json(&conformance().join("open/OPN-0001-open-and-call.toml"));
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = base.clone();
        f(&mut v);
        let mut errors = Vec::new();
        json_schema::validate(&schema, &schema, &v, "", &mut errors);
        errors
    };
    assert!(broken(&|_| {}).is_empty());
    // An unknown top-level key.
    assert!(!broken(&|v| { v["colour"] = "blue".into() }).is_empty());
    // An unknown operation.
    assert!(!broken(&|v| { v["step"][0]["op"] = "unload".into() }).is_empty());
    // A key of another operation.
    assert!(!broken(&|v| { v["step"][0]["symbol"] = "add".into() }).is_empty());
    // An expectation that does not apply to `open`.
    assert!(
        !broken(&|v| { v["step"][0]["expect"] = serde_json::json!({ "value": 3 }) }).is_empty()
    );
}
