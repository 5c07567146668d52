//! Shared by the spec crate's tests and benchmarks: build the fixture workspaces with escargot
//! and copy artifacts to unique paths (a cdylib's output path has no hash, and a second `dlopen`
//! of one path returns the first image).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

// The runner's fixture build policy, word for word: the spec crate cannot depend on the runner.
include!("../../../runner/src/fixture_cargo.rs");

/// Builds every cdylib of the cargo workspace `workspace` (relative to the repository root) into
/// `target` with [`fixture_cargo`] (the runner's policy: this host's debug assertions,
/// `RUSTFLAGS` passed through), and returns their paths.
pub fn build(workspace: &str, target: &Path) -> Vec<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(workspace)
        .join("Cargo.toml");
    let messages = fixture_cargo(&manifest, target).exec().expect("cargo runs");
    let mut out = Vec::new();
    let mut diagnostics = Vec::new();
    // Drain every message: dropping the iterator early can deadlock.
    for message in messages {
        let message =
            message.unwrap_or_else(|e| panic!("build failed: {e}\n{}", diagnostics.join("\n")));
        match message.decode().expect("cargo's JSON") {
            escargot::format::Message::CompilerArtifact(a)
                if a.target.kind.iter().any(|k| k == "cdylib") =>
            {
                out.extend(
                    a.filenames
                        .iter()
                        .filter(|f| {
                            f.extension()
                                .is_some_and(|e| e == std::env::consts::DLL_EXTENSION)
                        })
                        .map(|f| f.to_path_buf()),
                );
            }
            escargot::format::Message::CompilerMessage(m) => {
                if let Some(r) = m.message.rendered {
                    diagnostics.push(r.to_string());
                }
            }
            _ => {}
        }
    }
    out
}

/// Copies the built fixture `name` (`lib<name>.so`) into `dir`.
pub fn fixture(all: &[PathBuf], name: &str, dir: &Path) -> PathBuf {
    let built = all
        .iter()
        .find(|p| {
            p.file_stem()
                .is_some_and(|s| s.to_string_lossy() == format!("lib{name}"))
        })
        .unwrap_or_else(|| panic!("fixture {name} was built"));
    let copy = dir.join(built.file_name().unwrap());
    std::fs::copy(built, &copy).unwrap();
    copy
}

/// The shared package `fixture-common` as the host declares it: hashed from the same source the
/// fixtures are built from (the spec crate cannot depend on it: it lives in another workspace).
pub fn common_package() -> plugspec::Package {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/common");
    let (source_hash, _) = plugspec::build::package_source_hash(&dir, "fixture-common", "0.1.0")
        .expect("fixtures/common is readable");
    // VER-2: the fixtures' build record of the package (no features, no `--cfg`).
    let hash = format!(
        "features=[] debug_assertions={} panic={} cfg=[] src={source_hash}",
        if cfg!(debug_assertions) { "on" } else { "off" },
        plugspec::fingerprint::THIS_BUILD.panic
    );
    plugspec::Package {
        name: "fixture-common",
        version: "0.1.0",
        hash: Box::leak(hash.into_boxed_str()),
    }
}

/// Builds the main fixtures workspace and copies `name` into a fresh directory under the test
/// temp dir.
pub fn built_fixture(name: &str, label: &str) -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let built = build("fixtures", &tmp.join("fixtures-target"));
    let dir = tmp.join(format!("{label}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    fixture(&built, name, &dir)
}
