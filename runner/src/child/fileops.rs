//! The file operations of a case (`copy`, `symlink`, `hardlink`, `delete`, `replace`,
//! `write_text`, `mkdir`, `mkfifo`, `mksocket`, `chmod`, `chown`, `truncate`, `patch`,
//! `alter_manifest`), carried out by
//! the child in the case directory (its working directory).
//!
//! `truncate` and `patch` may count from an ELF section (`section`: its data in the file;
//! `section_header`: its entry in the section header table), found by reading the file's own
//! headers (with `object`), so that a case can cut or corrupt a plugin at the same place whatever the toolchain
//! laid out (ELF only: cases using them run on `linux` and `freebsd`).

use std::path::Path;

use object::Endianness;
use object::read::elf::{FileHeader, SectionHeader};

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
        Op::WriteText { path, text, repeat } => {
            create_parent(path)?;
            std::fs::write(path, text.repeat(repeat.unwrap_or(1) as usize))
                .map_err(ctx(format!("write {path}")))
        }
        Op::Mkdir { path } => std::fs::create_dir_all(path).map_err(ctx(format!("mkdir {path}"))),
        Op::Mkfifo { path } => mkfifo(path),
        Op::Mksocket { path } => mksocket(path),
        Op::Chmod { path, mode } => chmod(path, mode),
        Op::Chown { path, user } => chown(path, user),
        Op::Truncate {
            path,
            len,
            section,
            section_header,
        } => {
            let base = base_offset(path, section, section_header)?;
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .and_then(|f| f.set_len(base + *len))
                .map_err(ctx(format!("truncate {path}")))
        }
        Op::Patch {
            path,
            offset,
            hex,
            section,
            section_header,
        } => {
            let base = base_offset(path, section, section_header)?;
            patch(path, base + *offset, hex)
        }
        Op::AlterManifest { path, item } => alter_manifest(path, item),
        other => Err(format!("`{}` is not a file operation", other.name())),
    }
}

/// The single items `alter_manifest` changes (besides `package <name> name|version|hash`).
pub const MANIFEST_ITEMS: [&str; 8] = [
    "identity",
    "rustc_version",
    "rustc_commit",
    "target",
    "target_features",
    "panic",
    "build_id",
    "abi_version",
];

/// Whether `alter_manifest` knows `item`.
pub fn is_manifest_item(item: &str) -> bool {
    if MANIFEST_ITEMS.contains(&item) {
        return true;
    }
    let words: Vec<&str> = item.split(' ').collect();
    matches!(words.as_slice(), ["package", name, "name" | "version" | "hash"] if !name.is_empty())
}

/// Changes one item of the manifest in the file at `path` in place (see
/// [`Op::AlterManifest`]). The manifest is found by reading it the way a loader does
/// ([`plugspec::ReferenceLoader::inspect`]) and then locating those exact bytes in the file, so
/// this works for every object format the loader reads.
fn alter_manifest(path: &str, item: &str) -> Result<(), String> {
    let fail = |what: String| format!("alter_manifest {path} {item}: {what}");
    let manifest =
        plugspec::ReferenceLoader::inspect(Path::new(path)).map_err(|e| fail(e.to_string()))?;
    let mut file = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let mut at = file
        .windows(manifest.len())
        .enumerate()
        .filter(|(_, w)| *w == manifest.as_slice())
        .map(|(i, _)| i);
    let start = match (at.next(), at.next()) {
        (Some(i), None) => i,
        (None, _) => return Err(fail("the manifest's bytes are not in the file".into())),
        (Some(_), Some(_)) => return Err(fail("the manifest's bytes occur twice".into())),
    };
    let decoded = plugspec::abi::decode(&manifest).map_err(|e| fail(e.to_string()))?;
    if item == "abi_version" {
        // The manifest ABI version: the little-endian u32 after the 8-byte magic.
        let at = start + 8;
        let raw: [u8; 4] = file[at..at + 4].try_into().expect("four bytes");
        let next = u32::from_le_bytes(raw).wrapping_add(1);
        file[at..at + 4].copy_from_slice(&next.to_le_bytes());
    } else {
        let build = &decoded.fingerprint.build;
        let package = |name: &str| {
            decoded
                .fingerprint
                .packages
                .iter()
                .find(|p| p.name == name)
                .ok_or_else(|| fail(format!("the manifest declares no package {name}")))
        };
        let words: Vec<&str> = item.split(' ').collect();
        let value: &str = match words.as_slice() {
            ["identity"] => decoded.identity,
            ["rustc_version"] => build.rustc_version,
            ["rustc_commit"] => build.rustc_commit,
            ["target"] => build.target,
            ["target_features"] => build.target_features,
            ["panic"] => build.panic,
            ["build_id"] => decoded.fingerprint.build_id.unwrap_or(""),
            ["package", name, "name"] => package(name)?.name,
            ["package", name, "version"] => package(name)?.version,
            ["package", name, "hash"] => package(name)?.hash,
            _ => return Err(fail("not a manifest item".into())),
        };
        let last = value
            .len()
            .checked_sub(1)
            .ok_or_else(|| fail("the item is empty: there is no character to change".into()))?;
        // `value` borrows from `manifest`: its offset there is its offset in the section.
        let offset = value.as_ptr() as usize - manifest.as_ptr() as usize + last;
        let byte = &mut file[start + offset];
        *byte = next_char(*byte).ok_or_else(|| fail("its last character is not ASCII".into()))?;
    }
    std::fs::write(path, &file).map_err(|e| fail(e.to_string()))
}

