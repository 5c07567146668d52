//! Shared packages, from their build scripts: record the package's build record and source
//! hash (`plugspec::build`, the path build scripts call, is this module).
//!
//! A *shared package* is a crate that both the host and its plugins depend on (Go's "shared API
//! package", Q9). Its content hash goes into every plugin's fingerprint, so that a plugin built
//! against a different copy of it — even one byte different — is refused (rule VER-*).
//!
//! ```toml
//! # the shared package's Cargo.toml
//! [build-dependencies]
//! plugspec = { version = "0.1", default-features = false }
//! ```
//! ```ignore
//! // its build.rs
//! fn main() { plugspec::build::shared_package(); }
//! // its lib.rs
//! pub const PACKAGE: plugspec::Package = plugspec::package!();
//! ```

include!("package_hash.rs");

/// Called from a shared package's `build.rs`: hashes the package's sources and exports its build
/// record — [`package_settings`] (enabled features, debug assertions, panic strategy, other
/// `cfg`s) followed by `src=` and the source hash — to the compilation as
/// `PLUGSPEC_PACKAGE_HASH`, read by [`package!`](crate::package).
///
/// # Panics
/// When the package's own sources cannot be read (a build script has nothing better to do).
pub fn shared_package() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let name = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME");
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let (hash, files) = package_source_hash(std::path::Path::new(&dir), &name, &version)
        .expect("the shared package's sources are readable");
    // VER-2: the record carries the build settings that can change the package's types.
    println!(
        "cargo:rustc-env=PLUGSPEC_PACKAGE_HASH={} src={hash}",
        package_settings()
    );
    for file in files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    println!("cargo:rerun-if-changed=src");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_byte_changes_the_hash() {
        let dir = std::env::temp_dir().join(format!("plugspec-hash-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"x\"\n").unwrap();
        std::fs::write(dir.join("src/lib.rs"), "pub const X: u8 = 3;\n").unwrap();
        let (a, files) = package_source_hash(&dir, "x", "0.1.0").unwrap();
        assert_eq!(files.len(), 1, "Cargo.toml is not part of the hash");
        assert_eq!(a.len(), 64);
        std::fs::write(dir.join("src/lib.rs"), "pub const X: u8 = 4;\n").unwrap();
        let (b, _) = package_source_hash(&dir, "x", "0.1.0").unwrap();
        assert_ne!(a, b);
        // The name and the version are part of it; the manifest's other text is not.
        assert_ne!(package_source_hash(&dir, "x", "0.1.1").unwrap().0, b);
        assert_ne!(package_source_hash(&dir, "y", "0.1.0").unwrap().0, b);
        std::fs::write(dir.join("src/lib.rs"), "pub const X: u8 = 3;\n").unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"x\" # rewritten\n",
        )
        .unwrap();
        assert_eq!(package_source_hash(&dir, "x", "0.1.0").unwrap().0, a);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
