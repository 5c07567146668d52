//! Rule VER-12: plugins agree on the packages only they share. The host here declares no
//! shared package but plugspec; fx-basic declares `fixture-common`, and fx-mismatch declares it
//! with one byte changed. Whichever loads first fixes the package for the process: the other is
//! refused with `version_mismatch`, naming the package and the plugin it disagrees with, before
//! its init runs; a plugin that agrees (fx-twin) loads.

#![cfg(unix)]

use std::path::PathBuf;

use plugspec::{ErrorKind, HostConfig, Loader, Plugin, ReferenceLoader};

mod support;
use support::{build, fixture};

#[test]
fn a_package_only_plugins_share_is_fixed_by_the_first() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mut built = build("fixtures", &tmp.join("fixtures-target"));
    built.extend(build(
        "fixtures/mismatch",
        &tmp.join("fixtures-mismatch-target"),
    ));
    let dir = tmp.join(format!("plugin-packages-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("init.log");
    // SAFETY: set before any thread of this test binary reads the environment here (this is the
    // only test in the binary).
    unsafe { std::env::set_var("PLUGSPEC_INIT_LOG", &log) };

    // The host does not declare fixture-common: only plugins do.
    let loader = ReferenceLoader::with_host(HostConfig::new());
    let basic = loader.open(&fixture(&built, "fx_basic", &dir)).unwrap();
    assert_eq!(basic.identity(), "fixtures.basic");

    let e = loader
        .open(&fixture(&built, "fx_mismatch", &dir))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::VersionMismatch, "{e}");
    assert_eq!(e.differences().len(), 1, "{e}");
    assert_eq!(
        e.differences()[0].item,
        "package fixture-common as loaded by plugin fixtures.basic"
    );
    let text = e.to_string();
    assert!(
        text.contains(
            "plugin was built with a different version of package fixture-common than the loaded plugin fixtures.basic"
        ),
        "{text}"
    );
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!log_text.contains("fixtures.mismatch"), "{log_text}");

    // A plugin that declares the same record loads.
    let twin = loader.open(&fixture(&built, "fx_twin", &dir)).unwrap();
    assert_eq!(twin.identity(), "fixtures.twin");
}
