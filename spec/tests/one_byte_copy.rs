//! The version-mismatch fixture is honest: `fixtures/mismatch/common` is a copy of the shared
//! package `fixtures/common` that differs in exactly one byte, and that byte changes the
//! package's source hash.

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

#[test]
fn the_changed_copy_differs_in_exactly_one_byte() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let original = fixtures.join("common");
    let copy = fixtures.join("mismatch/common");
    assert_eq!(files(&original), files(&copy));
    let mut differing = 0;
    for file in files(&original) {
        let a = std::fs::read(original.join(&file)).unwrap();
        let b = std::fs::read(copy.join(&file)).unwrap();
        assert_eq!(a.len(), b.len(), "{}", file.display());
        differing += a.iter().zip(&b).filter(|(x, y)| x != y).count();
    }
    assert_eq!(differing, 1);
    let (hash_a, _) =
        plugspec::build::package_source_hash(&original, "fixture-common", "0.1.0").unwrap();
    let (hash_b, _) =
        plugspec::build::package_source_hash(&copy, "fixture-common", "0.1.0").unwrap();
    assert_ne!(hash_a, hash_b);
}
