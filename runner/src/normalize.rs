//! Making observed text machine-independent for snapshots: the case's scratch directory becomes
//! `<CASE>`, the fixture build directories `<FIXTURES>`, the fixture sources `<FIXTURES-SRC>`,
//! source hashes `#<HASH>`, and the host's toolchain and target `<RUSTC>`, `<COMMIT>`,
//! `<TARGET>`.

use std::path::Path;

/// A set of textual replacements, longest first.
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    replacements: Vec<(String, String)>,
}

impl Normalizer {
    /// Replacements for one run: its case directory, the fixture build root, the fixture
    /// sources, and the host's build facts.
    pub fn new(case_dir: &Path, fixtures_root: &Path, fixtures_src: &Path) -> Normalizer {
        let mut n = Normalizer::default();
        for (path, with) in [
            (case_dir, "<CASE>"),
            (fixtures_root, "<FIXTURES>"),
            (fixtures_src, "<FIXTURES-SRC>"),
        ] {
            n.add(&path.display().to_string(), with);
            if let Ok(c) = std::fs::canonicalize(path) {
                n.add(&c.display().to_string(), with);
            }
        }
        let build = plugspec::fingerprint::THIS_BUILD;
        n.add(build.rustc_commit, "<COMMIT>");
        n.add(build.rustc_version, "<RUSTC>");
        n.add(build.target, "<TARGET>");
        if !build.target_features.is_empty() {
            n.add(build.target_features, "<TARGET-FEATURES>");
        }
        n
    }

    fn add(&mut self, from: &str, to: &str) {
        if from.is_empty() || self.replacements.iter().any(|(f, _)| f == from) {
            return;
        }
        self.replacements.push((from.to_string(), to.to_string()));
        self.replacements
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    }

    /// Applies every replacement, then hides source hashes (`#` and 16 hex digits).
    pub fn apply(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (from, to) in &self.replacements {
            if out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        escape_controls(&hide_hashes(&out))
    }
}

/// Control characters (other than tab and line feed) written as `\u{..}`, so that a transcript
/// is plain text: a NUL byte in a path must not make a snapshot a binary file.
pub fn escape_controls(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return s.to_string();
    }
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn hide_hashes(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#'
            && bytes.len() >= i + 17
            && bytes[i + 1..i + 17].iter().all(u8::is_ascii_hexdigit)
            && bytes.get(i + 17).is_none_or(|b| !b.is_ascii_hexdigit())
        {
            out.push_str("#<HASH>");
            i += 17;
        } else {
            let ch = s[i..].chars().next().unwrap_or('\u{fffd}');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_hashes_are_replaced() {
        let n = Normalizer::new(
            Path::new("/tmp/x/OPN-0001-1"),
            Path::new("/tmp/x"),
            Path::new("/src/fixtures"),
        );
        assert_eq!(
            n.apply("/tmp/x/OPN-0001-1/a.so /tmp/x/fixtures/debug 0.1.0 #0123456789abcdef;"),
            "<CASE>/a.so <FIXTURES>/fixtures/debug 0.1.0 #<HASH>;"
        );
    }
}
