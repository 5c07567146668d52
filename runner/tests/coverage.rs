//! Every MUST and SHOULD rule of SPEC.md has at least one case, and every clause of a rule
//! (`VER-4.b`) is named by at least one case (or either is listed in
//! `conformance/coverage.toml` with why and what checks it instead), and every case names rules
//! and clauses that exist (the case loader rejects unknown IDs).

use std::path::Path;

use plugspec::rules::Level;
use plugspec_runner::case::load_suite;
use plugspec_runner::coverage::{
    Coverage, cases_by_clause, cases_by_rule, uncovered, uncovered_clauses,
};
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
    let missing: Vec<&str> = uncovered_clauses(&suite, &coverage)
        .iter()
        .map(|c| c.id)
        .collect();
    assert!(
        missing.is_empty(),
        "clauses without a case (name them in a case's `clauses`, or give a reason in coverage.toml): {missing:?}"
    );
    for (clause, ids) in cases_by_clause(&suite) {
        if coverage.elsewhere_clauses.contains_key(clause.id) {
            assert!(
                ids.is_empty(),
                "{} has cases {ids:?}: drop it from coverage.toml",
                clause.id
            );
        }
    }
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
