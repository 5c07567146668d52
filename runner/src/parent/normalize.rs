//! Making observed text machine-independent for snapshots: the case's scratch directory becomes
//! `<CASE>`, the fixture build directories `<FIXTURES>`, the fixture sources `<FIXTURES-SRC>`,
//! source hashes `#<HASH>`, and the host's toolchain and target `<RUSTC>`, `<COMMIT>`,
//! `<TARGET>`, and debug assertions in a build record `debug_assertions=<DEBUG-ASSERTIONS>`. The operating system's own wording is hidden too, so that one snapshot per case
//! serves Linux, macOS and Windows: the native library extension (`.so`, `.dylib`, `.dll`)
//! becomes `.$DLL`, as cases write it, and the dynamic loader's message (`dlerror`'s text) after
//! "the dynamic loader refused it: " becomes `<LOADER-MESSAGE>`.

use std::path::Path;

/// A set of textual replacements, longest first.
#[derive(Debug, Clone, Default)]
pub struct Normalizer {
    replacements: Vec<(String, String)>,
    /// The native library extension without the dot (`so`, `dylib`, `dll`), or `""`.
    library_extension: &'static str,
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
        // VER-2: the runner builds its fixtures with its own debug assertions (on in a debug
        // runner, off in a release one); either way the fingerprint line reads the same.
        for value in ["on", "off"] {
            n.add(
                &format!("debug_assertions={value}"),
                "debug_assertions=<DEBUG-ASSERTIONS>",
            );
        }
        n.library_extension = plugspec::platform::current().library_extension;
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

    /// Applies every replacement, then hides source hashes (`#` and 16 or more hex digits).
    pub fn apply(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (from, to) in &self.replacements {
            if out.contains(from.as_str()) {
                out = out.replace(from.as_str(), to);
            }
        }
        let out = hide_loader_message(&out);
        let out = hide_library_extension(&out, self.library_extension);
        let out = hide_file_layout(&out);
        escape_controls(&hide_hashes(&out))
    }
}

/// What the reference loader writes before the dynamic loader's own message.
const LOADER_REFUSED: &str = "the dynamic loader refused it: ";

/// The dynamic loader's message (up to the end of its line) as `<LOADER-MESSAGE>`: `dlerror`
/// words the same refusal differently on glibc, musl, macOS and FreeBSD.
fn hide_loader_message(s: &str) -> String {
    if !s.contains(LOADER_REFUSED) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match line.find(LOADER_REFUSED) {
            Some(at) => {
                out.push_str(&line[..at + LOADER_REFUSED.len()]);
                out.push_str("<LOADER-MESSAGE>");
            }
            None => out.push_str(line),
        }
    }
    out
}

/// `.ext` at the end of a file name (after a name character, before anything but a name
/// character) as `.$DLL`, the placeholder cases use for the native library extension.
fn hide_library_extension(s: &str, ext: &str) -> String {
    if ext.is_empty() {
        return s.to_string();
    }
    let dotted = format!(".{ext}");
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(&dotted) {
        let after = &rest[at + dotted.len()..];
        let ends_name = rest[..at].chars().next_back().is_some_and(is_name)
            && !after.chars().next().is_some_and(is_name);
        out.push_str(&rest[..at]);
        out.push_str(if ends_name { ".$DLL" } else { &dotted });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Where a built fixture's parts lie in its file (`at offset 468360`, `its end (469074 bytes)`)
/// or in its manifest (`corrupt manifest at byte 451`, `declared length 832`, `needs 9 bytes,
/// 804 left`) as `<N>`: the numbers move with every change to a fixture, its dependencies, the
/// toolchain or the host's build settings (a build record's `debug_assertions=on` is one byte
/// shorter than `off`), while what the message says (which part, past which end) does not.
fn hide_file_layout(s: &str) -> String {
    const BEFORE_NUMBER: [&str; 5] = [
        "at offset ",
        "its end (",
        "corrupt manifest at byte ",
        "declared length ",
        " bytes, ",
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    loop {
        let next = BEFORE_NUMBER
            .iter()
            .filter_map(|p| rest.find(p).map(|at| (at, p.len())))
            .min();
        let Some((at, len)) = next else { break };
        out.push_str(&rest[..at + len]);
        rest = &rest[at + len..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("<N>");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
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
        let digits = if bytes[i] == b'#' {
            bytes[i + 1..]
                .iter()
                .take_while(|b| b.is_ascii_hexdigit())
                .count()
        } else {
            0
        };
        // 64 hex digits (SHA-256, `plugspec::build::package_source_hash`); 16 and more.
        if digits >= 16 {
            out.push_str("#<HASH>");
            i += 1 + digits;
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
    fn offsets_and_lengths_in_a_file_are_hidden() {
        assert_eq!(
            hide_file_layout(
                "the section header table (64 bytes at offset 468360) lies past its end (4096 bytes)"
            ),
            "the section header table (64 bytes at offset <N>) lies past its end (<N> bytes)"
        );
        assert_eq!(
            hide_file_layout(
                "corrupt manifest at byte 28: identity: needs 4294967295 bytes, 804 left"
            ),
            "corrupt manifest at byte <N>: identity: needs 4294967295 bytes, <N> left"
        );
        assert_eq!(
            hide_file_layout("declared length 832 but the manifest is 16 bytes"),
            "declared length <N> but the manifest is 16 bytes"
        );
        assert_eq!(hide_file_layout("at offset x"), "at offset x");
        assert_eq!(hide_file_layout("no numbers"), "no numbers");
    }

    #[test]
    fn paths_and_hashes_are_replaced() {
        let n = Normalizer::new(
            Path::new("/tmp/x/OPN-0001-1"),
            Path::new("/tmp/x"),
            Path::new("/src/fixtures"),
        );
        assert_eq!(
            n.apply("/tmp/x/OPN-0001-1/a.txt /tmp/x/fixtures/debug 0.1.0 #0123456789abcdef;"),
            "<CASE>/a.txt <FIXTURES>/fixtures/debug 0.1.0 #<HASH>;"
        );
    }

    #[test]
    fn library_extensions_become_the_placeholder() {
        assert_eq!(
            hide_library_extension("a.dylib, lib-x.dylib.1 .dylib x.dylibs x.dylib", "dylib"),
            "a.$DLL, lib-x.$DLL.1 .dylib x.dylibs x.$DLL"
        );
        assert_eq!(hide_library_extension("a.so", ""), "a.so");
    }

    #[test]
    fn the_dynamic_loaders_wording_is_hidden() {
        assert_eq!(
            hide_loader_message(
                "open: the dynamic loader refused it: x.so: undefined symbol: f\nnext line"
            ),
            "open: the dynamic loader refused it: <LOADER-MESSAGE>\nnext line"
        );
        assert_eq!(hide_loader_message("no message"), "no message");
    }
}
