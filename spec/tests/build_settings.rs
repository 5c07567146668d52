//! Rule VER-2: the build settings that can change a shared package's types are part of its
//! fingerprint. A shared package `layout-api` whose struct gains a field under the cargo feature
//! `wide` is built into a plugin with the feature on and into a host with it off; the host
//! refuses the plugin with `version_mismatch` naming the package and both feature lists. The same
//! for a plugin built in release (debug assertions off) against a debug host. A plugin built
//! like the host loads (the control: the refusals come from the settings alone).
//!
//! The crates are written to a scratch cargo workspace and built with cargo, one package per
//! invocation, so that cargo does not unify the features of host and plugin.
//!
//! A slow test (`tests/support/slow.rs`): after an edit to this crate, the four builds rebuild it
//! (about 7 s); ignored unless `PLUGSPEC_SLOW_TESTS=1` or under CI. Only where plugins load.

#[path = "support/slow.rs"]
mod slow;

use std::path::{Path, PathBuf};
use std::process::Command;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // Unchanged files keep their timestamps, so that a second run is a fresh build.
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap();
    }
}

fn spec_dir() -> String {
    env!("CARGO_MANIFEST_DIR").replace('\\', "/")
}

fn plugin_crate(ws: &Path, name: &str, api_features: &str) {
    write(
        &ws.join(name).join("Cargo.toml"),
        &format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[lib]\ncrate-type = [\"cdylib\"]\n\n\
             [dependencies]\nplugspec = {{ path = \"{spec}\", default-features = false }}\n\
             layout-api = {{ path = \"../layout-api\", features = [{api_features}] }}\n",
            spec = spec_dir()
        ),
    );
    write(
        &ws.join(name).join("src/lib.rs"),
        &format!(
            "//! A plugin of the build-settings test.\n\n\
             /// The size of the shared struct as this plugin sees it.\n\
             pub extern \"C\" fn thing_size() -> usize {{\n    std::mem::size_of::<layout_api::Thing>()\n}}\n\n\
             plugspec::plugin! {{\n    identity: \"tests.{name}\",\n    shared: [layout_api::PACKAGE],\n    \
             functions: {{\n        thing_size: extern \"C\" fn() -> usize,\n    }},\n}}\n"
        ),
    );
}

/// Writes the scratch workspace (once per content) and returns its directory.
fn workspace() -> PathBuf {
    let ws = Path::new(env!("CARGO_TARGET_TMPDIR")).join("build-settings");
    write(
        &ws.join("Cargo.toml"),
        "[workspace]\nresolver = \"3\"\nmembers = [\"layout-api\", \"plugin-wide\", \"plugin-narrow\", \"host\"]\n\n\
         [profile.dev]\ndebug = false\n",
    );
    write(
        &ws.join("layout-api/Cargo.toml"),
        &format!(
            "[package]\nname = \"layout-api\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [features]\nwide = []\n\n\
             [dependencies]\nplugspec = {{ path = \"{spec}\", default-features = false }}\n\n\
             [build-dependencies]\nplugspec = {{ path = \"{spec}\", default-features = false }}\n",
            spec = spec_dir()
        ),
    );
    write(
        &ws.join("layout-api/build.rs"),
        "fn main() {\n    plugspec::build::shared_package();\n}\n",
    );
    write(
        &ws.join("layout-api/src/lib.rs"),
        "//! A shared package whose struct layout depends on a cargo feature.\n\n\
         /// 4 bytes, or 40 with the feature `wide`.\n\
         pub struct Thing {\n    /// Always there.\n    pub a: u32,\n    \
         /// Only with `wide`.\n    #[cfg(feature = \"wide\")]\n    pub b: [u64; 4],\n}\n\n\
         /// This package, for fingerprints.\n\
         pub const PACKAGE: plugspec::Package = plugspec::package!();\n",
    );
    // The repository's lock file as a start: the same dependency versions, no index update.
    if !ws.join("Cargo.lock").exists() {
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock"),
            ws.join("Cargo.lock"),
        )
        .unwrap();
    }
    plugin_crate(&ws, "plugin-wide", "\"wide\"");
    plugin_crate(&ws, "plugin-narrow", "");
    write(
        &ws.join("host/Cargo.toml"),
        &format!(
            "[package]\nname = \"host\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nplugspec = {{ path = \"{spec}\" }}\nlayout-api = {{ path = \"../layout-api\" }}\n",
            spec = spec_dir()
        ),
    );
    write(
        &ws.join("host/src/main.rs"),
        "//! Opens the plugin named by its argument; prints `ok` or the error's kind and message.\n\n\
         use plugspec::{HostConfig, Loader, ReferenceLoader};\n\n\
         fn main() {\n    let path = std::env::args_os().nth(1).expect(\"a path\");\n    \
         let loader = ReferenceLoader::with_host(HostConfig::new().shared(layout_api::PACKAGE));\n    \
         match loader.open(std::path::Path::new(&path)) {\n        Ok(_) => println!(\"ok\"),\n        \
         Err(e) => println!(\"{} {}\", e.kind().as_str(), e),\n    }\n}\n",
    );
    ws
}

/// Builds `package` of the scratch workspace (`--release` if asked) and returns the artifact.
fn build(ws: &Path, package: &str, release: bool) -> PathBuf {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(ws)
        .args(["build", "--quiet", "-p", package])
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR");
    if release {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("cargo runs");
    assert!(status.success(), "cargo build -p {package} failed");
    let dir = ws
        .join("target")
        .join(if release { "release" } else { "debug" });
    if package == "host" {
        dir.join(format!("host{}", std::env::consts::EXE_SUFFIX))
    } else {
        dir.join(format!(
            "{}{}{}",
            std::env::consts::DLL_PREFIX,
            package.replace('-', "_"),
            std::env::consts::DLL_SUFFIX
        ))
    }
}

fn open_in_host(host: &Path, plugin: &Path) -> String {
    let out = Command::new(host)
        .arg(plugin)
        .output()
        .expect("the host runs");
    assert!(
        out.status.success(),
        "the host failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn a_feature_or_debug_assertions_that_differ_are_version_mismatch() {
    let ws = workspace();
    let host = build(&ws, "host", false);
    let narrow = build(&ws, "plugin-narrow", false);
    let wide = build(&ws, "plugin-wide", false);
    let narrow_release = build(&ws, "plugin-narrow", true);

    // The control: built like the host, the plugin loads.
    assert_eq!(open_in_host(&host, &narrow), "ok");

    let got = open_in_host(&host, &wide);
    assert!(got.starts_with("version_mismatch "), "{got}");
    assert!(
        got.contains("features of layout-api: plugin [wide], host []"),
        "{got}"
    );
    // Only the features differ: the sources are the same.
    assert!(!got.contains("package layout-api"), "{got}");

    let got = open_in_host(&host, &narrow_release);
    assert!(got.starts_with("version_mismatch "), "{got}");
    assert!(
        got.contains("debug_assertions of layout-api: plugin off, host on"),
        "{got}"
    );
    assert!(
        got.contains("debug_assertions of plugspec: plugin off, host on"),
        "{got}"
    );
}

fn main() {
    slow::main_of_one(
        "a_feature_or_debug_assertions_that_differ_are_version_mismatch",
        "builds a host and three plugins with cargo, and this crate after an edit",
        cfg!(any(
            target_os = "linux",
            target_os = "macos",
            target_os = "freebsd"
        )),
        a_feature_or_debug_assertions_that_differ_are_version_mismatch,
    )
}
