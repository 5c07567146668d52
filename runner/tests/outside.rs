//! An outside implementer: a crate generated in a temporary directory, outside this workspace,
//! that depends on `plugspec` and `plugspec-runner` by path and checks its own loader (a newtype
//! around the reference loader) with the ten-line harness from the runner's documentation. Its
//! `cargo test` must pass, with snapshots found in its own `tests/snapshots/plugspec/<os>/`.
//!
//! It builds into this workspace's target directory (`--offline`, with this workspace's
//! Cargo.lock), so it reuses the dependencies and fixtures already built.

// These tests build and load fixture plugins: only where plugins load (PLAT-1).
#![cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]

use std::path::{Path, PathBuf};
use std::process::Command;

const CARGO_TOML: &str = r#"[package]
name = "my-loader"
version = "0.1.0"
edition = "2024"
publish = false

[dependencies]
plugspec = { path = "@ROOT@/spec" }

[dev-dependencies]
plugspec-runner = { path = "@ROOT@/runner" }

[[test]]
name = "conformance"
harness = false

[workspace]
"#;

const LIB_RS: &str = r#"//! A loader of my own: the reference loader behind a newtype.
use std::path::Path;
use plugspec::{Error, HostConfig, Loader, ReferenceLoader};

pub struct MyLoader(ReferenceLoader);

impl Loader for MyLoader {
    type Plugin = plugspec::LoadedPlugin;
    fn with_host(host: HostConfig) -> Self {
        MyLoader(ReferenceLoader::with_host(host))
    }
    fn open(&self, path: &Path) -> Result<Self::Plugin, Error> {
        self.0.open(path)
    }
}
"#;

const CONFORMANCE_RS: &str = r#"// tests/conformance.rs, with [[test]] name = "conformance", harness = false
#[global_allocator]
static ALLOC: plugspec_runner::CountingAllocator = plugspec_runner::CountingAllocator;

fn main() {
    plugspec_runner::Harness::<my_loader::MyLoader>::new()
        .known_failures("tests/known-failures.toml") // optional
        .run(); // parses libtest args; in child mode runs the child instead; exits
}
"#;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        if e.path().extension().is_some_and(|x| x == "snap") {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn an_outside_crate_runs_the_suite_against_its_loader() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let target = tmp.parent().unwrap().to_path_buf();
    let krate = std::env::temp_dir().join(format!("plugspec-outside-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&krate);
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::create_dir_all(krate.join("tests")).unwrap();
    let root_s = root.display().to_string();
    std::fs::write(
        krate.join("Cargo.toml"),
        CARGO_TOML.replace("@ROOT@", &root_s),
    )
    .unwrap();
    std::fs::write(krate.join("src/lib.rs"), LIB_RS).unwrap();
    std::fs::write(krate.join("tests/conformance.rs"), CONFORMANCE_RS).unwrap();
    std::fs::write(
        krate.join("tests/known-failures.toml"),
        "# my loader fails nothing yet\n",
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
    // The loader is the reference loader, so its transcripts are the reference's.
    copy_dir(
        &root
            .join("runner/tests/snapshots/plugspec")
            .join(plugspec::platform::current().os.as_str()),
        &krate
            .join("tests/snapshots/plugspec")
            .join(plugspec::platform::current().os.as_str()),
    );
    let started = std::time::Instant::now();
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--offline", "--test", "conformance"])
        .current_dir(&krate)
        .env("CARGO_TARGET_DIR", &target)
        .env("CI", "true")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("PLUGSPEC_CONFORMANCE_DIR")
        .env_remove("PLUGSPEC_FIXTURES_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo test in {} failed:\n{stdout}\n{stderr}",
        krate.display()
    );
    assert!(stdout.contains("test result: ok."), "{stdout}");
    assert!(stdout.contains("loader my_loader::MyLoader"), "{stdout}");
    eprintln!(
        "outside crate: cargo test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&krate);
}
