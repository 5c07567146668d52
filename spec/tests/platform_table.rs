//! PLAT-*: which targets load plugins, as a case table and over every target rustc knows.

use std::process::Command;

use plugspec::platform::{OsFamily, Platform, classify, library_file_name};
use rstest::rstest;

#[rstest]
#[case::linux_gnu("x86_64-unknown-linux-gnu", OsFamily::Linux, true, "so")]
#[case::linux_musl("aarch64-unknown-linux-musl", OsFamily::Linux, true, "so")]
#[case::linux_i686("i686-unknown-linux-gnu", OsFamily::Linux, true, "so")]
#[case::linux_riscv64("riscv64gc-unknown-linux-gnu", OsFamily::Linux, true, "so")]
#[case::linux_uclibc("mips-unknown-linux-uclibc", OsFamily::Linux, true, "so")]
#[case::macos_x86_64("x86_64-apple-darwin", OsFamily::MacOs, true, "dylib")]
#[case::macos_aarch64("aarch64-apple-darwin", OsFamily::MacOs, true, "dylib")]
#[case::freebsd("x86_64-unknown-freebsd", OsFamily::FreeBsd, true, "so")]
// PLAT-1.a: architectures Go builds no plugins for load here.
#[case::linux_mips64le("mips64el-unknown-linux-gnuabi64", OsFamily::Linux, true, "so")]
#[case::freebsd_aarch64("aarch64-unknown-freebsd", OsFamily::FreeBsd, true, "so")]
#[case::windows_msvc("x86_64-pc-windows-msvc", OsFamily::Windows, false, "dll")]
#[case::windows_gnu("x86_64-pc-windows-gnu", OsFamily::Windows, false, "dll")]
#[case::windows_aarch64("aarch64-pc-windows-msvc", OsFamily::Windows, false, "dll")]
#[case::cygwin("x86_64-pc-cygwin", OsFamily::Windows, false, "dll")]
#[case::wasm_unknown("wasm32-unknown-unknown", OsFamily::Wasm, false, "wasm")]
#[case::wasip1("wasm32-wasip1", OsFamily::Wasm, false, "wasm")]
#[case::wasip2("wasm32-wasip2", OsFamily::Wasm, false, "wasm")]
#[case::emscripten("wasm32-unknown-emscripten", OsFamily::Wasm, false, "wasm")]
#[case::wali("wasm32-wali-linux-musl", OsFamily::Wasm, false, "wasm")]
#[case::ios("aarch64-apple-ios", OsFamily::Ios, false, "dylib")]
#[case::ios_sim("aarch64-apple-ios-sim", OsFamily::Ios, false, "dylib")]
#[case::mac_catalyst("x86_64-apple-ios-macabi", OsFamily::Ios, false, "dylib")]
#[case::tvos("aarch64-apple-tvos", OsFamily::Ios, false, "dylib")]
#[case::watchos("aarch64-apple-watchos", OsFamily::Ios, false, "dylib")]
#[case::visionos("aarch64-apple-visionos", OsFamily::Ios, false, "dylib")]
#[case::android_aarch64("aarch64-linux-android", OsFamily::Android, false, "so")]
#[case::android_armv7("armv7-linux-androideabi", OsFamily::Android, false, "so")]
#[case::android_x86_64("x86_64-linux-android", OsFamily::Android, false, "so")]
#[case::netbsd("x86_64-unknown-netbsd", OsFamily::Other, false, "")]
#[case::openbsd("x86_64-unknown-openbsd", OsFamily::Other, false, "")]
#[case::illumos("x86_64-unknown-illumos", OsFamily::Other, false, "")]
#[case::bare_metal("thumbv7em-none-eabihf", OsFamily::Other, false, "")]
#[case::uefi("x86_64-unknown-uefi", OsFamily::Other, false, "")]
#[case::fuchsia("x86_64-unknown-fuchsia", OsFamily::Other, false, "")]
#[case::redox("x86_64-unknown-redox", OsFamily::Other, false, "")]
#[case::openharmony("aarch64-unknown-linux-ohos", OsFamily::Other, false, "")]
#[case::linux_no_libc("x86_64-unknown-linux-none", OsFamily::Other, false, "")]
fn classifies(
    #[case] target: &'static str,
    #[case] os: OsFamily,
    #[case] loads: bool,
    #[case] extension: &'static str,
) {
    let p = classify(target);
    assert_eq!(
        p,
        Platform {
            target,
            os,
            loads_plugins: loads,
            library_extension: extension,
        }
    );
    assert_eq!(
        p.reason() == "plugins load through dlopen",
        loads,
        "{target}: {}",
        p.reason()
    );
    let file = library_file_name("foo", &p);
    let expected_file = match os {
        OsFamily::Windows => "foo.dll",
        OsFamily::Wasm => "foo.wasm",
        OsFamily::Other => "foo",
        OsFamily::MacOs | OsFamily::Ios => "libfoo.dylib",
        OsFamily::Linux | OsFamily::FreeBsd | OsFamily::Android => "libfoo.so",
    };
    assert_eq!(file, expected_file, "{target}");
}

