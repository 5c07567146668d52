//! `plugspec inspect`, `plugspec check` and `plugspec host`, end to end on the fixture plugins
//! (built with the runner's own fixture builder): the good ones are accepted, each kind of
//! refused one is refused with every reason, none of their code ever runs, and bad arguments get
//! one line on standard error and a non-zero exit status — never a panic.

// These tests build and load fixture plugins: only where plugins load (PLAT-1).
#![cfg(any(target_os = "linux", target_os = "macos", target_os = "freebsd"))]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use assert_cmd::Command;
use plugspec::fingerprint::THIS_BUILD;
use plugspec_runner::fixtures::{Catalog, Registry, target_dir};
use plugspec_runner::harness::default_fixtures_dir;
use plugspec_runner::inspect::{
    CHECK_SCHEMA_VERSION, CheckResult, INSPECT_SCHEMA_VERSION, PluginInfo,
};
use predicates::prelude::*;
use predicates::str::contains;

mod json_schema;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let catalog = Catalog::scan(&default_fixtures_dir()).expect("the fixture sources");
        Registry::new(catalog, target_dir().join("plugspec-fixtures"))
    })
}

/// The built artifact of a fixture (built on first use), or `None` for a C fixture without a C
/// compiler.
fn fixture(name: &str) -> Option<PathBuf> {
    if let Some(why) = registry().catalog().unavailable(name) {
        eprintln!("skipping {name}: {why}");
        return None;
    }
    Some(
        registry()
            .artifact(name)
            .unwrap_or_else(|e| panic!("building {name}: {e}")),
    )
}

fn built(name: &str) -> PathBuf {
    fixture(name).expect("a Rust fixture is always available")
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-plugins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `plugspec` with an init log that must stay empty.
fn plugspec() -> Command {
    let mut c = Command::cargo_bin("plugspec").unwrap();
    c.env_remove("CI").env("PLUGSPEC_INIT_LOG", init_log());
    c
}

fn init_log() -> &'static Path {
    static LOG: OnceLock<PathBuf> = OnceLock::new();
    LOG.get_or_init(|| scratch("init.log"))
}

/// One line on standard error, and no panic.
fn one_clean_line() -> impl Predicate<str> {
    predicate::function(|s: &str| s.lines().count() == 1 && !s.contains("panicked"))
}

fn fixture_common() -> String {
    let p = fixture_common::PACKAGE;
    format!("{}={}#{}", p.name, p.version, p.hash)
}

/// The runner declares the fixtures' shared package from their sources at run time: it must be
/// the package `fixture-common` records when compiled, and the init log must be the one it
/// writes.
#[test]
fn the_shared_package_read_at_run_time_is_the_compiled_one() {
    let p = fixture_common::PACKAGE;
    let read = plugspec_runner::fixtures::shared_package(&default_fixtures_dir())
        .expect("the fixture sources")
        .expect("fixtures/common");
    assert_eq!(
        (
            read.name.as_str(),
            read.version.as_str(),
            read.hash.as_str()
        ),
        (p.name, p.version, p.hash)
    );
    assert_eq!(
        plugspec_runner::protocol::INIT_LOG_ENV,
        fixture_common::INIT_LOG_ENV
    );
}

#[test]
fn inspect_describes_a_plugin() {
    let basic = built("basic");
    plugspec()
        .arg("inspect")
        .arg(&basic)
        .assert()
        .success()
        .stdout(contains("identity:        fixtures.basic"))
        .stdout(contains(format!(
            "toolchain:       rustc {} ({})",
            THIS_BUILD.rustc_version, THIS_BUILD.rustc_commit
        )))
        .stdout(contains(format!("target:          {}", THIS_BUILD.target)))
        .stdout(contains("plugspec 0.1.0 #"))
        .stdout(contains(format!(
            "fixture-common 0.1.0 #{} {}",
            plugspec::fingerprint::record_source_hash(fixture_common::PACKAGE.hash),
            plugspec::fingerprint::record_settings(fixture_common::PACKAGE.hash)
        )))
        .stdout(contains(
            "function add: extern \"C\" fn(i32, i32) -> i32 (size",
        ))
        .stdout(contains(
            "variable VALUE: i32 (size 4, align 4, static mut)",
        ))
        .stdout(contains("variable COUNTER: AtomicI32"))
        .stdout(contains("raw_unexported").not())
        .stderr("");
}

