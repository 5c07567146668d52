//! Resolving the path `open` is given to the canonical path the registry is keyed by (rule
//! `OPEN-1`), without allocating when the operating system can name an open descriptor.
//!
//! On Linux the path itself is opened with `O_PATH` (one path walk; nothing is read, a FIFO does
//! not block, a device is not opened) and the kernel's name of the descriptor is read back from
//! `/proc/self/fd`, held open for the process (`getpid` tells a forked child, which then opens
//! its own); on macOS a regular file is opened for events only and named by
//! `fcntl(F_GETPATH)`. Four system calls whatever the depth, into a buffer on the
//! caller's stack. Wherever that gives no plain answer, `realpath(3)` (`std::fs::canonicalize`)
//! decides, exactly as it would alone.

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;

use crate::error::Error;

/// The longest path the kernel takes, with its terminating NUL.
#[cfg(unix)]
const PATH_MAX: usize = libc::PATH_MAX as usize;
#[cfg(not(unix))]
const PATH_MAX: usize = 4096;

/// Room for one resolved path on the caller's stack.
pub(crate) struct PathBuffer([u8; PATH_MAX]);

impl PathBuffer {
    /// An empty buffer.
    pub(crate) fn new() -> PathBuffer {
        PathBuffer([0; PATH_MAX])
    }
}

/// Resolves `given` to a canonical absolute path: the cache key.
#[cfg(all(test, unix))]
pub(crate) fn resolve(given: &Path) -> Result<std::path::PathBuf, Error> {
    let mut buffer = PathBuffer::new();
    resolve_in(given, &mut buffer).map(Cow::into_owned)
}

/// Resolves `given` to a canonical absolute path, borrowed from `buffer` where the operating
/// system names the file directly (no allocation), owned where `realpath` had to decide.
#[cfg(all(test, unix))]
pub(crate) fn resolve_in<'b>(
    given: &Path,
    buffer: &'b mut PathBuffer,
) -> Result<Cow<'b, Path>, Error> {
    resolve_held(given, buffer).map(|(canonical, _)| canonical)
}

/// [`resolve_in`], also keeping the descriptor the canonical path was read from, where there is
/// one (Linux: the `O_PATH` descriptor). It is the very file the path named when it was
/// resolved: `file::open_regular` judges and re-opens that descriptor rather than the path, so
/// nothing renamed over the path afterwards is checked or mapped (OPEN-8).
pub(crate) fn resolve_held<'b>(
    given: &Path,
    buffer: &'b mut PathBuffer,
) -> Result<(Cow<'b, Path>, Option<File>), Error> {
    let raw = given.as_os_str().as_encoded_bytes();
    if raw.is_empty() {
        return Err(Error::not_found(given, "the path is empty"));
    }
    if raw.contains(&0) {
        return Err(Error::not_found(given, "the path contains a NUL byte"));
    }
    #[cfg(unix)]
    if raw.len() >= PATH_MAX {
        // glibc's realpath resolves one component at a time and would accept it; the kernel's
        // own `open` refuses it, and so does plugspec (rule ERR kinds: too long is not found).
        return Err(Error::not_found(
            given,
            format_args!(
                "the path is {} bytes, longer than PATH_MAX ({})",
                raw.len(),
                PATH_MAX - 1
            ),
        ));
    }
    // OPEN-1: resolved on every open, loaded or not (a deleted file is not found even when a
    // plugin from that path is loaded).
    if let Some((len, held)) = by_descriptor(given, &mut buffer.0) {
        return Ok((Cow::Borrowed(bytes_as_path(&buffer.0[..len])), held));
    }
    std::fs::canonicalize(given)
        .map(|canonical| (Cow::Owned(canonical), None))
        .map_err(|e| Error::not_found(given, e))
}

