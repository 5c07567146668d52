//! The conformance suite this runner carries: the cases, the fixture sources, the bundled drivers
//! (`drivers/go`, with Go's known failures) and the sources of the `plugspec` package it was built against, embedded when the runner was compiled (see
//! `build.rs`) and unpacked on first use under `<target>/plugspec-suite/<version>/` (`<target>`
//! as for the fixture builds: `$CARGO_TARGET_DIR`, else the cargo target directory the running
//! binary sits in, else `plugspec-target` in the system's temporary directory).
//!
//! Unpacking is a sync: a file is written only when its contents differ (so the fixtures'
//! cargo builds stay fresh across runs) and a file the suite no longer has is removed. Nothing
//! is read from the directory the runner was compiled in, so an installed `plugspec` works
//! from anywhere and after its checkout is gone. `--cases DIR` / `--fixtures DIR` (and
//! [`crate::Harness::cases`] / [`crate::Harness::fixtures`]) point at a checkout instead.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/suite.rs"));
}

/// The marker in the names of files being written; a concurrent sync leaves them alone.
const PARTIAL: &str = ".plugspec-partial-";

/// Every embedded file: its path under the suite root (`conformance/…`, `fixtures/…`,
/// `drivers/…`, `spec/…`), and its contents.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    embedded::FILES
}

/// The directory the suite is unpacked into.
pub fn unpack_dir() -> PathBuf {
    crate::fixtures::target_dir()
        .join("plugspec-suite")
        .join(env!("CARGO_PKG_VERSION"))
}

/// The unpacked suite's root (holding `conformance/`, `fixtures/`, `drivers/` and `spec/`), unpacked on
/// the first call of the process.
pub fn root() -> Result<&'static Path, String> {
    static ROOT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    ROOT.get_or_init(|| {
        let dir = unpack_dir();
        unpack(&dir)?;
        Ok(dir)
    })
    .as_ref()
    .map(PathBuf::as_path)
    .map_err(Clone::clone)
}

/// Writes the embedded suite into `dir`: files that differ are replaced (atomically, through a
/// temporary file and a rename), files the suite does not have are removed.
pub fn unpack(dir: &Path) -> Result<(), String> {
    let fail = |path: &Path, e: std::io::Error| {
        format!("cannot unpack the suite into {}: {e}", path.display())
    };
    let mut wanted = BTreeSet::new();
    for (name, contents) in files() {
        let path = dir.join(name);
        wanted.insert(path.clone());
        if std::fs::read(&path).is_ok_and(|old| old == *contents) {
            continue;
        }
        let parent = path.parent().unwrap_or(dir);
        std::fs::create_dir_all(parent).map_err(|e| fail(parent, e))?;
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let partial = parent.join(format!("{file_name}{PARTIAL}{}", std::process::id()));
        std::fs::write(&partial, contents).map_err(|e| fail(&partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| fail(&path, e))?;
    }
    remove_others(dir, &wanted).map_err(|e| fail(dir, e))
}

/// Removes every file under `dir` that is not in `wanted` (nor being written by a concurrent
/// sync), then the directories left empty.
fn remove_others(dir: &Path, wanted: &BTreeSet<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            remove_others(&path, wanted)?;
            if std::fs::read_dir(&path)?.next().is_none() {
                let _ = std::fs::remove_dir(&path);
            }
        } else if !wanted.contains(&path) && !path.to_string_lossy().contains(PARTIAL) {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_the_cases_the_fixtures_and_plugspec() {
        let names: Vec<&str> = files().iter().map(|(n, _)| *n).collect();
        for needed in [
            "conformance/coverage.toml",
            "fixtures/Cargo.toml",
            "fixtures/Cargo.lock",
            "fixtures/common/Cargo.toml",
            "fixtures/common/src/lib.rs",
            "spec/Cargo.toml",
            "spec/build.rs",
            "spec/src/lib.rs",
            "drivers/go/main.go",
            "drivers/go/go.mod",
            "drivers/go/known-failures.toml",
        ] {
            assert!(names.contains(&needed), "{needed} is not in the suite");
        }
        assert!(
            names
                .iter()
                .any(|n| n.starts_with("fixtures/c/") && n.ends_with(".c"))
        );
        assert!(
            names
                .iter()
                .filter(|n| n.starts_with("conformance/") && n.ends_with(".toml"))
                .count()
                > 10
        );
        assert!(
            !names.iter().any(|n| n.contains("/target/")),
            "build output is not a source"
        );
    }

    #[test]
    fn unpacking_writes_what_differs_and_removes_what_is_gone() {
        let dir = std::env::temp_dir().join(format!("plugspec-suite-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        unpack(&dir).unwrap();
        let (name, contents) = files()[0];
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), contents);
        std::fs::write(dir.join(name), b"changed").unwrap();
        std::fs::write(dir.join("fixtures/stale.rs"), b"gone").unwrap();
        std::fs::create_dir_all(dir.join("fixtures/old-fixture/src")).unwrap();
        std::fs::write(dir.join("fixtures/old-fixture/src/lib.rs"), b"gone").unwrap();
        unpack(&dir).unwrap();
        assert_eq!(std::fs::read(dir.join(name)).unwrap(), contents);
        assert!(!dir.join("fixtures/stale.rs").exists());
        assert!(!dir.join("fixtures/old-fixture").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