/// A file whose ELF header names another machine than the target its manifest claims: `inspect`
/// prints it with a warning and exits 0, or 1 with `--strict`; a plugin whose header agrees gets
/// no warning either way.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
#[test]
fn inspect_warns_when_the_header_and_the_manifest_disagree() {
    let basic = built("basic");
    let foreign = scratch("foreign-machine.so");
    let mut bytes = std::fs::read(&basic).unwrap();
    // e_machine (offset 18): EM_ARM if this host is not ARM, else EM_X86_64.
    let machine: u16 = if cfg!(target_arch = "arm") { 62 } else { 40 };
    bytes[18..20].copy_from_slice(&machine.to_le_bytes());
    std::fs::write(&foreign, bytes).unwrap();
    for strict in [false, true] {
        let mut inspect = plugspec();
        inspect.arg("inspect").arg(&foreign);
        if strict {
            inspect.arg("--strict");
        }
        inspect
            .assert()
            .code(i32::from(strict))
            .stdout(contains("identity:        fixtures.basic"))
            .stderr(contains("warning: the object header says"))
            .stderr(contains(format!(
                "the manifest claims target {}",
                THIS_BUILD.target
            )))
            .stderr(one_clean_line());
        plugspec()
            .args(["inspect", "--strict"])
            .arg(&basic)
            .assert()
            .success()
            .stderr("");
    }
    plugspec()
        .args(["inspect", "--json"])
        .arg(&foreign)
        .assert()
        .success()
        .stderr(contains("warning: the object header says"));
}

