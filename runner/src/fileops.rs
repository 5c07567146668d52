//! The file operations of a case (`copy`, `symlink`, `hardlink`, `delete`, `replace`,
//! `write_text`, `mkdir`, `mkfifo`, `chmod`), carried out by the child in the case directory
//! (its working directory).

use std::path::Path;

use crate::case::Op;

/// Carries out one file operation; an error names the operation and the OS error.
pub fn apply(op: &Op) -> Result<(), String> {
    let ctx = |what: String| move |e: std::io::Error| format!("{what}: {e}");
    match op {
        Op::Copy { from, to } => {
            create_parent(to)?;
            std::fs::copy(from, to)
                .map(|_| ())
                .map_err(ctx(format!("copy {from} to {to}")))
        }
        Op::Symlink { target, link } => {
            create_parent(link)?;
            symlink(target, link).map_err(ctx(format!("symlink {link} -> {target}")))
        }
        Op::Hardlink { from, to } => {
            create_parent(to)?;
            std::fs::hard_link(from, to).map_err(ctx(format!("hard link {to} to {from}")))
        }
        Op::Delete { path } => {
            let p = Path::new(path);
            if p.is_dir() && !p.is_symlink() {
                std::fs::remove_dir(p)
            } else {
                std::fs::remove_file(p)
            }
            .map_err(ctx(format!("delete {path}")))
        }
        Op::Replace { path, with } => {
            // A new file (new inode) renamed over the old one, as a linker or installer does.
            let tmp = format!("{path}.plugspec-replace");
            std::fs::copy(with, &tmp).map_err(ctx(format!("copy {with} to {tmp}")))?;
            std::fs::rename(&tmp, path).map_err(ctx(format!("rename {tmp} to {path}")))
        }
        Op::WriteText { path, text } => {
            create_parent(path)?;
            std::fs::write(path, text).map_err(ctx(format!("write {path}")))
        }
        Op::Mkdir { path } => std::fs::create_dir_all(path).map_err(ctx(format!("mkdir {path}"))),
        Op::Mkfifo { path } => mkfifo(path),
        Op::Chmod { path, mode } => chmod(path, mode),
        Op::Truncate { path, len } => std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(*len))
            .map_err(ctx(format!("truncate {path}"))),
        Op::Patch { path, offset, hex } => patch(path, *offset, hex),
        other => Err(format!("`{}` is not a file operation", other.name())),
    }
}

fn patch(path: &str, offset: u64, hex: &str) -> Result<(), String> {
    use std::io::{Seek, SeekFrom, Write};
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("zz"), 16))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("patch {path}: {hex:?}: {e}"))?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("patch {path}: {e}"))?;
    file.seek(SeekFrom::Start(offset))
        .and_then(|_| file.write_all(&bytes))
        .map_err(|e| format!("patch {path}: {e}"))
}

fn create_parent(path: &str) -> Result<(), String> {
    match Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            std::fs::create_dir_all(parent).map_err(|e| format!("mkdir {}: {e}", parent.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn symlink(target: &str, link: &str) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_: &str, _: &str) -> std::io::Result<()> {
    Err(std::io::Error::other("symlinks need a Unix platform"))
}

#[cfg(unix)]
fn mkfifo(path: &str) -> Result<(), String> {
    let c = std::ffi::CString::new(path).map_err(|e| format!("mkfifo {path}: {e}"))?;
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o644) } != 0 {
        return Err(format!(
            "mkfifo {path}: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn mkfifo(path: &str) -> Result<(), String> {
    Err(format!("mkfifo {path}: FIFOs need a Unix platform"))
}

#[cfg(unix)]
fn chmod(path: &str, mode: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = u32::from_str_radix(mode, 8).map_err(|e| format!("chmod {path}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {path}: {e}"))
}

#[cfg(not(unix))]
fn chmod(path: &str, _: &str) -> Result<(), String> {
    Err(format!("chmod {path}: needs a Unix platform"))
}
