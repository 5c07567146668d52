//! Rule coverage: which rules the cases check, and the few rules that no run-time case can
//! check, listed in `conformance/coverage.toml` with where they are checked instead.
//!
//! ```toml
//! [[elsewhere]]
//! rule = "PLAT-3"
//! reason = "a build property: the crate compiles for every target"
//! checked_by = "CI: cargo check for refusing targets"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::case::Suite;

/// A rule checked outside the cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Elsewhere {
    /// The rule ID.
    pub rule: String,
    /// Why no case can check it.
    pub reason: String,
    /// What checks it instead.
    pub checked_by: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    elsewhere: Vec<Elsewhere>,
}

/// The coverage index: rules checked elsewhere, by rule ID.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Clauses (`VER-4.b`) no case checks, by clause ID, with why and what checks them instead.
    pub elsewhere_clauses: BTreeMap<String, Elsewhere>,
    /// By rule ID.
    pub elsewhere: BTreeMap<String, Elsewhere>,
}

impl Coverage {
    /// Reads `coverage.toml` from the cases directory (missing: empty).
    pub fn load(cases_dir: &Path) -> Result<Coverage, String> {
        let path = cases_dir.join("coverage.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Coverage::default()),
            Err(e) => return Err(format!("{}: cannot read: {e}", path.display())),
        };
        let file: File = toml::from_str(&text)
            .map_err(|e| format!("{}: {}", path.display(), e.to_string().trim()))?;
        let mut elsewhere = BTreeMap::new();
        let mut elsewhere_clauses = BTreeMap::new();
        for e in file.elsewhere {
            if plugspec::rules::get(&e.rule).is_some() {
                elsewhere.insert(e.rule.clone(), e);
            } else if plugspec::rules::clause(&e.rule).is_some() {
                elsewhere_clauses.insert(e.rule.clone(), e);
            } else {
                return Err(format!(
                    "{}: unknown rule or clause ID {:?}",
                    path.display(),
                    e.rule
                ));
            }
        }
        Ok(Coverage {
            elsewhere,
            elsewhere_clauses,
        })
    }
}

/// The case IDs checking each rule, for every rule of the catalogue (in catalogue order).
pub fn cases_by_rule(suite: &Suite) -> Vec<(&'static plugspec::rules::Rule, Vec<String>)> {
    plugspec::rules::all()
        .iter()
        .map(|r| {
            (
                r,
                suite
                    .cases
                    .iter()
                    .filter(|c| c.rules.iter().any(|id| id == r.id))
                    .map(|c| c.id.clone())
                    .collect(),
            )
        })
        .collect()
}

/// MUST and SHOULD rules that no case checks and that `coverage.toml` does not account for.
pub fn uncovered(suite: &Suite, coverage: &Coverage) -> Vec<&'static plugspec::rules::Rule> {
    use plugspec::rules::Level;
    cases_by_rule(suite)
        .into_iter()
        .filter(|(r, cases)| {
            matches!(r.level, Level::Must | Level::Should)
                && cases.is_empty()
                && !coverage.elsewhere.contains_key(r.id)
        })
        .map(|(r, _)| r)
        .collect()
}

/// Every clause of SPEC.md with the IDs of the cases that name it.
pub fn cases_by_clause(suite: &Suite) -> Vec<(&'static plugspec::rules::Clause, Vec<String>)> {
    plugspec::rules::clauses()
        .iter()
        .map(|cl| {
            (
                cl,
                suite
                    .cases
                    .iter()
                    .filter(|c| c.clauses.iter().any(|id| id == cl.id))
                    .map(|c| c.id.clone())
                    .collect(),
            )
        })
        .collect()
}

/// The clauses that no case names and `coverage.toml` does not account for. Every clause counts,
/// whatever its rule's level: a clause is listed because it is testable on its own.
pub fn uncovered_clauses(
    suite: &Suite,
    coverage: &Coverage,
) -> Vec<&'static plugspec::rules::Clause> {
    cases_by_clause(suite)
        .into_iter()
        .filter(|(cl, cases)| {
            plugspec::rules::get(cl.rule)
                .is_some_and(|r| r.level != plugspec::rules::Level::Retired)
                && cases.is_empty()
                && !coverage.elsewhere_clauses.contains_key(cl.id)
        })
        .map(|(cl, _)| cl)
        .collect()
}