#[test]
fn inspect_json_is_the_plugin_info() {
    let out = plugspec()
        .args(["inspect", "--json"])
        .arg(built("versioned"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json_schema::assert_valid("inspect.schema.json", &value);
    assert_eq!(value["schema_version"], INSPECT_SCHEMA_VERSION);
    let info: PluginInfo = serde_json::from_value(value).unwrap();
    assert_eq!(info.identity, "fixtures.versioned");
    assert_eq!(info.api_version, Some(2));
    assert_eq!(info.build_id.as_deref(), Some("fixture-build-1"));
    assert_eq!(info.packages[0].name, "plugspec");
    assert_eq!(info.exports.len(), 1);
    assert_eq!(info.exports[0].name, "answer");
    assert_eq!(info.exports[0].kind, "function");
    assert_eq!(info.exports[0].rust_type, "extern \"C\" fn() -> i32");
}

#[test]
fn inspect_refuses_what_is_not_a_plugin() {
    let mut files = vec![
        ("nosdk", built("nosdk"), "no plugspec manifest"),
        (
            "corrupt-magic",
            built("corrupt-magic"),
            "does not start with PLUGSPEC",
        ),
        ("corrupt-count", built("corrupt-count"), "symbol count"),
        ("corrupt-length", built("corrupt-length"), "needs"),
        ("corrupt-utf8", built("corrupt-utf8"), "not UTF-8"),
        ("corrupt-duplicate", built("corrupt-duplicate"), "twice"),
        ("abi-future", built("abi-future"), "manifest is version 99"),
    ];
    if let Some(c) = fixture("c-plain") {
        files.push(("c-plain", c, "no plugspec manifest"));
    }
    for (name, file, why) in files {
        plugspec()
            .arg("inspect")
            .arg(&file)
            .assert()
            .append_context("fixture", name)
            .code(1)
            .stdout("")
            .stderr(contains(file.display().to_string()))
            .stderr(contains(why))
            .stderr(one_clean_line());
    }
}

#[test]
fn check_accepts_plugins_built_like_the_host() {
    let names = [
        "basic",
        "twin",
        "slow",
        "spawn",
        "ctor",
        "opener",
        "noentry",
        "versioned",
        "panic",
    ];
    let mut cmd = plugspec();
    cmd.arg("check");
    for n in names {
        cmd.arg(built(n));
    }
    let mut assert = cmd.assert().success().stderr("");
    for n in names {
        assert = assert.stdout(contains(format!("({})", format_args!("fixtures.{n}"))));
    }
    assert.stdout(contains("9 plugins checked: 9 accepted, 0 refused"));
    // A host like a good plugin accepts the others.
    plugspec()
        .args(["check", "--like"])
        .arg(built("basic"))
        .arg(built("basic"))
        .arg(built("twin"))
        .arg(built("versioned"))
        .assert()
        .success()
        .stdout(contains("3 plugins checked: 3 accepted"));
}

#[test]
fn check_names_a_claimed_toolchain() {
    plugspec()
        .arg("check")
        .arg(built("claims-toolchain"))
        .assert()
        .code(1)
        .stdout(contains(
            "(fixtures.claims-toolchain): built differently from the host, 1 difference [version_mismatch]",
        ))
        .stdout(contains(format!(
            "    toolchain: plugin rustc 1.0.0 (0000000000000000000000000000000000000000), host rustc {} ({})",
            THIS_BUILD.rustc_version, THIS_BUILD.rustc_commit
        )))
        .stdout(contains("1 plugin checked: 0 accepted, 1 refused"))
        .stderr("");
}

#[test]
fn check_names_every_difference_of_a_claimed_target() {
    let out = plugspec()
        .args(["check", "--json"])
        .arg(built("claims-target"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["refused"], 1);
    let result: CheckResult = serde_json::from_value(value["plugins"][0].clone()).unwrap();
    assert!(!result.accepted);
    assert_eq!(result.error.as_deref(), Some("version_mismatch"));
    assert_eq!(result.identity.as_deref(), Some("fixtures.claims-target"));
    let items: Vec<&str> = result.differences.iter().map(|d| d.item.as_str()).collect();
    assert_eq!(items, ["target", "panic strategy"]);
    assert_eq!(result.differences[0].host, THIS_BUILD.target);
    assert_eq!(result.differences[1].host, THIS_BUILD.panic);
    assert_ne!(result.differences[1].plugin, THIS_BUILD.panic);
}

#[test]
fn check_refuses_an_unknown_abi_and_files_that_are_not_plugins() {
    plugspec()
        .arg("check")
        .arg(built("abi-future"))
        .assert()
        .code(1)
        .stdout(contains(
            "incompatible plugin ABI: the manifest is version 99, this loader reads version 1 [incompatible_abi]",
        ));
    let mut refused = vec![
        built("nosdk"),
        built("corrupt-magic"),
        built("corrupt-count"),
        built("corrupt-length"),
        built("corrupt-utf8"),
        built("corrupt-duplicate"),
    ];
    refused.extend(fixture("c-plain"));
    let n = refused.len();
    let mut assert = plugspec()
        .arg("check")
        .args(&refused)
        .assert()
        .code(1)
        .stderr("")
        .stdout(contains(format!(
            "{n} plugins checked: 0 accepted, {n} refused"
        )));
    for file in &refused {
        assert = assert.stdout(contains(format!(
            "refused   {}: not a plugin: ",
            file.display()
        )));
    }
    assert.stdout(predicate::str::contains("[not_a_plugin]").count(n));
}

#[test]
fn check_names_a_shared_package_of_another_version() {
    let mismatch = built("mismatch");
    // The default host shares only plugspec: a package it does not declare is not compared.
    plugspec().arg("check").arg(&mismatch).assert().success();
    for host in [
        vec!["--shared".to_string(), fixture_common()],
        vec!["--like".to_string(), built("basic").display().to_string()],
    ] {
        plugspec()
            .arg("check")
            .args(&host)
            .arg(&mismatch)
            .assert()
            .code(1)
            .stdout(contains(
                "(fixtures.mismatch): built differently from the host, 1 difference [version_mismatch]",
            ))
            .stdout(contains("    package fixture-common: plugin 0.1.0 #"))
            .stdout(contains(format!(
                ", host 0.1.0 #{}",
                plugspec::fingerprint::record_source_hash(fixture_common::PACKAGE.hash)
            )));
    }
}

#[test]
fn check_applies_a_required_api_version_and_a_pinned_build_id() {
    let versioned = built("versioned");
    plugspec()
        .args(["check", "--api-version", "3"])
        .arg(&versioned)
        .assert()
        .code(1)
        .stdout(contains("1 difference [version_mismatch]"))
        .stdout(contains("    api version: plugin 2, host 3"));
    plugspec()
        .args(["check", "--build-id", "other"])
        .arg(&versioned)
        .assert()
        .code(1)
        .stdout(contains("    build id: plugin fixture-build-1, host other"));
    plugspec()
        .args([
            "check",
            "--api-version",
            "2",
            "--build-id",
            "fixture-build-1",
        ])
        .arg(&versioned)
        .assert()
        .success()
        .stdout(contains("accepted  "));
    // basic declares neither.
    plugspec()
        .args(["check", "--api-version", "2"])
        .arg(built("basic"))
        .assert()
        .code(1)
        .stdout(contains("    api version: plugin (none), host 2"));
}

#[test]
fn one_refused_plugin_fails_the_check_and_the_others_are_still_judged() {
    plugspec()
        .arg("check")
        .arg(built("basic"))
        .arg(built("claims-toolchain"))
        .arg(built("twin"))
        .assert()
        .code(1)
        .stdout(contains("accepted  ").count(2))
        .stdout(contains("refused   ").count(1))
        .stdout(contains("3 plugins checked: 2 accepted, 1 refused"));
}

#[test]
fn a_host_file_describes_the_host() {
    // `plugspec host --like` writes the host file of a host built like basic…
    let out = plugspec()
        .args(["host", "--api-version", "3", "--like"])
        .arg(built("basic"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("api_version = 3"), "{text}");
    assert!(text.contains("name = \"fixture-common\""), "{text}");
    let file = scratch("host.toml");
    std::fs::write(&file, &text).unwrap();
    // …which refuses the mismatch (package) and versioned (API version 2, not 3).
    plugspec()
        .args(["check", "--host"])
        .arg(&file)
        .arg(built("mismatch"))
        .arg(built("versioned"))
        .assert()
        .code(1)
        .stdout(contains("    package fixture-common: plugin 0.1.0 #"))
        .stdout(contains("    api version: plugin 2, host 3"))
        .stdout(contains("2 plugins checked: 0 accepted, 2 refused"));
    // A small hand-written one.
    let small = scratch("small-host.toml");
    std::fs::write(&small, "build_id = \"fixture-build-1\"\n").unwrap();
    plugspec()
        .args(["check", "--host"])
        .arg(&small)
        .arg(built("versioned"))
        .assert()
        .success();
}

#[test]
fn inspect_and_check_never_run_plugin_code() {
    let _ = std::fs::remove_file(init_log());
    // Fixtures with an init that logs, and (ctor, claims-toolchain, c-constructor) a real
    // constructor that would log at map time.
    let mut files: Vec<PathBuf> = ["ctor", "claims-toolchain", "basic", "versioned", "opener"]
        .into_iter()
        .map(built)
        .collect();
    files.extend(fixture("c-constructor"));
    for file in &files {
        for json in [false, true] {
            plugspec()
                .arg("inspect")
                .args(json.then_some("--json"))
                .arg(file)
                .assert()
                .stderr(contains("panicked").not());
        }
    }
    plugspec().arg("check").args(&files).assert().code(1);
    plugspec()
        .args(["check", "--json", "--like"])
        .arg(built("ctor"))
        .args(&files)
        .assert()
        .code(1);
    plugspec()
        .args(["host", "--like"])
        .arg(built("ctor"))
        .assert()
        .success();
    let log = std::fs::read_to_string(init_log()).unwrap_or_default();
    assert_eq!(
        log,
        "",
        "plugin code ran: init log {}",
        init_log().display()
    );
}

#[test]
fn bad_arguments_get_one_line_and_a_usage_status() {
    let basic = built("basic");
    for args in [
        vec!["check", "--bogus"],
        vec!["check"],
        vec!["inspect"],
        vec!["inspect", "--bogus", "x"],
        vec!["check", "--api-version", "two", "x"],
        vec!["check", "--shared", "fixture-common=0.1.0", "x"],
        vec!["test", "--rule", "NOPE-1"],
        vec!["test", "--case", "XYZ-0001"],
        vec!["test", "--area", "nowhere"],
        vec!["test", "--timeout", "-1"],
        vec!["list", "--rule", "NOPE-1"],
        vec!["no-such-command-or-case"],
    ] {
        plugspec()
            .args(&args)
            .assert()
            .append_context("args", args.join(" "))
            .code(2)
            .stderr(predicate::str::contains("panicked").not())
            .stderr(predicate::str::is_empty().not());
    }
    let missing_host = scratch("no-such-host.toml");
    let bad_host = scratch("bad-host.toml");
    std::fs::write(&bad_host, "rustc = 1\n").unwrap();
    for host in [&missing_host, &bad_host] {
        plugspec()
            .args(["check", "--host"])
            .arg(host)
            .arg(&basic)
            .assert()
            .code(2)
            .stderr(contains(host.display().to_string()))
            .stderr(one_clean_line());
    }
    plugspec()
        .args(["check", "--like"])
        .arg(built("nosdk"))
        .arg(&basic)
        .assert()
        .code(2)
        .stderr(contains("--like"))
        .stderr(one_clean_line());
}

#[test]
fn missing_files_and_directories_get_one_line_each() {
    let missing = scratch("no-such-plugin.so");
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    plugspec()
        .arg("inspect")
        .arg(&missing)
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("no such file"))
        .stderr(one_clean_line());
    plugspec()
        .arg("inspect")
        .arg(&dir)
        .assert()
        .code(1)
        .stdout("")
        .stderr(contains("is a directory"))
        .stderr(one_clean_line());
    plugspec()
        .arg("check")
        .arg(&missing)
        .arg(&dir)
        .arg(built("basic"))
        .assert()
        .code(1)
        .stdout(contains("accepted  "))
        .stdout(contains(
            "3 plugins checked: 1 accepted, 0 refused, 2 could not be read",
        ))
        .stderr(contains(format!("{}: no such file", missing.display())))
        .stderr(contains(format!("{}: is a directory", dir.display())))
        .stderr(predicate::function(|s: &str| s.lines().count() == 2));
}

/// `check --json` gives the loader's kind for paths that do not resolve (OPEN-1): `not_found`
/// for a looping symlink, a file used as a directory and a path longer than `PATH_MAX`, exactly
/// as `open` does.
#[cfg(unix)]
#[test]
fn check_json_kinds_for_unresolvable_paths_are_the_loaders() {
    use plugspec::{Loader, ReferenceLoader};
    let dir = scratch("unresolvable");
    std::fs::create_dir_all(&dir).unwrap();
    let looping = dir.join("loop.so");
    let _ = std::fs::remove_file(&looping);
    std::os::unix::fs::symlink(&looping, &looping).unwrap();
    let file = dir.join("file");
    std::fs::write(&file, "a file").unwrap();
    let under_a_file = file.join("plugin.so");
    let too_long = PathBuf::from(format!("/{}", "a/".repeat(2100)));
    for path in [&looping, &under_a_file, &too_long] {
        let loader = ReferenceLoader::new()
            .open(path)
            .expect_err("not a plugin path")
            .kind();
        let out = plugspec()
            .arg("check")
            .arg("--json")
            .arg(path)
            .output()
            .unwrap();
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(loader.as_str(), "not_found", "{}", path.display());
        assert_eq!(
            value["plugins"][0]["error"],
            loader.as_str(),
            "{}: {value}",
            path.display()
        );
        assert_eq!(value["unreadable"], 1, "{value}");
    }
}

#[test]
fn rules_and_list_show_coverage_and_selections() {
    plugspec()
        .arg("rules")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"(?m)^OPEN-2 +MUST +\d+ cases? +.*OPN-0002").unwrap());
    let out = plugspec()
        .args(["list", "--rule", "OPEN-2", "--rule", "VER-9"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("OPN-0002"), "{text}");
    assert!(
        text.lines()
            .all(|l| l.contains("OPEN-2") || l.contains("VER-9")),
        "{text}"
    );
    plugspec()
        .args(["list", "--area", "versions", "--case", "OPN-0001"])
        .assert()
        .code(2)
        .stderr(contains("no case matches"));
}

#[cfg(unix)]
#[test]
fn an_unreadable_file_is_counted_as_unreadable_not_refused() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: root reads a file whatever its permission bits");
        return;
    }
    let file = scratch("unreadable.so");
    std::fs::copy(built("basic"), &file).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = plugspec()
        .arg("check")
        .arg(&file)
        .arg("--json")
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(value["refused"], 0, "{value}");
    assert_eq!(value["unreadable"], 1, "{value}");
    plugspec()
        .arg("check")
        .arg(&file)
        .assert()
        .code(1)
        .stdout(contains(
            "1 plugin checked: 0 accepted, 0 refused, 1 could not be read",
        ))
        .stderr(one_clean_line());
    let _ = std::fs::remove_file(&file);
}

