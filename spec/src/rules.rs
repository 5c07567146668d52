//! The normative rules of `spec/SPEC.md`, as data.
//!
//! SPEC.md is the single source of truth. This module embeds it ([`SPEC_MD`]) and parses its
//! rules the first time they are asked for ([`all`], [`get`]), so the document and the data
//! cannot drift apart. The runner uses the catalogue to report per rule, and CI uses it to fail
//! on a rule that no case checks.
//!
//! A rule in SPEC.md sits under a level-2 heading whose text ends with its area in parentheses
//! (`## Open and identity (OPEN)`) and has exactly this form:
//!
//! ```text
//! ### OPEN-1 · MUST · Resolve the path before anything else
//!
//! > `open` resolves the path it is given (...) before it consults the cache; ...
//!
//! Go: R6/R7 — `realpath(3)` first; `plugin.Open("missing.so"): realpath failed`.
//! ```
//!
//! Any level-3 heading that starts like a rule ID (letters, `-`, a digit) is parsed as a rule,
//! and a malformed one is an error that names its line. Fenced code blocks are skipped.
//!
//! A rule whose sentence holds several separately testable requirements lists them after its
//! `Go: ` paragraph as clauses with stable sub-IDs ([`Clause`], [`clauses`]), each checked on its
//! own by the cases:
//!
//! ```text
//! Clauses:
//! - `VER-4.a` A package only the host declares is no difference.
//! - `VER-4.b` A package only the plugin declares is no difference.
//! ```

#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// The text of `spec/SPEC.md`, the normative specification.
pub const SPEC_MD: &str = include_str!("../SPEC.md");

/// The version of the specification. SPEC.md states the same version, and a test checks that
/// the two agree.
pub const SPEC_VERSION: &str = "3.0.0";

/// The rule areas, in the order SPEC.md presents them. A rule ID is `<AREA>-<n>`.
pub const AREAS: [&str; 10] = [
    "API", "OPEN", "CACHE", "INIT", "LOOKUP", "UNLOAD", "VER", "PLAT", "DISC", "ERR",
];

/// How binding a rule is, in the sense of RFC 2119.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// An absolute requirement: a conforming loader satisfies it.
    Must,
    /// A requirement a loader may deviate from only with a documented reason.
    Should,
    /// An optional feature; a loader that offers it behaves as the rule says.
    May,
    /// A rule that no longer applies; it stays listed so that its ID is never reused.
    Retired,
}

impl Level {
    /// Every level, strictest first.
    pub const ALL: [Level; 4] = [Level::Must, Level::Should, Level::May, Level::Retired];

    /// The level as SPEC.md writes it: `MUST`, `SHOULD`, `MAY` or `RETIRED`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
            Level::Retired => "RETIRED",
        }
    }

    /// Parses [`Level::as_str`] back (exactly, in capitals).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|level| level.as_str() == name)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule {
    /// The stable ID, such as `OPEN-1`. IDs are never reused.
    pub id: &'static str,
    /// How binding the rule is.
    pub level: Level,
    /// The area, one of [`AREAS`], such as `OPEN`.
    pub area: &'static str,
    /// The short title from the rule's heading.
    pub title: &'static str,
    /// The rule itself: the one sentence of the `> ` line, without the `> `.
    pub text: &'static str,
    /// The Go behaviour the rule comes from, or why plugspec differs: the `Go: ` paragraph,
    /// without the `Go: `.
    pub go: &'static str,
}

impl Rule {
    /// The number after the area in the ID (`3` for `OPEN-3`).
    ///
    /// # Panics
    ///
    /// If `id` does not end in `-<number>`, which the ID of a parsed rule always does.
    #[must_use]
    pub fn number(&self) -> u32 {
        self.id
            .rsplit_once('-')
            .and_then(|(_, n)| n.parse().ok())
            .expect("a parsed rule ID ends in a number")
    }
}

/// A separately testable clause of a rule, such as `VER-4.b`. IDs are never reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Clause {
    /// The stable ID: the rule's ID, a dot and lowercase letters (`VER-4.b`).
    pub id: &'static str,
    /// The rule it belongs to (`VER-4`).
    pub rule: &'static str,
    /// What the clause requires, one sentence.
    pub text: &'static str,
}

