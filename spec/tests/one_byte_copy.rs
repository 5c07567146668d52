//! The version-mismatch fixtures are honest: `fixtures/mismatch/common` and
//! `fixtures/mismatch/extra` are copies of the shared packages `fixtures/common` and
//! `fixtures/extra` that each differ in exactly one byte, and that byte changes the package's
//! source hash. The Go kit's copies in `conformance/kits/go/alt` differ from its shared
//! packages in one byte each too.

use std::path::{Path, PathBuf};

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// How many bytes differ between the files of two directories holding the same files of the
/// same lengths.
fn differing_bytes(original: &Path, copy: &Path) -> usize {
    assert_eq!(files(original), files(copy));
    let mut differing = 0;
    for file in files(original) {
        let a = std::fs::read(original.join(&file)).unwrap();
        let b = std::fs::read(copy.join(&file)).unwrap();
        assert_eq!(a.len(), b.len(), "{}", file.display());
        differing += a.iter().zip(&b).filter(|(x, y)| x != y).count();
    }
    differing
}

/// `fixtures/mismatch/<dir>` differs from `fixtures/<dir>` (the package `name`) in exactly one
/// byte, and the two source hashes differ.
fn differs_in_exactly_one_byte(dir: &str, name: &str) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let original = fixtures.join(dir);
    let copy = fixtures.join("mismatch").join(dir);
    assert_eq!(differing_bytes(&original, &copy), 1, "{dir}");
    let (hash_a, _) = plugspec::build::package_source_hash(&original, name, "0.1.0").unwrap();
    let (hash_b, _) = plugspec::build::package_source_hash(&copy, name, "0.1.0").unwrap();
    assert_ne!(hash_a, hash_b, "{dir}");
}

#[test]
fn the_changed_copy_differs_in_exactly_one_byte() {
    differs_in_exactly_one_byte("common", "fixture-common");
}

#[test]
fn the_changed_copy_of_the_second_shared_package_differs_in_exactly_one_byte() {
    differs_in_exactly_one_byte("extra", "fixture-extra");
}

#[test]
fn the_go_kit_s_changed_copies_differ_in_exactly_one_byte() {
    let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/kits/go");
    for dir in ["common", "extra"] {
        assert_eq!(
            differing_bytes(&kit.join(dir), &kit.join("alt").join(dir)),
            1,
            "{dir}"
        );
    }
}