#[test]
fn check_json_matches_its_schema_for_every_kind_of_result() {
    // Accepted, refused with differences, refused as not a plugin, and one missing file.
    let missing = scratch("no-such-plugin-for-json.so");
    let out = plugspec()
        .args(["check", "--json", "--api-version", "2"])
        .arg(built("versioned"))
        .arg(built("claims-target"))
        .arg(built("nosdk"))
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json_schema::assert_valid("check.schema.json", &value);
    assert_eq!(value["schema_version"], CHECK_SCHEMA_VERSION);
    assert_eq!(
        (&value["accepted"], &value["refused"], &value["unreadable"]),
        (&1.into(), &2.into(), &1.into()),
        "{value:#}"
    );
    assert_eq!(value["host"]["api_version"], 2);
    // The schemas say which version they describe.
    for (file, version) in [
        ("inspect.schema.json", INSPECT_SCHEMA_VERSION),
        ("check.schema.json", CHECK_SCHEMA_VERSION),
    ] {
        assert_eq!(
            json_schema::schema(file)["properties"]["schema_version"]["const"],
            version,
            "{file}"
        );
    }
    // A value the schema does not allow is caught (the check can fail).
    let mut wrong = value.clone();
    wrong["plugins"][0]["accepted"] = "yes".into();
    let schema = json_schema::schema("check.schema.json");
    let mut errors = Vec::new();
    json_schema::validate(&schema, &schema, &wrong, "$", &mut errors);
    assert_eq!(errors.len(), 1, "{errors:?}");
}