/// Every clause of [`SPEC_MD`], in document order. Parsed once, on first use.
///
/// # Panics
///
/// If SPEC.md is malformed. The crate's own tests rule this out for the embedded document.
#[must_use]
pub fn clauses() -> &'static [Clause] {
    static CLAUSES: OnceLock<Vec<Clause>> = OnceLock::new();
    CLAUSES.get_or_init(|| parse_clauses(SPEC_MD).unwrap_or_else(|e| panic!("spec/SPEC.md: {e}")))
}

/// The clause with this ID, such as `clause("VER-4.b")`.
#[must_use]
pub fn clause(id: &str) -> Option<&'static Clause> {
    clauses().iter().find(|c| c.id == id)
}

/// The clauses of the rule `rule_id`, in document order (none for a rule that is one clause).
#[must_use]
pub fn clauses_of(rule_id: &str) -> Vec<&'static Clause> {
    clauses().iter().filter(|c| c.rule == rule_id).collect()
}

/// Parses the clause lists out of a SPEC.md-formatted document, in document order.
///
/// A list starts with a line `Clauses:` after a rule's `Go: ` paragraph and has one line per
/// clause: `` - `<rule ID>.<letters>` <text> ``. Rejects a clause ID that does not extend the
/// rule's own ID by a dot and lowercase letters, a duplicate ID, an empty text, and a list
/// outside a rule.
///
/// # Errors
///
/// A message `line <n>: <what is wrong>` for the first problem found.
pub fn parse_clauses(markdown: &'static str) -> Result<Vec<Clause>, String> {
    let lines = split_lines(markdown);
    let mut out: Vec<Clause> = Vec::new();
    let mut rule: Option<&'static str> = None;
    let mut in_list = false;
    let mut in_fence = false;
    for (index, line) in lines.iter().enumerate() {
        let text = line.text.trim_end();
        let n = index + 1;
        if is_fence(text) {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if let Some(heading) = text.strip_prefix("### ") {
            rule = looks_like_rule(heading)
                .then(|| heading.split(' ').next())
                .flatten();
            in_list = false;
            continue;
        }
        if text.starts_with('#') {
            rule = None;
            in_list = false;
            continue;
        }
        if text == "Clauses:" {
            if rule.is_none() {
                return Err(format!("line {n}: a clause list outside a rule"));
            }
            in_list = true;
            continue;
        }
        if !in_list {
            continue;
        }
        if is_blank(text) {
            in_list = false;
            continue;
        }
        let rule_id = rule.unwrap_or_default();
        let item = text
            .strip_prefix("- `")
            .and_then(|rest| rest.split_once("` "))
            .ok_or_else(|| {
                format!(
                    "line {n}: a clause of `{rule_id}` must read `- `{rule_id}.<letters>` <text>`"
                )
            })?;
        let (id, clause_text) = (item.0, item.1.trim());
        let valid = id
            .strip_prefix(rule_id)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|sub| !sub.is_empty() && sub.bytes().all(|b| b.is_ascii_lowercase()));
        if !valid {
            return Err(format!(
                "line {n}: clause ID `{id}` is not `{rule_id}.` followed by lowercase letters"
            ));
        }
        if clause_text.is_empty() {
            return Err(format!("line {n}: clause `{id}` has no text"));
        }
        if out.iter().any(|c| c.id == id) {
            return Err(format!("line {n}: duplicate clause ID `{id}`"));
        }
        out.push(Clause {
            id,
            rule: rule_id,
            text: clause_text,
        });
    }
    Ok(out)
}

/// Every rule of [`SPEC_MD`], in document order. Parsed once, on first use.
///
/// # Panics
///
/// If SPEC.md is malformed. The crate's own tests rule this out for the embedded document.
#[must_use]
pub fn all() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| parse(SPEC_MD).unwrap_or_else(|e| panic!("spec/SPEC.md: {e}")))
}

/// The rule with this ID, such as `get("OPEN-1")`.
#[must_use]
pub fn get(id: &str) -> Option<&'static Rule> {
    all().iter().find(|rule| rule.id == id)
}

