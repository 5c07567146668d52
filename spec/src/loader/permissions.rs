//! The opt-in permission policy (rule `OPEN-11`, [`HostConfig::require_safe_permissions`]): a
//! plugin file, and every directory on its resolved path, must be writable by its owner alone
//! and owned by root or by this process's effective user.
//!
//! The file judged is the open file the loader checks and maps (OPEN-8), through its
//! descriptor. The directories are walked from `/` down the resolved path one component at a
//! time, each opened relative to the one before (`openat`, never following a symlink) and judged
//! through its own descriptor; the last component, opened the same way, must be the very file
//! that was opened (same device and inode). So the directories judged are the ones that hold
//! the file, and once they are judged safe nobody but root or this user can rename anything in
//! them: nothing checked here can be swapped before the file is mapped.
//!
//! [`HostConfig::require_safe_permissions`]: crate::fingerprint::HostConfig::require_safe_permissions

#[cfg(unix)]
use std::fs::File;
use std::fs::Metadata;
use std::path::Path;

use crate::error::Error;

/// Refuses the open file whose metadata is `meta` (opened at `canonical`, for `open(given)`;
/// stat'ed through its descriptor) if it, or a directory on `canonical`, is writable by group or
/// others or owned by someone other than root or this process's effective user. `io`, naming the
/// offending path.
#[cfg(unix)]
pub(crate) fn check(given: &Path, canonical: &Path, meta: &Metadata) -> Result<(), Error> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::path::{Component, PathBuf};

    let cannot = |path: &Path, e: std::io::Error| {
        Error::io(
            given,
            format_args!(
                "cannot check the permissions of {} for the host's permission policy: {e}",
                crate::error::escaped(path)
            ),
        )
    };
    let mut components = canonical.components().peekable();
    if components.next() != Some(Component::RootDir) {
        return Err(cannot(
            canonical,
            std::io::Error::other("the resolved path is not absolute"),
        ));
    }
    // First the walk, from `/` down, each directory opened relative to the one before and read
    // through its own descriptor; then the judgement, once the walk ended at the open file.
    let mut walked = PathBuf::from("/");
    let mut dir = open_at(None, c"/", true).map_err(|e| cannot(&walked, e))?;
    let mut directories = Vec::new();
    loop {
        let dir_meta = dir.metadata().map_err(|e| cannot(&walked, e))?;
        directories.push((walked.clone(), dir_meta));
        let Some(Component::Normal(name)) = components.next() else {
            return Err(cannot(
                canonical,
                std::io::Error::other("the resolved path has no file name"),
            ));
        };
        walked.push(name);
        let name = CString::new(name.as_bytes()).map_err(|e| cannot(&walked, e.into()))?;
        let last = components.peek().is_none();
        let next = open_at(Some(&dir), &name, !last).map_err(|e| cannot(&walked, e))?;
        if last {
            // OPEN-11 (and OPEN-8): the directories judged are the ones holding the file that
            // was opened, checked and is mapped, or nothing is judged at all.
            let found = next.metadata().map_err(|e| cannot(&walked, e))?;
            if (found.dev(), found.ino()) != (meta.dev(), meta.ino()) {
                return Err(Error::io(
                    given,
                    format_args!(
                        "{} changed while its permissions were checked for the host's permission policy",
                        crate::error::escaped(canonical)
                    ),
                ));
            }
            break;
        }
        dir = next;
    }
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    for (path, dir_meta) in &directories {
        judge(given, path, dir_meta, euid, "directory")?;
    }
    judge(given, canonical, meta, euid, "file")
}

/// Elsewhere there are no Unix owners and modes to judge: a host that asked for the policy gets
/// no plugin rather than an unchecked one (no such platform loads plugins today: PLAT-2 refuses
/// first).
#[cfg(not(unix))]
pub(crate) fn check(given: &Path, canonical: &Path, _: &Metadata) -> Result<(), Error> {
    Err(Error::io(
        given,
        format_args!(
            "cannot check the permissions of {} for the host's permission policy: this platform has no Unix owners and modes",
            crate::error::escaped(canonical)
        ),
    ))
}

