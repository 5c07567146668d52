// The one build policy for fixture workspaces, shared word for word: `include!`d by
// plugspec-runner's `cargo` module and by the spec crate's test support
// (`spec/tests/support/mod.rs`), which cannot depend on the runner.

/// The cargo invocation that builds every library of the fixture workspace at `manifest` into
/// `target_dir` the way the host that loads them was built, so that their fingerprints match:
///
/// * VER-2: debug assertions are part of every shared package's build record, so the fixtures
///   get this host's setting (the profile of the crate compiling this function decides it);
/// * `RUSTFLAGS` passes through from the environment, as it did to the host: flags that change
///   the target features change the fingerprint (VER-1);
/// * under CI (`CI` set, not `0` or `false`), `--locked`.
pub fn fixture_cargo(
    manifest: &std::path::Path,
    target_dir: &std::path::Path,
) -> escargot::CargoBuild {
    let build = escargot::CargoBuild::new()
        .manifest_path(manifest)
        .target_dir(target_dir)
        .args(["--workspace", "--lib"])
        .args([
            "--config",
            if cfg!(debug_assertions) {
                "profile.dev.debug-assertions=true"
            } else {
                "profile.dev.debug-assertions=false"
            },
        ]);
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
    if ci { build.arg("--locked") } else { build }
}
