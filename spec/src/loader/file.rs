//! Everything the reference loader learns from the file before mapping it (rules `OPEN-*` on
//! resolution, `VER-*` on reading the manifest from the file).
//!
//! The path is resolved (`resolve`: through the kernel's name of a descriptor where it has one,
//! else `realpath`), the file must be a regular file (a FIFO would block the dynamic loader
//! forever), and the manifest is read out of its section (`read`) without mapping or running
//! anything.
//!
//! On Linux the path is walked once: the `O_PATH` descriptor that resolved it is the file every
//! later step sees (its type is checked on it, it is re-opened for reading through
//! `/proc/self/fd`, and `os` maps that same open file), so nothing renamed over the path in the
//! meantime is ever checked, read or mapped (OPEN-8).

use std::fs::{File, Metadata};
use std::path::Path;

use crate::error::Error;

pub(crate) use super::resolve::{PathBuffer, resolve_held};

/// Opens the resolved file for reading without blocking, and checks that it is a regular file.
/// With `held` (the descriptor the path was resolved through, on Linux) that is the file the path
/// named when it was resolved, re-opened through `/proc/self/fd` after its type was checked on
/// the descriptor: nothing is opened by name again, so nothing renamed over the path since can
/// be opened (OPEN-6, OPEN-8). Without it, `canonical` is opened.
///
/// The metadata returned is the one the type was judged on (of the same open file): its length,
/// device and inode serve every later step, which stats nothing again.
pub(crate) fn open_regular(
    given: &Path,
    canonical: &Path,
    held: Option<&File>,
) -> Result<(File, Metadata), Error> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(handle) = held {
        // OPEN-6: the type is judged on the descriptor; an `O_PATH` descriptor opens nothing, so
        // a FIFO or device never blocks or wakes here.
        let meta = handle.metadata().map_err(|e| {
            Error::io(
                given,
                format_args!("cannot stat {}: {e}", crate::error::escaped(canonical)),
            )
        })?;
        check_type(given, canonical, &meta)?;
        let file = reopen(handle).map_err(|e| {
            Error::io(
                given,
                format_args!("cannot open {}: {e}", crate::error::escaped(canonical)),
            )
        })?;
        return Ok((file, meta));
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = held;
    // `stat` first: opening a FIFO for reading blocks until a writer appears.
    let meta = std::fs::metadata(canonical).map_err(|e| Error::not_found(given, e))?;
    check_type(given, canonical, &meta)?;
    let file = open_nonblocking(canonical).map_err(|e| {
        Error::io(
            given,
            format_args!("cannot open {}: {e}", crate::error::escaped(canonical)),
        )
    })?;
    // And again on the opened file, in case the path was swapped in between.
    let meta = file.metadata().map_err(|e| {
        Error::io(
            given,
            format_args!("cannot stat {}: {e}", crate::error::escaped(canonical)),
        )
    })?;
    check_type(given, canonical, &meta)?;
    Ok((file, meta))
}

/// The file `handle` (an `O_PATH` descriptor) refers to, opened for reading without blocking
/// through its `/proc/self/fd` entry: relative to that directory where it is held open (no walk
/// of `/proc/self`, no allocation), else by its full name.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reopen(handle: &File) -> std::io::Result<File> {
    use std::io::Write;
    use std::os::fd::{AsRawFd, FromRawFd};
    let Some(dir) = super::resolve::fd_directory() else {
        return open_nonblocking(Path::new(&format!("/proc/self/fd/{}", handle.as_raw_fd())));
    };
    let mut name = [0u8; 16];
    let mut rest = &mut name[..];
    write!(rest, "{}\0", handle.as_raw_fd())?;
    // SAFETY: `dir` is an open directory descriptor; `name` holds a NUL-terminated string.
    let fd = unsafe {
        libc::openat(
            dir,
            name.as_ptr().cast(),
            libc::O_RDONLY | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened by this thread and is owned by nothing else.
    Ok(unsafe { File::from_raw_fd(fd) })
}

fn check_type(given: &Path, canonical: &Path, meta: &std::fs::Metadata) -> Result<(), Error> {
    if meta.is_file() {
        return Ok(());
    }
    let what = describe_file_type(meta);
    Err(Error::not_a_plugin(
        given,
        format_args!(
            "{} is {what}, not a regular file",
            crate::error::escaped(canonical)
        ),
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
                crate::error::escaped(canonical),
                facts.architecture,
                order(facts.little_endian),
                std::env::consts::ARCH,
                order(host_little),
            ),
        ));
    }
    Ok(())
}
