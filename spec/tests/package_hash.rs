//! Rule VER-1 ("The build record"): a shared package's source hash is the same whether the
//! crate comes from a path, from git or from the registry. `cargo package` rewrites
//! `Cargo.toml`, so the hash reads a normalised view (name, version, `build.rs`, `src/`) and
//! not the manifest. This test packages `plugspec` itself with `cargo package`, unpacks the
//! `.crate` file and hashes the packaged sources: the hash equals the path crate's, and the one
//! this build recorded; a one-byte change to a packaged source file still changes it.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

const NAME: &str = env!("CARGO_PKG_NAME");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Packages this crate into a scratch target directory and unpacks it; returns the unpacked
/// package directory.
fn packaged() -> PathBuf {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("package-hash");
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&workspace)
        .args(["package", "-p", NAME, "--no-verify", "--allow-dirty"])
        .arg("--target-dir")
        .arg(scratch.join("target"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo package failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let crate_file = scratch
        .join("target/package")
        .join(format!("{NAME}-{VERSION}.crate"));
    let unpack = scratch.join("unpacked");
    std::fs::create_dir_all(&unpack).unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&crate_file)
        .arg("-C")
        .arg(&unpack)
        .status()
        .expect("tar runs");
    assert!(
        status.success(),
        "tar cannot unpack {}",
        crate_file.display()
    );
    unpack.join(format!("{NAME}-{VERSION}"))
}

#[test]
fn the_packaged_crate_hashes_like_the_path_crate() {
    let path_crate = Path::new(env!("CARGO_MANIFEST_DIR"));
    let package = packaged();

    // The manifests differ (cargo rewrote the packaged one): a hash over it would differ.
    let manifest = |dir: &Path| std::fs::read(dir.join("Cargo.toml")).unwrap();
    assert_ne!(manifest(path_crate), manifest(&package));

    let (from_path, path_files) =
        plugspec::build::package_source_hash(path_crate, NAME, VERSION).unwrap();
    let (from_package, package_files) =
        plugspec::build::package_source_hash(&package, NAME, VERSION).unwrap();
    assert!(package_files.len() > 10, "{package_files:?}");
    assert_eq!(path_files.len(), package_files.len());
    assert_eq!(from_path, from_package);
    // And it is the hash this build of plugspec recorded in its fingerprint.
    assert_eq!(
        plugspec::fingerprint::record_source_hash(plugspec::fingerprint::PLUGSPEC_PACKAGE.hash),
        from_package
    );

    // A one-byte change to a packaged source file changes the hash.
    let lib = package.join("src/lib.rs");
    let mut text = std::fs::read(&lib).unwrap();
    let last = text.len() - 1;
    text[last] = if text[last] == b'\n' { b' ' } else { b'\n' };
    std::fs::write(&lib, &text).unwrap();
    let (changed, _) = plugspec::build::package_source_hash(&package, NAME, VERSION).unwrap();
    assert_ne!(changed, from_package);
}
