//! Captures what the build fingerprint records about the compilation of this crate: the rustc
//! version and commit, the target triple, the target features, the panic strategy, and this
//! package's own source hash. Plugins and hosts both link this crate, so each side records its
//! own build through the same code.

use std::path::Path;
use std::process::Command;

include!("src/package_hash.rs");

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let verbose = Command::new(&rustc)
        .arg("-vV")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let field = |name: &str| {
        verbose
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    println!(
        "cargo:rustc-env=PLUGSPEC_RUSTC_VERSION={}",
        field("release:")
    );
    println!(
        "cargo:rustc-env=PLUGSPEC_RUSTC_COMMIT={}",
        field("commit-hash:")
    );
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=PLUGSPEC_TARGET={target}");
    let mut features: Vec<String> = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .unwrap_or_default()
        .split(',')
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    features.sort();
    println!(
        "cargo:rustc-env=PLUGSPEC_TARGET_FEATURES={}",
        features.join(",")
    );
    let panic = std::env::var("CARGO_CFG_PANIC").unwrap_or_else(|_| "unwind".into());
    println!("cargo:rustc-env=PLUGSPEC_PANIC={panic}");

    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let name = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME");
    let version = std::env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let (hash, files) = package_source_hash(Path::new(&dir), &name, &version)
        .expect("the plugspec sources are readable");
    // VER-2: plugspec's own record carries its build settings too, except its cargo features:
    // `loader` and `faults` add the reference loader and nothing else, no type of the ABI
    // depends on them, and plugins build plugspec without the loader while hosts build it with.
    let settings = package_settings()
        .split(' ')
        .filter(|word| !word.starts_with("features="))
        .collect::<Vec<_>>()
        .join(" ");
    println!("cargo:rustc-env=PLUGSPEC_PACKAGE_HASH={settings} src={hash}");
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    println!("cargo:rerun-if-changed=src");
    // This package's sources, for dependents' build scripts (`DEP_PLUGSPEC_SOURCE`, through
    // `links`): the conformance runner carries them to build its fixture plugins against.
    if let Ok(dir) = std::env::var("CARGO_MANIFEST_DIR") {
        println!("cargo:source={dir}");
    }
    println!("cargo:rerun-if-env-changed=RUSTFLAGS");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
}
