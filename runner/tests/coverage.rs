//! Every MUST and SHOULD rule of SPEC.md has at least one case (or is listed in
//! `conformance/coverage.toml` with what checks it instead), and every case names rules that
//! exist (the case loader rejects unknown rule IDs).

use std::path::Path;

use plugspec::rules::Level;
use plugspec_runner::case::load_suite;
use plugspec_runner::coverage::{Coverage, cases_by_rule, uncovered};
use plugspec_runner::fixtures::Catalog;

#[test]
fn every_must_and_should_rule_has_a_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let catalog = Catalog::scan(&root.join("fixtures")).expect("fixtures");
    let cases = root.join("conformance");
    let suite = load_suite(&cases, &catalog).unwrap_or_else(|errors| {
        panic!(
            "invalid cases:\n{}",
            errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    let coverage = Coverage::load(&cases).expect("coverage.toml");
    let missing: Vec<&str> = uncovered(&suite, &coverage).iter().map(|r| r.id).collect();
    assert!(
        missing.is_empty(),
        "MUST/SHOULD rules without a case: {missing:?}"
    );
    // Rules listed as checked elsewhere really have no case (else the entry is stale).
    for (rule, ids) in cases_by_rule(&suite) {
        if coverage.elsewhere.contains_key(rule.id) {
            assert!(
                ids.is_empty(),
                "{} has cases {ids:?}: drop it from coverage.toml",
                rule.id
            );
            assert!(matches!(rule.level, Level::Must | Level::Should));
        }
    }
    for case in &suite.cases {
        for id in &case.rules {
            assert!(plugspec::rules::get(id).is_some(), "{}: {id}", case.id);
        }
    }
}