/// Parses the rules out of a SPEC.md-formatted document, in document order.
///
/// Rejects a malformed rule (unknown level, missing `> ` line or `Go: ` paragraph, stray text
/// after it), a duplicate ID, an ID whose area is not one of [`AREAS`], a rule outside an area
/// section or under another area's section, and an unclosed code fence. The error names the
/// line (counted from 1) and what is wrong.
///
/// # Errors
///
/// A message `line <n>: <what is wrong>` for the first problem found.
pub fn parse(markdown: &'static str) -> Result<Vec<Rule>, String> {
    let lines = split_lines(markdown);
    let mut rules = Vec::new();
    let mut first_line_of: HashMap<&'static str, usize> = HashMap::new();
    let mut section_area: Option<&'static str> = None;
    let mut fence_opened_at: Option<usize> = None;
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index].text.trim_end();
        if is_fence(line) {
            fence_opened_at = match fence_opened_at {
                Some(_) => None,
                None => Some(index),
            };
            index += 1;
            continue;
        }
        if fence_opened_at.is_some() {
            index += 1;
            continue;
        }
        if let Some(heading) = line.strip_prefix("### ") {
            if looks_like_rule(heading) {
                let (rule, next) = parse_rule(markdown, &lines, index, section_area)?;
                if let Some(first) = first_line_of.insert(rule.id, index + 1) {
                    return Err(format!(
                        "line {}: duplicate rule ID `{}` (first defined on line {first})",
                        index + 1,
                        rule.id
                    ));
                }
                rules.push(rule);
                index = next;
                continue;
            }
        } else if let Some(heading) = line.strip_prefix("## ") {
            section_area = area_of_section(heading);
        } else if line.starts_with("# ") {
            section_area = None;
        }
        index += 1;
    }
    if let Some(opened) = fence_opened_at {
        return Err(format!(
            "line {}: code fence opened here is never closed",
            opened + 1
        ));
    }
    Ok(rules)
}

/// One line of the document: where it starts and its text without the line ending.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    text: &'static str,
}

fn split_lines(markdown: &'static str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for piece in markdown.split_inclusive('\n') {
        let text = piece.strip_suffix('\n').unwrap_or(piece);
        let text = text.strip_suffix('\r').unwrap_or(text);
        lines.push(Line { start, text });
        start += piece.len();
    }
    lines
}