/// OPEN-11: the decision for one file or directory.
#[cfg(unix)]
fn judge(
    given: &Path,
    path: &Path,
    meta: &std::fs::Metadata,
    euid: u32,
    what: &str,
) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode() & 0o7777;
    let writable = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => Some("its group and others"),
        (true, false) => Some("its group"),
        (false, true) => Some("others"),
        (false, false) => None,
    };
    // OPEN-11: writable by group or others is refused, a sticky directory (`/tmp`) included:
    // the sticky bit stops others deleting the file, not placing their own beside it.
    if let Some(whom) = writable {
        let sticky = if mode & 0o1000 != 0 { ", sticky" } else { "" };
        return Err(Error::io(
            given,
            format_args!(
                "the host requires safe permissions, and the {what} {} is writable by {whom} (mode {mode:04o}{sticky})",
                crate::error::escaped(path)
            ),
        ));
    }
    // OPEN-11: owned by root or by this process's effective user only.
    let uid = meta.uid();
    if uid != 0 && uid != euid {
        return Err(Error::io(
            given,
            format_args!(
                "the host requires safe permissions, and the {what} {} is owned by uid {uid}, neither root nor this process's user (uid {euid})",
                crate::error::escaped(path)
            ),
        ));
    }
    Ok(())
}

/// Opens `name` relative to `dir` (or the absolute `name` without one) without following a
/// symlink and without reading anything: `O_PATH` on Linux; elsewhere read-only and
/// non-blocking (a directory, or the regular file already opened once).
#[cfg(unix)]
fn open_at(dir: Option<&File>, name: &std::ffi::CStr, directory: bool) -> std::io::Result<File> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let access = libc::O_PATH;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let access = libc::O_RDONLY | libc::O_NONBLOCK;
    let flags =
        access | libc::O_NOFOLLOW | libc::O_CLOEXEC | if directory { libc::O_DIRECTORY } else { 0 };
    let at = dir.map_or(libc::AT_FDCWD, AsRawFd::as_raw_fd);
    // SAFETY: `name` is NUL-terminated and alive for the call; `at` is an open descriptor
    // borrowed from `dir`, or `AT_FDCWD` for an absolute name.
    let fd = unsafe { libc::openat(at, name.as_ptr(), flags) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened by this thread and is owned by nothing else.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn a_file_that_is_not_the_open_one_is_refused_as_changed() {
        let dir = std::env::temp_dir().join(format!("plugspec-permissions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (a, b) = (dir.join("a.so"), dir.join("b.so"));
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&b, b"b").unwrap();
        let opened = File::open(&a).unwrap().metadata().unwrap();
        // The walk ends at b, not at the open file a: whatever the permissions, nothing is judged.
        let e = check(Path::new("given.so"), &b, &opened).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert!(e.to_string().contains("changed while"), "{e}");
        assert!(e.to_string().contains(&*b.to_string_lossy()), "{e}");
        // A symlink is not followed (a resolved path has none): a symlink to the open file, put
        // where it was, is not that file.
        let link = dir.join("link.so");
        std::os::unix::fs::symlink(&a, &link).unwrap();
        let e = check(Path::new("given.so"), &link, &opened).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io, "{e}");
        assert!(e.to_string().contains("changed while"), "{e}");
        // And a symlinked directory on the way cannot be walked at all.
        let linked_dir = dir.join("dir-link");
        std::os::unix::fs::symlink(&dir, &linked_dir).unwrap();
        let e = check(Path::new("given.so"), &linked_dir.join("a.so"), &opened).unwrap_err();
        assert!(e.to_string().contains("cannot check"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn group_or_other_write_and_a_stranger_owner_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("plugspec-judge-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("p.so");
        std::fs::write(&file, b"p").unwrap();
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        let euid = unsafe { libc::geteuid() };
        let given = Path::new("p.so");
        for (mode, refused) in [(0o644, false), (0o600, false), (0o664, true), (0o646, true)] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            let meta = std::fs::metadata(&file).unwrap();
            let verdict = judge(given, &file, &meta, euid, "file");
            assert_eq!(verdict.is_err(), refused, "{mode:o}: {verdict:?}");
        }
        // A sticky directory everyone can write (`/tmp`) is refused too.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let e = judge(
            given,
            &dir,
            &std::fs::metadata(&dir).unwrap(),
            euid,
            "directory",
        )
        .unwrap_err();
        assert!(e.to_string().contains("sticky"), "{e}");
        // Judged as another user (neither root nor the owner), a safe file is refused.
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        use std::os::unix::fs::MetadataExt;
        if meta.uid() != 0 {
            let e = judge(given, &file, &meta, meta.uid() + 1, "file").unwrap_err();
            assert!(e.to_string().contains("owned by uid"), "{e}");
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
