//! The opt-in permission policy (rule OPEN-11) end to end, with real plugins: a host requiring
//! safe permissions refuses a plugin file writable by its group or by others, one in a
//! directory others can write (sticky or not), and, run as root, one owned by another user —
//! each with `io` naming the offending path, not cached — and loads the same file once it is
//! safe; a host that does not require them loads the unsafe file.

#![cfg(unix)]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use plugspec::{ErrorKind, HostConfig, Loader, Plugin, ReferenceLoader};

mod support;

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn euid() -> u32 {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// A directory above `dir` that the policy refuses, if any (then every plugin under it is
/// refused for that directory).
fn unsafe_ancestor(dir: &Path) -> Option<PathBuf> {
    let euid = euid();
    dir.ancestors().skip(1).find_map(|d| {
        let meta = std::fs::metadata(d).ok()?;
        (meta.mode() & 0o022 != 0 || (meta.uid() != 0 && meta.uid() != euid))
            .then(|| d.to_path_buf())
    })
}

/// `open` under the policy fails with `io`, not cached, and its message names `path`.
fn refused(loader: &ReferenceLoader, plugin: &Path, path: &Path, why: &str) {
    let e = loader.open(plugin).expect_err(&format!("refused: {why}"));
    assert_eq!(e.kind(), ErrorKind::Io, "{why}: {e}");
    let text = e.to_string();
    assert!(!text.ends_with("(previous failure)"), "{why}: {e}");
    let named = format!(" {} ", plugspec::error::escaped(path));
    assert!(text.contains(&named), "{why}: {e} does not name {path:?}");
    assert!(text.contains(why), "{e} does not say {why:?}");
}

#[test]
fn a_host_requiring_safe_permissions_refuses_what_others_could_write() {
    let basic = support::built_fixture("fx_basic", "permissions");
    let plugins = basic.parent().unwrap().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    let plugin = plugins.join(basic.file_name().unwrap());
    std::fs::rename(&basic, &plugin).unwrap();
    let (dir, plugins) = (
        std::fs::canonicalize(basic.parent().unwrap()).unwrap(),
        std::fs::canonicalize(&plugins).unwrap(),
    );
    let plugin = plugins.join(plugin.file_name().unwrap());
    chmod(&dir, 0o755);
    chmod(&plugins, 0o755);
    let common = support::common_package();
    let strict =
        ReferenceLoader::with_host(HostConfig::new().shared(common).require_safe_permissions());
    if let Some(above) = unsafe_ancestor(&dir) {
        // Nothing under `above` can pass; the refusal names it, and the rest needs a safe place.
        chmod(&plugin, 0o644);
        refused(
            &strict,
            &plugin,
            &above,
            "the host requires safe permissions",
        );
        eprintln!(
            "note: {} is writable by group or others, or owned by another user: only its refusal was checked",
            above.display()
        );
        return;
    }

    chmod(&plugin, 0o664);
    refused(&strict, &plugin, &plugin, "writable by its group");
    chmod(&plugin, 0o646);
    refused(&strict, &plugin, &plugin, "writable by others");
    chmod(&plugin, 0o644);
    chmod(&plugins, 0o757);
    refused(&strict, &plugin, &plugins, "writable by others");
    chmod(&plugins, 0o1777);
    refused(&strict, &plugin, &plugins, "sticky");
    chmod(&plugins, 0o755);
    if euid() == 0 {
        std::os::unix::fs::chown(&plugin, Some(65534), Some(65534)).unwrap();
        refused(&strict, &plugin, &plugin, "owned by uid 65534");
        std::os::unix::fs::chown(&plugin, Some(0), Some(0)).unwrap();
    } else {
        eprintln!("note: not root: a file owned by another user cannot be made here");
    }

    // Without the requirement the unsafe file loads (the default).
    chmod(&plugin, 0o666);
    chmod(&plugins, 0o777);
    let lax = ReferenceLoader::with_host(HostConfig::new().shared(common));
    let p = lax.open(&plugin).expect("loads without the requirement");
    assert_eq!(p.identity(), "fixtures.basic");
    chmod(&plugin, 0o644);
    chmod(&plugins, 0o755);

    // Safe: loads (another plugin, since fixtures.basic is loaded now).
    let twin = support::built_fixture("fx_twin", "permissions-twin");
    let safe = plugins.join(twin.file_name().unwrap());
    std::fs::rename(&twin, &safe).unwrap();
    chmod(&safe, 0o644);
    let p = strict.open(&safe).expect("a safe plugin loads");
    assert_eq!(p.identity(), "fixtures.twin");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(twin.parent().unwrap());
}