/// ERR-2 in the CLI: a path is printed the way `Debug` for `Path` escapes it (without the
/// quotes), as the loader's own messages print it — a newline, a control character and a byte
/// that is not UTF-8 never reach the output raw — in `inspect`'s and `check`'s text, `check`'s
/// JSON and the one line on standard error.
#[test]
fn paths_with_control_characters_and_bytes_that_are_not_utf8_are_escaped() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch("odd-names");
    std::fs::create_dir_all(&dir).unwrap();
    let odd = dir.join(std::ffi::OsStr::from_bytes(b"odd\nname\x07\xff.so"));
    std::fs::copy(built("basic"), &odd).unwrap();
    let shown = format!("{}/odd\\nname\\u{{7}}\\xFF.so", dir.display());
    let raw = |s: &str| s.contains("odd\n") || s.contains('\u{7}') || s.contains('\u{fffd}');

    let out = plugspec().arg("inspect").arg(&odd).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.starts_with(&format!("file:            {shown}\n")),
        "{stdout}"
    );
    assert!(!raw(&stdout), "{stdout}");

    let out = plugspec().arg("check").arg(&odd).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("accepted  {shown} (fixtures.basic)\n")),
        "{stdout}"
    );
    assert!(!raw(&stdout), "{stdout}");

    let out = plugspec()
        .args(["check", "--json"])
        .arg(&odd)
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json_schema::assert_valid("check.schema.json", &value);
    assert_eq!(value["plugins"][0]["path"], shown.as_str());

    // Refused before the loader looks (missing), and by the loader (not a plugin): one line
    // each, escaped.
    let missing = dir.join(std::ffi::OsStr::from_bytes(b"gone\n\x07.so"));
    for command in ["check", "inspect"] {
        let out = plugspec().arg(command).arg(&missing).output().unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains(&format!("{}/gone\\n\\u{{7}}.so", dir.display())),
            "{command}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
    }
    let text = dir.join(std::ffi::OsStr::from_bytes(b"text\n\xfe.so"));
    std::fs::write(&text, "not a plugin").unwrap();
    let out = plugspec().arg("inspect").arg(&text).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(&format!(
            "plugspec inspect: {}/text\\n\\xFE.so: ",
            dir.display()
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `plugspec check --require-safe-permissions` judges as a host requiring safe permissions
/// (OPEN-11): a plugin file others can write is refused (with the loader's kind, `io`, so on
/// standard error), accepted without the flag, and the JSON's host says what was required.
#[test]
fn check_can_require_safe_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("permissions");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let plugin = dir.join("basic.so");
    std::fs::copy(built("basic"), &plugin).unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o646)).unwrap();
    let out = plugspec()
        .args(["check", "--require-safe-permissions"])
        .arg(&plugin)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(": the host requires safe permissions, and the "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    plugspec().arg("check").arg(&plugin).assert().success();
    let out = plugspec()
        .args(["check", "--json", "--require-safe-permissions"])
        .arg(&plugin)
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json_schema::assert_valid("check.schema.json", &value);
    assert_eq!(value["host"]["safe_permissions"], true);
    assert_eq!(value["plugins"][0]["error"], "io");
    std::fs::remove_dir_all(&dir).unwrap();
}