fn is_fence(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("```") || line.starts_with("~~~")
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// Whether a level-3 heading's text starts like a rule ID: ASCII letters, `-`, a digit.
fn looks_like_rule(heading: &str) -> bool {
    let letters = heading.bytes().take_while(u8::is_ascii_alphabetic).count();
    letters > 0
        && heading[letters..]
            .strip_prefix('-')
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// The area of a level-2 heading whose text ends with `(<AREA>)`, if it is one of [`AREAS`].
fn area_of_section(heading: &'static str) -> Option<&'static str> {
    let inner = heading.trim_end().strip_suffix(')')?;
    let (_, area) = inner.rsplit_once('(')?;
    AREAS.contains(&area).then_some(area)
}

/// Checks a rule ID (`<AREA>-<n>`) and returns its area.
fn area_of_id(id: &'static str, line: usize) -> Result<&'static str, String> {
    let Some((area, number)) = id.split_once('-') else {
        return Err(format!(
            "line {line}: rule ID `{id}` is not of the form <AREA>-<n>"
        ));
    };
    if !AREAS.contains(&area) {
        return Err(format!(
            "line {line}: rule ID `{id}` has the area prefix `{area}`, which is not one of {}",
            AREAS.join(", ")
        ));
    }
    let digits_only = !number.is_empty() && number.bytes().all(|b| b.is_ascii_digit());
    if !digits_only || number.starts_with('0') {
        return Err(format!(
            "line {line}: rule ID `{id}` must end in a number from 1 without leading zeros"
        ));
    }
    Ok(area)
}

/// The parts of a rule heading `### <ID> · <LEVEL> · <title>`.
struct Heading {
    id: &'static str,
    level: Level,
    area: &'static str,
    title: &'static str,
}

/// Parses the heading on 1-based line `line` and checks that it sits under its area's section.
fn parse_heading(
    text: &'static str,
    line: usize,
    section_area: Option<&'static str>,
) -> Result<Heading, String> {
    let heading = text.strip_prefix("### ").unwrap_or(text);
    let mut parts = heading.splitn(3, " · ");
    let (Some(id), Some(level), Some(title)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!(
            "line {line}: a rule heading must read `### <ID> · <LEVEL> · <title>` \
             (separated by ` · `, a middle dot with a space on each side), found `### {heading}`"
        ));
    };
    let area = area_of_id(id, line)?;
    let level = Level::from_name(level).ok_or_else(|| {
        format!(
            "line {line}: rule `{id}` has the unknown level `{level}` \
             (expected MUST, SHOULD, MAY or RETIRED)"
        )
    })?;
    let title = title.trim();
    if title.is_empty() {
        return Err(format!("line {line}: rule `{id}` has no title"));
    }
    match section_area {
        None => Err(format!(
            "line {line}: rule `{id}` is not under an area section \
             (a `## ` heading ending in `({area})`)"
        )),
        Some(section) if section != area => Err(format!(
            "line {line}: rule `{id}` belongs to area {area} but is under the \
             section for {section}"
        )),
        Some(_) => Ok(Heading {
            id,
            level,
            area,
            title,
        }),
    }
}

/// Parses the rule whose heading is `lines[at]`; returns it and the index of the first line
/// after it.
fn parse_rule(
    markdown: &'static str,
    lines: &[Line],
    at: usize,
    section_area: Option<&'static str>,
) -> Result<(Rule, usize), String> {
    let Heading {
        id,
        level,
        area,
        title,
    } = parse_heading(lines[at].text.trim_end(), at + 1, section_area)?;

    let text_at = |i: usize| lines.get(i).map(|line| line.text.trim_end());
    let expect_blank = |i: usize, after: &str| match text_at(i) {
        Some(line) if !is_blank(line) => Err(format!(
            "line {}: expected a blank line after the {after} of rule `{id}`",
            i + 1
        )),
        _ => Ok(()),
    };

    expect_blank(at + 1, "heading")?;
    let text = text_at(at + 2)
        .and_then(|line| line.strip_prefix("> "))
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| {
            format!(
                "line {}: expected the rule sentence of `{id}`: one line starting with `> `",
                at + 3
            )
        })?;
    if text_at(at + 3).is_some_and(|line| line.starts_with('>')) {
        return Err(format!(
            "line {}: the rule sentence of `{id}` must be a single `> ` line",
            at + 4
        ));
    }
    expect_blank(at + 3, "rule sentence")?;

    let go_at = at + 4;
    let go_first = text_at(go_at)
        .filter(|line| line.starts_with("Go: ") && !is_blank(&line["Go: ".len()..]))
        .ok_or_else(|| {
            format!(
                "line {}: expected the `Go: ` paragraph of rule `{id}`",
                go_at + 1
            )
        })?;
    let mut go_last = go_at;
    while let Some(line) = text_at(go_last + 1) {
        if is_blank(line) || line.starts_with('#') || is_fence(line) {
            break;
        }
        go_last += 1;
    }
    let go = if go_last == go_at {
        go_first["Go: ".len()..].trim()
    } else {
        let begin = lines[go_at].start + "Go: ".len();
        let end = lines[go_last].start + lines[go_last].text.trim_end().len();
        markdown[begin..end].trim()
    };

    let mut next = go_last + 1;
    while text_at(next).is_some_and(is_blank) {
        next += 1;
    }
    // An optional clause list (parsed by `parse_clauses`).
    if text_at(next) == Some("Clauses:") {
        next += 1;
        while text_at(next).is_some_and(|line| line.starts_with("- ")) {
            next += 1;
        }
        while text_at(next).is_some_and(is_blank) {
            next += 1;
        }
    }
    if let Some(line) = text_at(next)
        && !line.starts_with('#')
    {
        return Err(format!(
            "line {}: unexpected text after the `Go: ` paragraph of rule `{id}` \
             (a rule ends with its `Go: ` paragraph or its `Clauses:` list)",
            next + 1
        ));
    }

    let rule = Rule {
        id,
        level,
        area,
        title,
        text,
        go,
    };
    Ok((rule, next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    /// Counts rule-like headings without the parser: `### [A-Z]+-[0-9]+ ` outside code fences.
    fn count_rule_headings(markdown: &str) -> usize {
        let mut in_fence = false;
        let mut count = 0;
        for line in markdown.lines() {
            if line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~") {
                in_fence = !in_fence;
                continue;
            }
            let Some(rest) = line.strip_prefix("### ").filter(|_| !in_fence) else {
                continue;
            };
            let upper = rest.bytes().take_while(u8::is_ascii_uppercase).count();
            let Some(rest) = rest[upper..].strip_prefix('-').filter(|_| upper > 0) else {
                continue;
            };
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && rest[digits..].starts_with(' ') {
                count += 1;
            }
        }
        count
    }

    const GOOD: &str = "\
# Title

## Open and identity (OPEN)

Intro text of the section.

### OPEN-1 · MUST · Resolve first

> `open` resolves the path.

Go: R6 — `realpath failed`.

### OPEN-2 · SHOULD · Wrapped Go paragraph

> A second sentence.

Go: differs — first line
second line.

## Notes

```text
### OPEN-9 · BOGUS · inside a fence is not a rule
```
";

    fn error_of(markdown: &'static str) -> String {
        parse(markdown).expect_err("malformed input must be rejected")
    }

    #[test]
    fn parses_a_well_formed_document() {
        let rules = parse(GOOD).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(
            rules[0],
            Rule {
                id: "OPEN-1",
                level: Level::Must,
                area: "OPEN",
                title: "Resolve first",
                text: "`open` resolves the path.",
                go: "R6 — `realpath failed`.",
            }
        );
        assert_eq!(rules[1].level, Level::Should);
        assert_eq!(rules[1].go, "differs — first line\nsecond line.");
        assert_eq!(rules[1].number(), 2);
    }

    #[test]
    fn accepts_crlf_line_endings() {
        let rules =
            parse("## A (API)\r\n\r\n### API-1 · MAY · T\r\n\r\n> S.\r\n\r\nGo: none — x.\r\n")
                .unwrap();
        assert_eq!(rules[0].text, "S.");
        assert_eq!(rules[0].go, "none — x.");
    }

    #[test]
    fn rejects_an_unknown_level() {
        let e = error_of("## A (API)\n\n### API-1 · MUSTN'T · T\n\n> S.\n\nGo: x.\n");
        assert!(e.starts_with("line 3:"), "{e}");
        assert!(e.contains("unknown level `MUSTN'T`"), "{e}");
    }

    #[test]
    fn rejects_a_heading_without_the_middle_dot_separators() {
        let e = error_of("## A (API)\n\n### API-1 - MUST - T\n\n> S.\n\nGo: x.\n");
        assert!(e.starts_with("line 3:"), "{e}");
        assert!(e.contains("` · `"), "{e}");
    }

    #[test]
    fn rejects_a_missing_rule_sentence() {
        let e = error_of("## A (API)\n\n### API-1 · MUST · T\n\nGo: x.\n");
        assert!(e.starts_with("line 5:"), "{e}");
        assert!(e.contains("rule sentence of `API-1`"), "{e}");
    }

    #[test]
    fn rejects_a_rule_sentence_over_two_lines() {
        let e = error_of("## A (API)\n\n### API-1 · MUST · T\n\n> S\n> more.\n\nGo: x.\n");
        assert!(e.starts_with("line 6:"), "{e}");
        assert!(e.contains("single `> ` line"), "{e}");
    }

    #[test]
    fn rejects_a_missing_go_paragraph() {
        let e = error_of("## A (API)\n\n### API-1 · MUST · T\n\n> S.\n\nGo x.\n");
        assert!(e.starts_with("line 7:"), "{e}");
        assert!(e.contains("`Go: ` paragraph of rule `API-1`"), "{e}");
        let e = error_of("## A (API)\n\n### API-1 · MUST · T\n\n> S.\n");
        assert!(e.starts_with("line 7:"), "{e}");
    }

    #[test]
    fn rejects_stray_text_after_the_go_paragraph() {
        let e = error_of("## A (API)\n\n### API-1 · MUST · T\n\n> S.\n\nGo: x.\n\nMore.\n");
        assert!(e.starts_with("line 9:"), "{e}");
        assert!(e.contains("unexpected text"), "{e}");
    }

    #[test]
    fn rejects_a_duplicate_id() {
        let e = error_of(
            "## A (API)\n\n### API-1 · MUST · T\n\n> S.\n\nGo: x.\n\n### API-1 · MAY · U\n\n> S.\n\nGo: y.\n",
        );
        assert!(e.starts_with("line 9:"), "{e}");
        assert!(e.contains("duplicate rule ID `API-1`"), "{e}");
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn rejects_an_unknown_area_prefix() {
        let e = error_of("## A (API)\n\n### FOO-1 · MUST · T\n\n> S.\n\nGo: x.\n");
        assert!(e.starts_with("line 3:"), "{e}");
        assert!(e.contains("area prefix `FOO`"), "{e}");
        let e = error_of("## A (API)\n\n### Api-1 · MUST · T\n\n> S.\n\nGo: x.\n");
        assert!(e.contains("area prefix `Api`"), "{e}");
    }

    #[test]
    fn rejects_a_malformed_number() {
        let e = error_of("## A (API)\n\n### API-01 · MUST · T\n\n> S.\n\nGo: x.\n");
        assert!(e.starts_with("line 3:"), "{e}");
        let e = error_of("## A (API)\n\n### API-1x · MUST · T\n\n> S.\n\nGo: x.\n");
        assert!(e.starts_with("line 3:"), "{e}");
    }

    #[test]
    fn rejects_a_rule_under_another_areas_section() {
        let e = error_of("## Caching (CACHE)\n\n### OPEN-1 · MUST · T\n\n> S.\n\nGo: x.\n");
        assert!(e.starts_with("line 3:"), "{e}");
        assert!(e.contains("area OPEN"), "{e}");
        assert!(e.contains("section for CACHE"), "{e}");
    }

    #[test]
    fn rejects_a_rule_outside_any_area_section() {
        let e = error_of("# T\n\n## Terms\n\n### OPEN-1 · MUST · T\n\n> S.\n\nGo: x.\n");
        assert!(e.starts_with("line 5:"), "{e}");
        assert!(e.contains("not under an area section"), "{e}");
    }

    #[test]
    fn rejects_an_unclosed_fence() {
        let e = error_of("## A (API)\n\n```\n### API-1 · MUST · T\n");
        assert!(e.starts_with("line 3:"), "{e}");
    }

    #[test]
    fn levels_round_trip_through_their_names() {
        for level in Level::ALL {
            assert_eq!(Level::from_name(level.as_str()), Some(level));
            assert_eq!(level.to_string(), level.as_str());
        }
        assert_eq!(Level::from_name("must"), None);
    }

    #[test]
    fn the_catalogue_is_complete() {
        let rules = all();
        assert!(rules.len() >= 40, "only {} rules", rules.len());
        let ids: BTreeSet<_> = rules.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), rules.len(), "rule IDs are not unique");
        for area in AREAS {
            assert!(
                rules.iter().any(|r| r.area == area),
                "no rule in area {area}"
            );
        }
        for level in [Level::Must, Level::Should, Level::May] {
            assert!(rules.iter().any(|r| r.level == level), "no {level} rule");
        }
    }

    #[test]
    fn every_rule_like_heading_is_parsed() {
        assert_eq!(count_rule_headings(SPEC_MD), all().len());
        assert_eq!(count_rule_headings(GOOD), 2);
    }

    #[test]
    fn numbers_run_from_one_without_gaps_in_each_area() {
        // IDs are never reused and retired rules stay listed, so a gap means a deleted rule.
        let mut numbers: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for rule in all() {
            numbers.entry(rule.area).or_default().push(rule.number());
        }
        for (area, mut found) in numbers {
            found.sort_unstable();
            let count = u32::try_from(found.len()).expect("fewer than 2^32 rules");
            let expected: Vec<u32> = (1..=count).collect();
            assert_eq!(found, expected, "rule numbers of area {area}");
        }
    }

    #[test]
    fn areas_appear_in_the_documented_order() {
        let mut order: Vec<&str> = all().iter().map(|r| r.area).collect();
        order.dedup();
        assert_eq!(
            order, AREAS,
            "each area is one contiguous section, in AREAS order"
        );
    }

    #[test]
    fn the_document_states_this_version() {
        let declared: Vec<&str> = SPEC_MD
            .lines()
            .filter_map(|line| line.strip_prefix("**Spec version:** "))
            .collect();
        assert_eq!(declared, [SPEC_VERSION]);
        assert!(SPEC_MD.contains(&format!("version **{SPEC_VERSION}**")));
    }

    #[test]
    fn get_finds_rules_by_id() {
        let rule = get("OPEN-1").expect("OPEN-1 exists");
        assert_eq!(rule.area, "OPEN");
        assert_eq!(rule.level, Level::Must);
        assert!(rule.go.starts_with("R6"), "{}", rule.go);
        assert_eq!(get("OPEN-0"), None);
        assert_eq!(get("open-1"), None);
    }

    #[test]
    fn rules_cited_elsewhere_in_the_crate_say_what_they_are_cited_for() {
        // error.rs cites CACHE-3 for stickiness; contract.rs cites PLAT-2 for refusal.
        assert!(get("CACHE-3").unwrap().text.contains("(previous failure)"));
        assert!(get("PLAT-2").unwrap().text.contains("unsupported_platform"));
    }

    #[test]
    fn every_rule_is_one_sentence_with_a_go_paragraph() {
        for rule in all() {
            assert!(rule.text.ends_with('.'), "{}: {}", rule.id, rule.text);
            assert!(!rule.go.is_empty(), "{}", rule.id);
            assert!(!rule.title.is_empty(), "{}", rule.id);
        }
    }

    #[test]
    fn clauses_extend_their_rules() {
        let all = clauses();
        assert!(all.len() >= 20, "{} clauses", all.len());
        for c in all {
            let rule = get(c.rule).unwrap_or_else(|| panic!("{}: no rule {}", c.id, c.rule));
            assert_eq!(c.id.split_once('.').map(|(r, _)| r), Some(rule.id));
            assert!(!c.text.is_empty());
        }
        assert_eq!(
            clauses_of("VER-4").iter().map(|c| c.id).collect::<Vec<_>>(),
            ["VER-4.a", "VER-4.b", "VER-4.c"]
        );
        assert!(clause("VER-4.b").is_some());
        assert!(clause("VER-4.z").is_none());
        assert!(clauses_of("OPEN-2").is_empty());
    }

    #[test]
    fn malformed_clauses_are_rejected_with_their_line() {
        let rule =
            "## Versions (VER)\n\n### VER-1 · MUST · T\n\n> Text.\n\nGo: none.\n\nClauses:\n";
        let doc =
            |list: &str| -> &'static str { Box::leak(format!("{rule}{list}").into_boxed_str()) };
        assert_eq!(parse(doc("- `VER-1.a` One.\n")).map(|r| r.len()), Ok(1));
        assert_eq!(
            parse_clauses(doc("- `VER-1.a` One.\n- `VER-1.b` Two.\n")).map(|c| c.len()),
            Ok(2)
        );
        for (list, problem) in [
            (
                "- `VER-2.a` Other rule.\n",
                "line 10: clause ID `VER-2.a` is not `VER-1.`",
            ),
            ("- `VER-1.A` Capital.\n", "line 10: clause ID"),
            ("- `VER-1.` Empty.\n", "line 10: clause ID"),
            (
                "- `VER-1.a` One.\n- `VER-1.a` Again.\n",
                "line 11: duplicate clause ID",
            ),
            (
                "- VER-1.a no backquotes\n",
                "line 10: a clause of `VER-1` must read",
            ),
        ] {
            let e = parse_clauses(doc(list)).expect_err(list);
            assert!(e.contains(problem), "{list}: {e}");
        }
        let stray = "## Versions (VER)\n\nClauses:\n- `VER-1.a` One.\n";
        assert!(parse_clauses(stray).is_err());
    }
}
