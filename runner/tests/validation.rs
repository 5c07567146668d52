//! The case format rejects bad cases with a message naming the file and the problem.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use plugspec_runner::case::{CaseError, Suite, load_suite};
use plugspec_runner::fixtures::Catalog;

fn catalog() -> Catalog {
    Catalog::scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")).expect("fixtures")
}

/// A fresh directory of cases holding these `(relative path, text)` files.
fn suite_dir(files: &[(&str, &str)]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "validation-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    dir
}

fn load(files: &[(&str, &str)]) -> Result<Suite, Vec<CaseError>> {
    load_suite(&suite_dir(files), &catalog())
}

/// Loading fails with exactly one error, for `file`, whose problem contains `needle`.
fn rejects(files: &[(&str, &str)], file: &str, needle: &str) {
    let errors = load(files).expect_err("the suite is invalid");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let shown = errors[0].to_string();
    assert!(errors[0].file.ends_with(file), "{shown}");
    assert!(shown.contains(needle), "{needle:?} not in {shown:?}");
}

const GOOD: &str = r#"
id = "OPN-9001"
title = "good"
rules = ["OPEN-2"]

[[step]]
op = "open"
fixture = "basic"
as = "p1"

[[step]]
op = "open"
fixture = "basic"
expect = { same_as = "p1" }
"#;

#[test]
fn a_good_case_loads() {
    let suite = load(&[("open/OPN-9001-good.toml", GOOD)]).expect("valid");
    assert_eq!(suite.cases.len(), 1);
    let case = &suite.cases[0];
    assert_eq!(case.trial_name(), "open/OPN-9001-good");
    assert_eq!(case.fixtures.iter().collect::<Vec<_>>(), ["basic"]);
}

#[test]
fn an_unknown_field_is_rejected() {
    let text = GOOD.replace("title = \"good\"", "title = \"good\"\ncolour = \"red\"");
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "unknown field `colour`",
    );
    let text = GOOD.replacen("as = \"p1\"", "as = \"p1\"\nfixtur = \"x\"", 1);
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 1: unknown field `fixtur`",
    );
    let text = GOOD.replace("same_as = \"p1\"", "same_as = \"p1\", sameas = \"p1\"");
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "unknown field `sameas`",
    );
}

#[test]
fn an_unknown_operation_is_rejected() {
    let text = GOOD.replace(
        "op = \"open\"\nfixture = \"basic\"\nas",
        "op = \"opne\"\nfixture = \"basic\"\nas",
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "unknown variant `opne`",
    );
}

#[test]
fn an_unknown_rule_is_rejected() {
    let text = GOOD.replace("OPEN-2", "OPEN-99");
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "unknown rule ID \"OPEN-99\"",
    );
}

#[test]
fn an_unknown_clause_is_rejected() {
    let text = GOOD.replace(
        "rules = [\"OPEN-2\"]",
        "rules = [\"OPEN-2\"]\nclauses = [\"OPEN-2.x\"]",
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "unknown clause ID \"OPEN-2.x\"",
    );
}

#[test]
fn a_clause_of_a_rule_the_case_does_not_name_is_rejected() {
    let text = GOOD.replace(
        "rules = [\"OPEN-2\"]",
        "rules = [\"OPEN-2\"]\nclauses = [\"VER-4.b\"]",
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "clause VER-4.b belongs to rule VER-4, which `rules` does not name",
    );
}

#[test]
fn a_duplicate_id_is_rejected() {
    rejects(
        &[
            ("open/OPN-9001-good.toml", GOOD),
            ("open/OPN-9001-again.toml", GOOD),
        ],
        "OPN-9001-good.toml",
        "duplicate case ID OPN-9001",
    );
}

#[test]
fn an_id_whose_prefix_is_another_areas_is_rejected() {
    rejects(
        &[("cache/OPN-9001-good.toml", GOOD)],
        "OPN-9001-good.toml",
        "filed under cache/, whose cases are CAC-NNNN",
    );
}