#[cfg(unix)]
fn bytes_as_path(bytes: &[u8]) -> &Path {
    use std::os::unix::ffi::OsStrExt;
    Path::new(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn bytes_as_path(_: &[u8]) -> &Path {
    unreachable!("only the unix descriptor resolution fills the buffer")
}

/// `given`, NUL-terminated, in `buffer` (the caller checked it is shorter than `PATH_MAX` and
/// has no NUL byte).
#[cfg(any(target_os = "linux", target_os = "android", target_vendor = "apple"))]
fn c_path(given: &Path, buffer: &mut [u8; PATH_MAX]) -> *const libc::c_char {
    let raw = given.as_os_str().as_encoded_bytes();
    buffer[..raw.len()].copy_from_slice(raw);
    buffer[raw.len()] = 0;
    buffer.as_ptr().cast()
}

/// This process's `/proc/self/fd`, and the process it was opened in, as `pid << 32 | descriptor`
/// (0: not yet). Opened once and held for the life of the process, so that naming a descriptor
/// is one `readlinkat` in it rather than a walk of `/proc/self/fd/<n>` on every `open`.
#[cfg(any(target_os = "linux", target_os = "android"))]
static FD_DIRECTORY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The descriptor of this process's `/proc/self/fd` directory ([`FD_DIRECTORY`]), opened on
/// first use; `None` where it cannot be opened (no `/proc`). A child made by `fork` inherits its
/// parent's descriptor, which names the parent's table: it is recognised by the process ID and
/// a descriptor of the child's own is opened (the inherited one is left alone: the child may
/// have closed it and reused its number). Like any library that holds a descriptor, this assumes
/// the process does not close descriptors it did not open. One that does sends every later open
/// to `realpath`, because `readlinkat` in a closed descriptor, or in one reused for a file,
/// fails; only a number reused for a directory holding a symbolic link named like a descriptor
/// number would answer, and wrongly.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn fd_directory() -> Option<libc::c_int> {
    use std::sync::atomic::Ordering;
    let tagged = |pid: u32, fd: libc::c_int| (u64::from(pid) << 32) | u64::from(fd as u32);
    // SAFETY: `getpid` has no preconditions and cannot fail.
    let pid = unsafe { libc::getpid() } as u32;
    let known = FD_DIRECTORY.load(Ordering::Acquire);
    if known != 0 && (known >> 32) as u32 == pid {
        return Some(known as u32 as libc::c_int);
    }
    // SAFETY: the path is a NUL-terminated literal.
    let fd = unsafe {
        libc::open(
            c"/proc/self/fd".as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return None;
    }
    match FD_DIRECTORY.compare_exchange(known, tagged(pid, fd), Ordering::AcqRel, Ordering::Acquire)
    {
        Ok(_) => Some(fd),
        Err(other) => {
            // Another thread stored one first: keep that one.
            // SAFETY: `fd` was opened above by this thread and handed to no one.
            unsafe { libc::close(fd) };
            ((other >> 32) as u32 == pid).then_some(other as u32 as libc::c_int)
        }
    }
}

/// The canonical path of `given`, as its length in `buffer`, read back from the kernel's name of
/// an `O_PATH` descriptor. `None` whenever that gives no plain answer — the open fails (then
/// `realpath` reports the error, exactly as without this), `/proc` is not mounted, or the name
/// is not an absolute path of a file that exists (the kernel's `" (deleted)"` and
/// `"(unreachable)"` forms) — and the caller falls back to `realpath`. The descriptor is
/// returned too: the file the name was read from.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn by_descriptor(given: &Path, buffer: &mut [u8; PATH_MAX]) -> Option<(usize, Option<File>)> {
    use std::io::Write;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let path = c_path(given, buffer);
    // SAFETY: `path` points at a NUL-terminated string in `buffer`, alive for the call.
    let fd = unsafe { libc::open(path, libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just opened by this thread and is owned by nothing else; dropping the
    // `OwnedFd` closes it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut link = [0u8; 32];
    let mut rest = &mut link[..];
    let n = match fd_directory() {
        // Named relative to this process's `/proc/self/fd`, held open: no walk of `/proc/self`.
        Some(dir) => {
            write!(rest, "{}\0", fd.as_raw_fd()).ok()?;
            // SAFETY: `dir` is an open directory descriptor; `link` holds a NUL-terminated
            // string; `buffer` is writable for its whole length, and readlinkat writes at most
            // that many bytes.
            unsafe {
                libc::readlinkat(
                    dir,
                    link.as_ptr().cast(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                )
            }
        }
        None => {
            write!(rest, "/proc/self/fd/{}\0", fd.as_raw_fd()).ok()?;
            // SAFETY: `link` holds a NUL-terminated string; `buffer` is writable for its whole
            // length, and readlink writes at most that many bytes.
            unsafe {
                libc::readlink(
                    link.as_ptr().cast(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                )
            }
        }
    };
    // A result as long as the buffer may have been cut short.
    let len = usize::try_from(n).ok().filter(|&n| n > 0 && n < PATH_MAX)?;
    let name = &buffer[..len];
    (name[0] == b'/' && !name.ends_with(b" (deleted)")).then_some((len, Some(File::from(fd))))
}

/// The canonical path of `given`, as its length in `buffer`, named by `fcntl(F_GETPATH)` on a
/// descriptor opened for events only (nothing is read; no open of a device or FIFO: anything
/// but a regular file is left to `realpath`). `None` whenever that gives no plain answer, and
/// the caller falls back to `realpath`.
///
/// OPEN-5: the kernel names a hard-linked file by the link it was last looked up through; a
/// name whose last component differs from the given path's (another link, or the given path
/// ends in a symlink) is left to `realpath` too, so a hard link is never named by its sibling.
#[cfg(target_vendor = "apple")]
fn by_descriptor(given: &Path, buffer: &mut [u8; PATH_MAX]) -> Option<(usize, Option<File>)> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let path = c_path(given, buffer);
    // SAFETY: `stat` is plain old data; all-zero is a valid value, overwritten by the call.
    let mut meta: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `path` points at a NUL-terminated string in `buffer`; `meta` is writable.
    if unsafe { libc::stat(path, &mut meta) } != 0 || meta.st_mode & libc::S_IFMT != libc::S_IFREG {
        return None;
    }
    // SAFETY: as for `stat`.
    let fd = unsafe { libc::open(path, libc::O_EVTONLY | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    // SAFETY: `fd` was just opened by this thread and is owned by nothing else; dropping the
    // `OwnedFd` closes it.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: F_GETPATH writes a NUL-terminated path of at most MAXPATHLEN (= PATH_MAX) bytes
    // into the buffer, which is that long.
    if unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETPATH, buffer.as_mut_ptr()) } == -1 {
        return None;
    }
    let len = buffer.iter().position(|&b| b == 0)?;
    let name = bytes_as_path(&buffer[..len]);
    // An `O_EVTONLY` descriptor cannot be read: the file is opened by name to be checked.
    (name.is_absolute() && name.file_name() == given.file_name()).then_some((len, None))
}

/// Elsewhere `realpath` is the only resolution.
#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn by_descriptor(_: &Path, _: &mut [u8; PATH_MAX]) -> Option<(usize, Option<File>)> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn descriptor_resolution_agrees_with_realpath() {
        let dir = std::env::temp_dir().join(format!("plugspec-resolve-{}", std::process::id()));
        let sub = dir.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        let file = sub.join("lib.so");
        std::fs::write(&file, b"x").unwrap();
        let link = dir.join("link.so");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&file, &link).unwrap();
        for given in [
            file.clone(),
            sub.join("..").join("sub").join("lib.so"),
            link.clone(),
        ] {
            let mut buffer = PathBuffer::new();
            let ours = resolve_in(&given, &mut buffer).unwrap();
            assert_eq!(*ours, std::fs::canonicalize(&given).unwrap(), "{given:?}");
        }
        // Gone: not found, although it resolved a moment ago.
        std::fs::remove_file(&file).unwrap();
        let error = resolve(&link).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_regular_file_is_named_by_its_descriptor() {
        let mut buffer = PathBuffer::new();
        let exe = std::env::current_exe().unwrap();
        assert!(matches!(
            resolve_in(&exe, &mut buffer).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn a_forked_child_names_descriptors_in_its_own_table() {
        use std::os::unix::ffi::OsStrExt;
        let exe = std::env::current_exe().unwrap();
        let expected = std::fs::canonicalize(&exe).unwrap();
        let expected = expected.as_os_str().as_bytes();
        // The parent's `/proc/self/fd` is open before the fork.
        let mut buffer = PathBuffer::new();
        resolve_in(&exe, &mut buffer).unwrap();
        let mut pipe = [0; 2];
        // SAFETY: `pipe` has room for the two descriptors.
        assert_eq!(unsafe { libc::pipe(pipe.as_mut_ptr()) }, 0);
        // SAFETY: the child calls only `read`, the resolution (system calls and stack buffers,
        // no allocation on this path) and `_exit`.
        let child = unsafe { libc::fork() };
        assert!(child >= 0);
        if child == 0 {
            let mut byte = 0u8;
            // SAFETY: one byte into `byte`; then the child leaves without unwinding.
            unsafe {
                libc::read(pipe[0], (&raw mut byte).cast(), 1);
                let mut buffer = PathBuffer::new();
                let named = resolve_in(&exe, &mut buffer);
                let same = matches!(&named, Ok(p) if p.as_os_str().as_bytes() == expected);
                libc::_exit(if same { 0 } else { 1 });
            }
        }
        // The parent's lowest free descriptor, which the child's `O_PATH` descriptor would get
        // too: read through the parent's table, the child would be told `/dev/null`.
        let decoy = std::fs::File::open("/dev/null").unwrap();
        let mut status = 0;
        // SAFETY: one byte from a live buffer to the pipe; `status` is writable.
        unsafe {
            libc::write(pipe[1], [1u8].as_ptr().cast(), 1);
            assert_eq!(libc::waitpid(child, &mut status, 0), child);
            libc::close(pipe[0]);
            libc::close(pipe[1]);
        }
        drop(decoy);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{status}"
        );
    }
}
