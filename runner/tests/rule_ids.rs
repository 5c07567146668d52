//! Every rule ID the code cites exists in SPEC.md. The code names a rule where it decides it
//! (`// OPEN-3: …`), so that one grep for an ID finds the decision; a citation of a rule that
//! does not exist (a typo, a renumbered rule) would send a reader to the wrong place.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, recursively, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The rule citations in `text` (`AREA-n`, optionally with a clause suffix such as `VER-4.a`,
/// which names the rule `VER-4`), each with its 1-based line number. Unit-test modules are
/// skipped: they spell invalid IDs on purpose.
fn citations(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let bytes = line.as_bytes();
        for area in plugspec::rules::AREAS {
            let needle = format!("{area}-");
            let mut from = 0;
            while let Some(at) = line[from..].find(&needle) {
                let start = from + at;
                from = start + needle.len();
                // A whole word: not preceded by a letter, digit or `_`.
                if start > 0
                    && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_')
                {
                    continue;
                }
                let digits = line[from..].bytes().take_while(u8::is_ascii_digit).count();
                if digits == 0 {
                    continue;
                }
                found.push((n + 1, line[start..from + digits].to_string()));
            }
        }
    }
    found
}

#[test]
fn every_rule_id_cited_in_the_code_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    rust_files(&root.join("spec/src"), &mut files);
    rust_files(&root.join("runner/src"), &mut files);
    assert!(files.len() > 20, "the source trees were not found");
    let mut cited = 0;
    let mut unknown = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("source file");
        for (line, id) in citations(&text) {
            cited += 1;
            if plugspec::rules::get(&id).is_none() {
                unknown.push(format!("{}:{line}: {id}", file.display()));
            }
        }
    }
    assert!(cited > 0, "no rule citations found at all");
    assert!(
        unknown.is_empty(),
        "rule IDs cited in the code but not in SPEC.md:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn the_citation_scanner_finds_ids_and_skips_look_alikes() {
    let text = "// OPEN-3: same path\nlet x = XOPEN-4; // VER-4.a and INIT-12\nPLAT-\n#[cfg(test)]\nOPEN-99";
    let ids: Vec<String> = citations(text).into_iter().map(|(_, id)| id).collect();
    assert_eq!(ids, ["OPEN-3", "INIT-12", "VER-4"]);
}