#[test]
fn an_id_not_matching_the_file_name_is_rejected() {
    rejects(
        &[("open/OPN-9002-good.toml", GOOD)],
        "OPN-9002-good.toml",
        "does not match the file name",
    );
}

#[test]
fn an_unknown_fixture_is_rejected() {
    let text = GOOD.replacen("fixture = \"basic\"", "fixture = \"nonesuch\"", 1);
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 1 (open): unknown fixture \"nonesuch\"",
    );
    let text = GOOD.replacen(
        "fixture = \"basic\"\nas",
        "path = \"$FIXTURE(nonesuch)\"\nas",
        1,
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "unknown fixture \"nonesuch\"",
    );
}

#[test]
fn an_undefined_handle_is_rejected() {
    let text = GOOD.replace("same_as = \"p1\"", "same_as = \"p2\"");
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 2 (open): undefined handle \"p2\"",
    );
    let text = format!("{GOOD}\n[[step]]\nop = \"call\"\nsymbol = \"add\"\n");
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 3 (call): undefined symbol \"add\"",
    );
    let text = format!(
        "{GOOD}\n[[step]]\nop = \"drop\"\nhandles = [\"p1\"]\n\n[[step]]\nop = \"lookup\"\nplugin = \"p1\"\nname = \"add\"\n"
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 4 (lookup): undefined handle \"p1\"",
    );
}

#[test]
fn an_unknown_error_kind_is_rejected() {
    let text = GOOD.replace(
        "expect = { same_as = \"p1\" }",
        "expect = { error = \"exploded\" }",
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "unknown error kind \"exploded\"",
    );
}

#[test]
fn an_expectation_that_does_not_apply_is_rejected() {
    let text = GOOD.replace("expect = { same_as = \"p1\" }", "expect = { value = 3 }");
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "expectation `value` does not apply to `open`",
    );
}

#[test]
fn each_operation_takes_only_its_own_expectation_keys() {
    // A key of `lookup`'s expectation type on `open_concurrent`.
    let text = GOOD.replace(
        "op = \"open\"\nfixture = \"basic\"\nexpect = { same_as = \"p1\" }",
        "op = \"open_concurrent\"\nfixture = \"basic\"\nthreads = 2\nexpect = { allocations = 0 }",
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 2 (open_concurrent): expectation `allocations` does not apply to `open_concurrent`",
    );
    // An operation that takes no `expect` at all.
    let text = format!(
        "{GOOD}\n[[step]]\nop = \"copy\"\nfrom = \"a\"\nto = \"b\"\nexpect = {{ value = 1 }}\n"
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 3 (copy): expectation `value` does not apply to `copy` (it takes no `expect`",
    );
    // A key of the right type with a value of the wrong type.
    let text = GOOD.replace("same_as = \"p1\"", "max_ms = \"soon\"");
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 2 (open): expect: invalid type",
    );
}

#[test]
fn a_success_key_beside_an_error_is_rejected() {
    let text = GOOD.replace(
        "expect = { same_as = \"p1\" }",
        "expect = { error = \"not_found\", identity = \"x\" }",
    );
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "step 2 (open): expectation `identity` describes a success, but the step expects error not_found",
    );
}

#[test]
fn env_after_an_open_is_rejected() {
    let text = format!("{GOOD}\n[[step]]\nop = \"env\"\nname = \"X\"\nvalue = \"1\"\n");
    rejects(
        &[("open/OPN-9001-good.toml", &text)],
        "OPN-9001-good.toml",
        "`env` must come before the first open",
    );
}

#[test]
fn malformed_toml_is_rejected_without_a_panic() {
    rejects(
        &[("open/OPN-9001-good.toml", "id = \"OPN-9001\"\ntitle = ")],
        "OPN-9001-good.toml",
        "",
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = load(&[
        ("open/OPN-9001-good.toml", &GOOD.replace("OPEN-2", "NOPE-1")),
        (
            "open/OPN-9003-other.toml",
            &GOOD
                .replace("OPN-9001", "OPN-9003")
                .replace("p1\" }", "zz\" }"),
        ),
    ])
    .expect_err("invalid");
    assert_eq!(errors.len(), 2, "{errors:?}");
}
