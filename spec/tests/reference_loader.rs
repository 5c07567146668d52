//! End-to-end checks of the reference loader against real fixture plugins, in one process.
//!
//! The full, data-driven suite (one process per case) is `plugspec-runner`; this file checks
//! enough of the loader to trust it on its own: load, call, variables both ways, same plugin for
//! the same resolved path, init once, a one-byte-changed shared package refused before init, a
//! cdylib without the SDK and a text file refused, and the process still working after each.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI32, Ordering};

use plugspec::{ErrorKind, HostConfig, Loader, Plugin, ReferenceLoader};

mod support;
use support::{build, fixture};

#[test]
fn the_reference_loader_loads_checks_and_refuses() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let mut built = build("fixtures", &tmp.join("fixtures-target"));
    built.extend(build(
        "fixtures/mismatch",
        &tmp.join("fixtures-mismatch-target"),
    ));
    let dir = tmp.join(format!("reference-loader-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    let log = dir.join("init.log");
    // SAFETY: set before any thread of this test binary reads the environment here (this is the
    // only test in the binary).
    unsafe { std::env::set_var("PLUGSPEC_INIT_LOG", &log) };

    // The host is built with the original fixture-common: declare the same source as shared.
    let common = support::common_package();
    let loader = ReferenceLoader::with_host(HostConfig::new().shared(common));

    // Load; call a function; variables both ways.
    let basic = fixture(&built, "fx_basic", &dir);
    let p = loader.open(&basic).expect("basic loads");
    assert_eq!(p.identity(), "fixtures.basic");
    let add = plugspec::function!(p, "add", extern "C" fn(i32, i32) -> i32).unwrap();
    assert_eq!(add(2, 3), 5);
    let get = plugspec::function!(p, "get_value", extern "C" fn() -> i32).unwrap();
    let set = plugspec::function!(p, "set_value", extern "C" fn(i32)).unwrap();
    let value = plugspec::variable_ptr!(p, "VALUE", i32).unwrap();
    // SAFETY: VALUE is the plugin's i32 storage; this thread is its only user.
    unsafe {
        assert_eq!(*value, 42);
        *value = 7;
        assert_eq!(get(), 7);
        set(11);
        assert_eq!(*value, 11);
    }
    // LOOKUP-5: the plugin's compiler named the types; the host's spelling does not matter...
    let by_path = plugspec::variable!(p, "COUNTER", std::sync::atomic::AtomicI32).unwrap();
    type BinOp = extern "C" fn(i32, i32) -> i32;
    assert_eq!(plugspec::function!(p, "add", BinOp).unwrap()(20, 22), 42);
    {
        // ...and a host type spelled like the plugin's, of the same size and alignment, is
        // another type.
        #[allow(dead_code)]
        struct AtomicI32(std::cell::UnsafeCell<i32>);
        let e = plugspec::variable_ptr!(p, "COUNTER", AtomicI32).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TypeMismatch, "{e}");
    }
    let counter: &'static AtomicI32 = plugspec::variable!(p, "COUNTER", AtomicI32).unwrap();
    assert!(std::ptr::eq(by_path, counter));
    counter.store(5, Ordering::SeqCst);
    assert_eq!(
        plugspec::variable!(p, "COUNTER", AtomicI32)
            .unwrap()
            .load(Ordering::SeqCst),
        5
    );
    // A function-typed variable redirects the plugin's own calls.
    extern "C" fn ninety_nine() -> i32 {
        99
    }
    let hook = plugspec::variable_ptr!(p, "HOOK", extern "C" fn() -> i32).unwrap();
    let call_hook = plugspec::function!(p, "call_hook", extern "C" fn() -> i32).unwrap();
    assert_eq!(call_hook(), 1);
    // SAFETY: HOOK is the plugin's function-pointer storage; this thread is its only user.
    unsafe { *hook = ninety_nine };
    assert_eq!(call_hook(), 99);

    // Only what the manifest exports is visible; wrong types are typed errors.
    for name in [
        "raw_unexported",
        "PLUGSPEC_PLUGIN",
        "",
        "fixtures.basic.add",
        "Add",
    ] {
        assert_eq!(
            p.lookup(name).unwrap_err().kind(),
            ErrorKind::SymbolNotFound,
            "{name:?}"
        );
    }
    assert_eq!(
        plugspec::function!(p, "VALUE", extern "C" fn() -> i32)
            .unwrap_err()
            .kind(),
        ErrorKind::TypeMismatch
    );
    assert_eq!(
        plugspec::variable_ptr!(p, "VALUE", i64).unwrap_err().kind(),
        ErrorKind::TypeMismatch
    );

    // Same plugin through the same path, a relative path, `..` and a symlink; init ran once.
    let again = loader.open(&basic).unwrap();
    assert_eq!(again, p);
    let dotted = dir.join("sub").join("..").join(basic.file_name().unwrap());
    assert_eq!(loader.open(&dotted).unwrap(), p);
    let link = dir.join("link.so");
    std::os::unix::fs::symlink(&basic, &link).unwrap();
    assert_eq!(loader.open(&link).unwrap(), p);
    std::env::set_current_dir(&dir).unwrap();
    assert_eq!(
        loader.open(Path::new(basic.file_name().unwrap())).unwrap(),
        p
    );
    let init_count = plugspec::function!(p, "init_count", extern "C" fn() -> i32).unwrap();
    assert_eq!(init_count(), 1);

    // A byte copy has the same identity: already loaded, sticky, the loaded one unaffected.
    let copy = dir.join("copy.so");
    std::fs::copy(&basic, &copy).unwrap();
    let e = loader.open(&copy).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::AlreadyLoaded, "{e}");
    let e = loader.open(&copy).unwrap_err();
    assert!(
        e.is_previous_failure() && e.to_string().ends_with("(previous failure)"),
        "{e}"
    );
    assert_eq!(init_count(), 1);

    // One byte changed in a shared package: refused, naming it, and its init never ran.
    let mismatch = fixture(&built, "fx_mismatch", &dir);
    let e = loader.open(&mismatch).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::VersionMismatch, "{e}");
    assert!(
        e.to_string()
            .contains("plugin was built with a different version of package fixture-common"),
        "{e}"
    );
    assert_eq!(e.differences().len(), 1, "{e}");

    // Not plugins: a cdylib without the SDK and a text file. Not cached.
    let nosdk = fixture(&built, "fx_nosdk", &dir);
    let e = loader.open(&nosdk).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAPlugin, "{e}");
    assert!(!loader.open(&nosdk).unwrap_err().is_previous_failure());
    let text = dir.join("notes.txt");
    std::fs::write(&text, "hello, this is not a plugin\n").unwrap();
    assert_eq!(
        loader.open(&text).unwrap_err().kind(),
        ErrorKind::NotAPlugin
    );
    assert_eq!(loader.open(&dir).unwrap_err().kind(), ErrorKind::NotAPlugin);
    assert_eq!(
        loader.open(&dir.join("missing.so")).unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // The process keeps working, and the log shows exactly one init: basic's.
    assert_eq!(add(20, 22), 42);
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(log, "init fixtures.basic\n");
}