/// Linux-kernel targets that refuse by judgment (PLAT-4): OpenHarmony and libc-less Linux.
fn refusing_linux(target: &str) -> bool {
    target.contains("-linux-ohos") || target.ends_with("-linux-none")
}

/// What the PLAT rules say about `target`, written from the rule text independently of
/// `classify`: (family, loads, extension).
fn expected(target: &str) -> (OsFamily, bool, &'static str) {
    let apple_mobile = [
        "-apple-ios",
        "-apple-tvos",
        "-apple-watchos",
        "-apple-visionos",
    ];
    if target.contains("wasm") {
        (OsFamily::Wasm, false, "wasm")
    } else if target.contains("windows") || target.contains("cygwin") {
        (OsFamily::Windows, false, "dll")
    } else if target.contains("android") {
        (OsFamily::Android, false, "so")
    } else if apple_mobile.iter().any(|s| target.contains(s)) {
        (OsFamily::Ios, false, "dylib")
    } else if target.contains("apple-darwin") {
        (OsFamily::MacOs, true, "dylib")
    } else if target.contains("freebsd") {
        (OsFamily::FreeBsd, true, "so")
    } else if target.contains("-linux-") && !refusing_linux(target) {
        (OsFamily::Linux, true, "so")
    } else {
        (OsFamily::Other, false, "")
    }
}

#[test]
fn every_rustc_target_classifies_consistently() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(&rustc)
        .args(["--print", "target-list"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{rustc} --print target-list`: {e}"));
    assert!(
        output.status.success(),
        "`{rustc} --print target-list` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let list = String::from_utf8(output.stdout).expect("rustc prints UTF-8");
    let targets: Vec<&'static str> = list
        .lines()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| &*Box::leak(t.to_lowercase().into_boxed_str()))
        .collect();
    assert!(
        targets.len() > 100,
        "`{rustc} --print target-list` listed only {} targets",
        targets.len()
    );

    let (mut load, mut refuse) = (0usize, 0usize);
    let mut wrong = Vec::new();
    let mut judged = Vec::new();
    for &target in &targets {
        let p = classify(target);
        let want = expected(target);
        if (p.os, p.loads_plugins, p.library_extension) != want {
            wrong.push(format!(
                "{target}: got ({:?}, {}, {:?}), want {want:?}",
                p.os, p.loads_plugins, p.library_extension
            ));
        }
        if p.loads_plugins != p.os.loads_plugins() {
            wrong.push(format!("{target}: loads_plugins disagrees with its family"));
        }
        if refusing_linux(target) {
            judged.push(target);
        }
        if p.loads_plugins {
            load += 1;
        } else {
            refuse += 1;
        }
    }
    assert!(wrong.is_empty(), "inconsistent:\n{}", wrong.join("\n"));
    assert_eq!(load + refuse, targets.len());
    assert!(load > 0 && refuse > 0);
    println!("{} targets: {load} load, {refuse} refuse", targets.len());
    println!("refusing Linux-kernel targets by judgment: {judged:?}");
}
