//! Everything the reference loader learns from the file before mapping it (rules `OPEN-*` on
//! resolution, `VER-*` on reading the manifest from the file).
//!
//! The path is resolved (through `/proc/self/fd` on Linux, else `realpath`), the file must be a
//! regular file (a FIFO would block the dynamic loader forever), and the manifest is read out of
//! its section (`read`)
//! without mapping or running anything.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::Error;

/// Resolves `given` to a canonical absolute path: the cache key.
pub(crate) fn resolve(given: &Path) -> Result<PathBuf, Error> {
    let raw = given.as_os_str().as_encoded_bytes();
    if raw.is_empty() {
        return Err(Error::not_found(given, "the path is empty"));
    }
    if raw.contains(&0) {
        return Err(Error::not_found(given, "the path contains a NUL byte"));
    }
    #[cfg(unix)]
    if raw.len() >= libc::PATH_MAX as usize {
        // glibc's realpath resolves one component at a time and would accept it; the kernel's
        // own `open` refuses it, and so does plugspec (rule ERR kinds: too long is not found).
        return Err(Error::not_found(
            given,
            format_args!(
                "the path is {} bytes, longer than PATH_MAX ({})",
                raw.len(),
                libc::PATH_MAX - 1
            ),
        ));
    }
    // OPEN-1: resolved on every open, loaded or not (a deleted file is not found even when a
    // plugin from that path is loaded).
    match by_descriptor(given) {
        Some(canonical) => Ok(canonical),
        None => std::fs::canonicalize(given).map_err(|e| Error::not_found(given, e)),
    }
}

/// The canonical path of `given` on Linux without `realpath`'s one `readlink` per component:
/// open the path itself with `O_PATH` (one path walk; nothing is read, a FIFO does not block)
/// and read the kernel's name of the descriptor back from `/proc/self/fd`. Three system calls
/// whatever the depth. `None` whenever that gives no plain answer — the open fails (then
/// `realpath` reports the error, exactly as without this), `/proc` is not mounted, or the name
/// is not an absolute path of a file that exists (the kernel's `" (deleted)"` and
/// `"(unreachable)"` forms) — and the caller falls back to `realpath`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn by_descriptor(given: &Path) -> Option<PathBuf> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(given)
        .ok()?;
    let name = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()?;
    let bytes = name.as_os_str().as_bytes();
    (bytes.first() == Some(&b'/') && !bytes.ends_with(b" (deleted)")).then_some(name)
}

/// Elsewhere `realpath` is the only resolution.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn by_descriptor(_: &Path) -> Option<PathBuf> {
    None
}

/// Opens `canonical` for reading without blocking, and checks that it is a regular file.
pub(crate) fn open_regular(given: &Path, canonical: &Path) -> Result<File, Error> {
    // `stat` first: opening a FIFO for reading blocks until a writer appears.
    let meta = std::fs::metadata(canonical).map_err(|e| Error::not_found(given, e))?;
    check_type(given, canonical, &meta)?;
    let file = open_nonblocking(canonical).map_err(|e| {
        Error::io(
            given,
            format_args!("cannot open {}: {e}", canonical.display()),
        )
    })?;
    // And again on the opened file, in case the path was swapped in between.
    let meta = file.metadata().map_err(|e| {
        Error::io(
            given,
            format_args!("cannot stat {}: {e}", canonical.display()),
        )
    })?;
    check_type(given, canonical, &meta)?;
    Ok(file)
}

fn check_type(given: &Path, canonical: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    if meta.is_file() {
        return Ok(());
    }
    let what = describe_file_type(meta);
    Err(Error::not_a_plugin(
        given,
        format_args!("{} is {what}, not a regular file", canonical.display()),
    ))
}

#[cfg(unix)]
fn describe_file_type(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn describe_file_type(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<File> {
    File::open(path)
}

/// The machine this process runs on, as the `object` crate names it (`None` where it has no
/// name for it: then the check is skipped).
fn host_architecture() -> Option<object::Architecture> {
    use object::Architecture as A;
    Some(match std::env::consts::ARCH {
        "x86_64" => A::X86_64,
        "x86" => A::I386,
        "aarch64" => A::Aarch64,
        "arm" => A::Arm,
        "riscv64" => A::Riscv64,
        "riscv32" => A::Riscv32,
        "powerpc64" => A::PowerPc64,
        "powerpc" => A::PowerPc,
        "s390x" => A::S390x,
        "loongarch64" => A::LoongArch64,
        "mips" => A::Mips,
        "mips64" => A::Mips64,
        "sparc64" => A::Sparc64,
        _ => return None,
    })
}

/// Refuses a file whose object header names another machine or byte order than this process,
/// before the dynamic loader sees it (its manifest claimed this host's target, or the
/// fingerprint check would have named the target already).
pub(crate) fn check_machine(
    given: &Path,
    canonical: &Path,
    facts: &super::read::ManifestFile,
) -> Result<(), Error> {
    let host_little = cfg!(target_endian = "little");
    let machine_differs = host_architecture().is_some_and(|host| host != facts.architecture);
    if machine_differs || facts.little_endian != host_little {
        let order = |little: bool| {
            if little {
                "little-endian"
            } else {
                "big-endian"
            }
        };
        return Err(Error::not_a_plugin(
            given,
            format_args!(
                "{} is built for {:?} ({}), but this process runs on {} ({}) and its manifest claims this host's target",
                canonical.display(),
                facts.architecture,
                order(facts.little_endian),
                std::env::consts::ARCH,
                order(host_little),
            ),
        ));
    }
    Ok(())
}