/// The character `alter_manifest` puts in place of `c`: another one of the same class.
fn next_char(c: u8) -> Option<u8> {
    Some(match c {
        b'0'..=b'8' | b'a'..=b'e' | b'g'..=b'y' | b'A'..=b'E' | b'G'..=b'Y' => c + 1,
        b'9' => b'0',
        b'f' => b'a',
        b'F' => b'A',
        b'z' => b'g',
        b'Z' => b'G',
        0x80.. => return None,
        _ => b'x',
    })
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

/// Where `truncate` and `patch` count from: the start of the file, or of an ELF section's data
/// or section header entry.
fn base_offset(
    path: &str,
    section: &Option<String>,
    section_header: &Option<String>,
) -> Result<u64, String> {
    match (section, section_header) {
        (None, None) => Ok(0),
        (Some(name), _) => elf_section(path, name).map(|s| s.data),
        (None, Some(name)) => elf_section(path, name).map(|s| s.header),
    }
}

/// Where an ELF section sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct SectionPlace {
    /// File offset of the section's entry in the section header table.
    header: u64,
    /// File offset of the section's data (`sh_offset`).
    data: u64,
}

/// Finds the section `name` of the ELF file at `path` (32 or 64 bits, either byte order).
fn elf_section(path: &str, name: &str) -> Result<SectionPlace, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("read {path}: {e}"))?;
    find_section(&bytes, name).ok_or_else(|| format!("{path}: no ELF section {name} found"))
}

fn find_section(b: &[u8], name: &str) -> Option<SectionPlace> {
    use object::elf::{ELFCLASS32, ELFCLASS64, ELFMAG, FileClass, FileHeader32, FileHeader64};
    if b.get(..4)? != ELFMAG {
        return None;
    }
    match FileClass(*b.get(4)?) {
        ELFCLASS64 => section_place::<FileHeader64<Endianness>>(b, name),
        ELFCLASS32 => section_place::<FileHeader32<Endianness>>(b, name),
        _ => None,
    }
}

