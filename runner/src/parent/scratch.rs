//! Where a case runs: a fresh scratch directory per run, with the case's own copies of its
//! fixtures, made safe for a host requiring safe permissions (OPEN-11) and given to an
//! unprivileged user for a case that needs one; and why such a case cannot run here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::case::Case;
use crate::fixtures::Registry;

/// Where scratch directories go: `<root>/scratch/<pid>/`.
pub fn scratch_root(fixtures_root: &Path) -> PathBuf {
    fixtures_root
        .join("scratch")
        .join(std::process::id().to_string())
}

/// Where the directories of cases whose host requires safe permissions (OPEN-11) go: the
/// [`scratch_root`], unless a directory above it lets other users write (a target directory
/// under `/tmp`), where that host would refuse every plugin; then the first safe place that can
/// be made, `/var/cache/plugspec-scratch/<pid>/` (root) or `~/.cache/plugspec-scratch/<pid>/`,
/// and the [`scratch_root`] when there is none (those cases are then ignored, with the reason).
/// Only those cases go elsewhere: a failed case's directory is kept, and outside the target
/// directory nothing would clear it. Chosen once per fixtures root.
pub fn safe_scratch_root(fixtures_root: &Path) -> PathBuf {
    static CHOSEN: std::sync::Mutex<Vec<(PathBuf, PathBuf)>> = std::sync::Mutex::new(Vec::new());
    let mut chosen = CHOSEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, root)) = chosen.iter().find(|(f, _)| f == fixtures_root) {
        return root.clone();
    }
    let root = choose_scratch_root(fixtures_root);
    chosen.push((fixtures_root.to_path_buf(), root.clone()));
    root
}

fn choose_scratch_root(fixtures_root: &Path) -> PathBuf {
    let default = scratch_root(fixtures_root);
    if safe_permissions_problem(&default).is_none() {
        return default;
    }
    let pid = std::process::id().to_string();
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty());
    let bases = [
        cfg!(unix).then(|| PathBuf::from("/var/cache/plugspec-scratch")),
        home.map(|h| PathBuf::from(h).join(".cache").join("plugspec-scratch")),
    ];
    bases
        .into_iter()
        .flatten()
        .find(|base| {
            // The base stays (empty between runs); `<pid>` is made by `prepare` when a case runs,
            // so a process that runs none leaves nothing. It is made here once only to learn
            // whether this user may write there.
            let probe = base.join(&pid);
            if std::fs::create_dir_all(&probe).is_err() {
                return false;
            }
            let _ = std::fs::remove_dir(&probe);
            // Whatever the umask: writable by the runner alone, as `prepare` makes its own.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(base, std::fs::Permissions::from_mode(0o755));
            }
            safe_permissions_problem(base).is_none()
        })
        .map_or(default, |base| base.join(&pid))
}

/// Prepares a fresh scratch directory for run `n` of `case` and copies its fixtures there.
pub fn prepare(
    case: &Case,
    n: u32,
    registry: &Registry,
) -> Result<(PathBuf, BTreeMap<String, PathBuf>), String> {
    let root = if case.host.safe_permissions {
        safe_scratch_root(registry.root())
    } else {
        scratch_root(registry.root())
    };
    let dir = root.join(format!("{}-{n}", case.id));
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create {}: {e}", plugspec::error::escaped(&dir)))?;
    // Whatever the umask: writable by the runner alone, as a host requiring safe permissions
    // (OPEN-11) wants every directory above a plugin (`scratch`, `<pid>`, the case's own).
    #[cfg(unix)]
    for d in dir.ancestors().take(3) {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755));
    }
    // The canonical form, so that paths the loader resolves match paths the case writes.
    let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
    let fixtures = registry.copy_into(&case.fixtures, &dir)?;
    Ok((dir, fixtures))
}

