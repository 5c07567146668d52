//! Embeds the conformance suite in the runner: the cases (`conformance/`), the fixture sources
//! (`fixtures/`), the bundled drivers (`drivers/`: the Go driver and its known failures) and the sources of the `plugspec` package this runner is built against, so that
//! an installed `plugspec` needs no checkout. `plugspec_runner::suite` unpacks them at run time.
//!
//! In the repository the cases and fixtures are read from `../conformance` and `../fixtures`
//! (every file, so a new case or fixture is carried without listing it). A published package
//! carries them under `suite/` instead, written by `.ci/pack-suite`, with every fixture manifest
//! named `Cargo.toml.in`: cargo leaves any directory holding a `Cargo.toml` out of a package.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The name a fixture manifest has in a published package.
const PACKED_MANIFEST: &str = "Cargo.toml.in";

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Build output and editor or VCS state are not sources.
        if name == "target" || name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// `(name in the suite, file on disk)` for every file under `dir`, named `<prefix>/<relative>`.
fn files(dir: &Path, prefix: &str, unpack_manifests: bool) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    walk(dir, &mut found);
    found.sort();
    found
        .into_iter()
        .map(|path| {
            let relative = path.strip_prefix(dir).expect("under the directory walked");
            let mut name = format!("{prefix}/{}", relative.to_string_lossy().replace('\\', "/"));
            if unpack_manifests && let Some(stem) = name.strip_suffix(PACKED_MANIFEST) {
                name = format!("{stem}Cargo.toml");
            }
            (name, path)
        })
        .collect()
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let checkout = manifest_dir.join("..");
    let packed = manifest_dir.join("suite");
    let mut all = Vec::new();
    if checkout.join("conformance/coverage.toml").is_file()
        && checkout.join("fixtures/Cargo.toml").is_file()
    {
        for dir in ["conformance", "fixtures"] {
            let path = checkout.join(dir);
            println!("cargo:rerun-if-changed={}", path.display());
            all.extend(files(&path, dir, false));
        }
    } else if packed.join("conformance/coverage.toml").is_file() {
        for dir in ["conformance", "fixtures"] {
            let path = packed.join(dir);
            println!("cargo:rerun-if-changed={}", path.display());
            all.extend(files(&path, dir, true));
        }
    } else {
        panic!(
            "the conformance suite is missing: neither {} nor {} holds it (a package of this \
             crate is made after `.ci/pack-suite`)",
            checkout.join("conformance").display(),
            packed.join("conformance").display()
        );
    }
    // The bundled drivers (`plugspec test --driver go` builds runner/drivers/go from here).
    let drivers = manifest_dir.join("drivers");
    println!("cargo:rerun-if-changed={}", drivers.display());
    all.extend(files(&drivers, "drivers", false));
    // The plugspec package exactly as this runner is built against it (its build script names
    // its directory), so that the fixtures record the same package hash as the runner.
    let spec = PathBuf::from(
        std::env::var("DEP_PLUGSPEC_SOURCE")
            .expect("plugspec's build script names its sources (DEP_PLUGSPEC_SOURCE)"),
    );
    println!("cargo:rerun-if-changed={}", spec.display());
    all.extend(files(&spec, "spec", false));

    let mut code = String::from(
        "/// Every file of the embedded suite: its path under the suite root, and its contents.\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (name, path) in &all {
        let path = path.canonicalize().unwrap_or_else(|_| path.clone());
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?})),",
            path.to_string_lossy()
        )
        .expect("writing to a string");
    }
    code.push_str("];\n");
    std::fs::write(out_dir.join("suite.rs"), code).expect("OUT_DIR is writable");

    // LOOKUP-9: the host defines `plugspec_host_value` (src/child/probes.rs), and fx-collide
    // defines the same name. On Linux the binaries that run cases export it as a dynamic symbol,
    // so that the name is in the process's global namespace when the plugin is mapped.
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        for targets in ["bins", "tests"] {
            println!(
                "cargo:rustc-link-arg-{targets}=-Wl,--export-dynamic-symbol=plugspec_host_value"
            );
        }
    }
}