/// The section `name` of an ELF file of one class (`object` reads the headers, either byte
/// order): its entry's offset in the section header table and its data's offset.
fn section_place<H: FileHeader<Endian = Endianness>>(b: &[u8], name: &str) -> Option<SectionPlace> {
    let header = H::parse(b).ok()?;
    let endian = header.endian().ok()?;
    let sections = header.sections(endian, b).ok()?;
    let (index, section) = sections.section_by_name(endian, name.as_bytes())?;
    let entry = header
        .e_shoff(endian)
        .into()
        .checked_add(u64::from(header.e_shentsize(endian)).checked_mul(index.0 as u64)?)?;
    Some(SectionPlace {
        header: entry,
        data: section.sh_offset(endian).into(),
    })
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
fn mksocket(path: &str) -> Result<(), String> {
    let listener = std::os::unix::net::UnixListener::bind(path)
        .map_err(|e| format!("mksocket {path}: {e}"))?;
    // Keep it listening for the rest of the child, as a live service's socket would be.
    std::mem::forget(listener);
    Ok(())
}

#[cfg(not(unix))]
fn mksocket(path: &str) -> Result<(), String> {
    Err(format!(
        "mksocket {path}: Unix domain sockets need a Unix platform"
    ))
}

#[cfg(unix)]
fn chmod(path: &str, mode: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = u32::from_str_radix(mode, 8).map_err(|e| format!("chmod {path}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {path}: {e}"))
}

#[cfg(unix)]
fn chown(path: &str, user: &str) -> Result<(), String> {
    let name = std::ffi::CString::new(user).map_err(|e| format!("chown {path}: {e}"))?;
    // SAFETY: `name` is NUL-terminated; the record (or null) is read at once, on the child's
    // only thread that asks for passwd entries.
    let (uid, gid) = unsafe { libc::getpwnam(name.as_ptr()).as_ref() }
        .map(|pw| (pw.pw_uid, pw.pw_gid))
        .ok_or_else(|| format!("chown {path}: no user {user:?}"))?;
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .map_err(|e| format!("chown {path} to {user} ({uid}:{gid}): {e}"))
}

#[cfg(not(unix))]
fn chown(path: &str, _: &str) -> Result<(), String> {
    Err(format!("chown {path}: needs a Unix platform"))
}

#[cfg(not(unix))]
fn chmod(path: &str, _: &str) -> Result<(), String> {
    Err(format!("chmod {path}: needs a Unix platform"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alter_manifest_changes_one_character_within_its_class() {
        for (from, to) in [
            (b'0', b'1'),
            (b'9', b'0'),
            (b'e', b'f'),
            (b'f', b'a'),
            (b'd', b'e'),
            (b'u', b'v'),
            (b'z', b'g'),
            (b'Z', b'G'),
            (b'-', b'x'),
        ] {
            assert_eq!(next_char(from), Some(to), "{}", from as char);
        }
        assert_eq!(next_char(0xc3), None);
        for c in 0u8..0x80 {
            assert_ne!(next_char(c), Some(c));
            if c.is_ascii_hexdigit() {
                assert!(next_char(c).unwrap().is_ascii_hexdigit());
            }
        }
        assert!(is_manifest_item("rustc_commit"));
        assert!(is_manifest_item("package fixture-common hash"));
        assert!(!is_manifest_item("package  hash"));
        assert!(!is_manifest_item("package plugspec size"));
        assert!(!is_manifest_item("toolchain"));
    }

    /// A little-endian ELF64 header plus two section headers (null, `.shstrtab`) and a third,
    /// `.plugspec`, whose data sits at 0x1234.
    fn tiny_elf64() -> Vec<u8> {
        let names = b"\0.shstrtab\0.plugspec\0\0\0\0";
        let shoff = 64 + names.len() as u64;
        let mut b = vec![0u8; 64];
        b[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        b[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        b[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        b[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        b[0x3e..0x40].copy_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(names);
        // (sh_name, sh_type, sh_offset, sh_size): null, .shstrtab (SHT_STRTAB), .plugspec.
        for (name, kind, offset, size) in [
            (0u32, 0u32, 0u64, 0u64),
            (1, 3, 64, names.len() as u64),
            (11, 1, 0x1234, 0),
        ] {
            let mut h = vec![0u8; 64];
            h[..4].copy_from_slice(&name.to_le_bytes());
            h[4..8].copy_from_slice(&kind.to_le_bytes());
            h[24..32].copy_from_slice(&offset.to_le_bytes());
            h[32..40].copy_from_slice(&size.to_le_bytes());
            b.extend_from_slice(&h);
        }
        b
    }

    #[test]
    fn finds_a_section_by_name() {
        let b = tiny_elf64();
        let shoff = 64 + 24; // the ELF header, then the section names (21 bytes, padded to 24)
        assert_eq!(
            find_section(&b, ".plugspec"),
            Some(SectionPlace {
                header: shoff + 2 * 64,
                data: 0x1234
            })
        );
        assert_eq!(find_section(&b, ".shstrtab").map(|s| s.data), Some(64));
        assert_eq!(find_section(&b, ".text"), None);
        assert_eq!(find_section(&b[..70], ".plugspec"), None);
        let mut big_endian = b.clone();
        big_endian[5] = 2;
        assert_eq!(find_section(&big_endian, ".plugspec"), None);
        assert_eq!(find_section(b"not an ELF file", ".plugspec"), None);
    }
}