/// Removes a scratch directory (after a pass), making unreadable entries readable first.
pub fn cleanup(dir: &Path) {
    #[cfg(unix)]
    if let Ok(entries) = std::fs::read_dir(dir) {
        use std::os::unix::fs::PermissionsExt;
        for e in entries.filter_map(Result::ok) {
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o755));
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// The user a case that requires `unprivileged` runs as: `None` when the runner is not root (its
/// children already are unprivileged), else the uid and gid of `nobody` (65534 where there is no
/// such user).
#[cfg(unix)]
pub fn unprivileged_user() -> Option<(u32, u32)> {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    // SAFETY: the name is NUL-terminated; the returned record (or null) is only read here, on a
    // thread that makes no other passwd call meanwhile (the harness asks once, before trials).
    let user = unsafe { libc::getpwnam(c"nobody".as_ptr()).as_ref() }
        .map_or((65534, 65534), |pw| (pw.pw_uid, pw.pw_gid));
    Some(user)
}

/// Unprivileged users never exist here.
#[cfg(not(unix))]
pub fn unprivileged_user() -> Option<(u32, u32)> {
    None
}

/// Why a case that requires `root` cannot run here: the runner is not root. `None` when it is.
#[cfg(unix)]
pub fn root_problem() -> Option<String> {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    (euid != 0).then(|| {
        format!("needs root (only root may give a file to another user), and the runner runs as uid {euid}")
    })
}

/// There is no root elsewhere.
#[cfg(not(unix))]
pub fn root_problem() -> Option<String> {
    Some("needs root, and this platform has no Unix users".to_string())
}

/// Why a case whose host requires safe permissions (OPEN-11) cannot run from scratch
/// directories under `scratch`: a directory above them that such a host refuses (writable by
/// group or others, or owned by someone other than root or the runner's user), so that every
/// plugin there would be refused for it. `None` when there is none.
#[cfg(unix)]
pub fn safe_permissions_problem(scratch: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    let existing = scratch
        .ancestors()
        .find_map(|d| std::fs::canonicalize(d).ok())?;
    existing.ancestors().find_map(|dir| {
        let meta = std::fs::metadata(dir).ok()?;
        let (mode, uid) = (meta.mode() & 0o7777, meta.uid());
        (mode & 0o022 != 0 || (uid != 0 && uid != euid)).then(|| {
            format!(
                "its host requires safe permissions, and {} above the scratch directories is not safe (mode {mode:04o}, owner uid {uid}): every plugin under it would be refused; put the target directory where only root or this user can write",
                plugspec::error::escaped(dir)
            )
        })
    })
}

/// No permission policy is checked elsewhere.
#[cfg(not(unix))]
pub fn safe_permissions_problem(_: &Path) -> Option<String> {
    None
}

/// Why a child dropped to [`unprivileged_user`] could not run a case from a scratch directory
/// under `scratch` with the executable `exe`: a directory on the way that other users may not
/// search, or an executable they may not run. `None` when it can.
#[cfg(unix)]
pub fn unprivileged_problem(scratch: &Path, exe: &Path) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let exe_dir = exe.parent().unwrap_or(exe);
    for dir in scratch.ancestors().chain(exe_dir.ancestors()) {
        let Ok(meta) = std::fs::metadata(dir) else {
            continue; // not created yet: the runner creates it with mode 0755
        };
        if meta.permissions().mode() & 0o001 == 0 {
            return Some(format!(
                "needs an unprivileged user, and the runner (root) cannot drop to one here: {} is not searchable by other users",
                plugspec::error::escaped(dir)
            ));
        }
    }
    match std::fs::metadata(exe) {
        Ok(meta) if meta.permissions().mode() & 0o001 == 0 => Some(format!(
            "needs an unprivileged user, and the runner (root) cannot drop to one here: {} is not executable by other users",
            plugspec::error::escaped(exe)
        )),
        _ => None,
    }
}

/// Never a problem where there are no users to drop to (such cases are not ignored for this).
#[cfg(not(unix))]
pub fn unprivileged_problem(_: &Path, _: &Path) -> Option<String> {
    None
}

/// Gives the scratch directory and everything in it to `user`, so that a child running as that
/// user can work in it.
#[cfg(unix)]
pub(super) fn give_to(dir: &Path, (uid, gid): (u32, u32)) -> Result<(), String> {
    let fail = |p: &Path, e: std::io::Error| {
        format!(
            "cannot chown {} to {uid}:{gid}: {e}",
            plugspec::error::escaped(p)
        )
    };
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| fail(dir, e))?;
    for entry in std::fs::read_dir(dir).map_err(|e| fail(dir, e))? {
        let path = entry.map_err(|e| fail(dir, e))?.path();
        if path.is_dir() && !path.is_symlink() {
            give_to(&path, (uid, gid))?;
        } else {
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).map_err(|e| fail(&path, e))?;
        }
    }
    Ok(())
}
