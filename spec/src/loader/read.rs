//! Reading a plugin's manifest out of its file with a handful of bounded reads, never mapping or
//! running anything (rules `VER-8`, `VER-11`, `ERR-4`).
//!
//! ELF: the file header, the section header table, the section-name table and the manifest
//! section. Mach-O: the header with its load commands, then the manifest section. Each read is
//! checked against the file's length and a cap before anything is allocated, so a crafted header
//! that claims gigabytes costs nothing. The header types and their endian-aware accessors are the
//! `object` crate's.

use std::fs::File;
use std::path::Path;

use object::elf;
use object::macho;
use object::read::elf::{FileHeader, SectionHeader};
use object::read::macho::{MachHeader, Section as _, Segment as _};
use object::{Architecture, Endianness};

use crate::abi;
use crate::error::Error;

/// At most this many bytes of section or load-command table are read (ELF: 65,536 section
/// headers of 64 bytes; Mach-O: far beyond any real `sizeofcmds`).
const MAX_TABLE_LEN: u64 = 4 << 20;

/// The most of an rpath or runpath read to look for `$ORIGIN` (a list of directories).
const MAX_PATH_LIST_LEN: u64 = 64 << 10;

/// What the file says about itself beside the manifest: what the loader checks against the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFile {
    /// The manifest bytes, exactly as stored in the file's plugspec section.
    pub bytes: Vec<u8>,
    /// The machine the object file is built for (`Architecture::Unknown` if `object` has no name
    /// for it).
    pub architecture: Architecture,
    /// Whether the object file is little-endian.
    pub little_endian: bool,
    /// Whether the object file is 64-bit.
    pub is_64: bool,
}

impl ManifestFile {
    /// Decodes the manifest (already validated by [`read_manifest`]): see [`abi::decode`].
    pub fn decode(&self) -> Result<abi::Manifest<'_>, abi::ManifestError> {
        abi::decode(&self.bytes)
    }

    /// Whether the object header disagrees with the target triple the manifest claims: the
    /// machine or the byte order of the file is not the triple's. `None` when they agree or the
    /// triple's architecture is one this check does not know (then nothing is claimed).
    ///
    /// ```
    /// # use plugspec::ManifestFile;
    /// let file = ManifestFile {
    ///     bytes: Vec::new(),
    ///     architecture: object::Architecture::Aarch64,
    ///     little_endian: true,
    ///     is_64: true,
    /// };
    /// assert_eq!(file.target_disagreement("aarch64-unknown-linux-gnu"), None);
    /// assert!(file.target_disagreement("x86_64-unknown-linux-gnu").is_some());
    /// ```
    pub fn target_disagreement(&self, target: &str) -> Option<String> {
        let (architecture, little_endian) = triple_machine(target)?;
        let order = |little: bool| {
            if little {
                "little-endian"
            } else {
                "big-endian"
            }
        };
        (architecture != self.architecture || little_endian != self.little_endian).then(|| {
            format!(
                "the object header says {:?} ({}), but the manifest claims target {target} ({:?}, {})",
                self.architecture,
                order(self.little_endian),
                architecture,
                order(little_endian),
            )
        })
    }
}

/// The machine and byte order a target triple names, from its architecture component (`None`
/// for one this table does not know).
fn triple_machine(target: &str) -> Option<(Architecture, bool)> {
    use Architecture as A;
    let arch = target.split('-').next()?;
    let big = |a| Some((a, false));
    let little = |a| Some((a, true));
    match arch {
        "x86_64" | "x86_64h" => little(A::X86_64),
        "i386" | "i586" | "i686" | "x86" => little(A::I386),
        "aarch64" | "arm64" | "arm64e" => little(A::Aarch64),
        "aarch64_be" => big(A::Aarch64),
        "riscv64" | "riscv64gc" | "riscv64imac" => little(A::Riscv64),
        "powerpc64" => big(A::PowerPc64),
        "powerpc64le" => little(A::PowerPc64),
        "powerpc" => big(A::PowerPc),
        "s390x" => big(A::S390x),
        "loongarch64" => little(A::LoongArch64),
        "mips64" => big(A::Mips64),
        "mips64el" => little(A::Mips64),
        "mips" => big(A::Mips),
        "mipsel" => little(A::Mips),
        "sparc64" => big(A::Sparc64),
        a if a.starts_with("riscv32") => little(A::Riscv32),
        a if a.starts_with("armeb") || a.starts_with("thumbeb") => big(A::Arm),
        a if a.starts_with("arm") || a.starts_with("thumb") => little(A::Arm),
        _ => None,
    }
}

/// Reads and validates a plugin's manifest from the file at `path`, without mapping the file or
/// running any of its code: what a loader checks before it maps anything (`VER-8`, `INIT-9`).
///
/// The reads are bounded (`VER-11`: a manifest section longer than [`abi::MAX_MANIFEST_LEN`]
/// is refused before it is read). Errors are the ones the conformance suite expects from `open`:
/// `not_found` for a path that does not resolve, `not_a_plugin` for anything that is not a
/// shared library (ELF `ET_DYN` or Mach-O `MH_DYLIB`/`MH_BUNDLE`) with a valid plugspec manifest
/// (or is not a regular file), `incompatible_abi` for a manifest of an unknown layout version,
/// `io` when the file cannot be read. The machine and byte order are reported, not judged: see
/// [`ManifestFile::architecture`].
///
/// ```no_run
/// let file = plugspec::read_manifest("plugins/libadder.so".as_ref())?;
/// let manifest = file.decode().expect("validated by read_manifest");
/// println!("{} exports {} symbols", manifest.identity, manifest.symbols.len());
/// # Ok::<(), plugspec::Error>(())
/// ```
pub fn read_manifest(path: &Path) -> Result<ManifestFile, Error> {
    let mut buffer = super::file::PathBuffer::new();
    let (canonical, held) = super::file::resolve_held(path, &mut buffer)?;
    let (file, meta) = super::file::open_regular(path, &canonical, held.as_ref())?;
    let facts = read_file(path, &canonical, &file, meta.len())?.manifest;
    super::decode(path, &facts.bytes)?;
    Ok(facts)
}

/// Reads the manifest bytes and header facts through `file` (already checked to be a regular
/// file, `len` bytes long when it was). Does not decode the manifest.
pub(crate) fn read_file(
    given: &Path,
    canonical: &Path,
    file: &File,
    len: u64,
) -> Result<FileFacts, Error> {
    let r = Reader {
        given,
        canonical,
        file,
        len,
    };
    if len == 0 {
        return Err(r.not_a_plugin(format_args!(
            "{} is empty",
            crate::error::escaped(canonical)
        )));
    }
    let head = r.read(0, 64.min(len), "the file header")?;
    let head = head.bytes();
    if head.starts_with(&elf::ELFMAG) {
        // e_ident[EI_CLASS], the byte after the magic.
        match head.get(4).map(|c| elf::FileClass(*c)) {
            Some(elf::ELFCLASS64) => r.elf::<elf::FileHeader64<Endianness>>(head),
            Some(elf::ELFCLASS32) => r.elf::<elf::FileHeader32<Endianness>>(head),
            _ => Err(r.not_object("unknown ELF class")),
        }
    } else {
        let magic = head.get(..4).map(|m| [m[0], m[1], m[2], m[3]]);
        match magic.map(u32::from_le_bytes) {
            Some(macho::MH_MAGIC_64 | macho::MH_CIGAM_64) => {
                r.macho::<macho::MachHeader64<Endianness>>()
            }
            Some(macho::MH_MAGIC | macho::MH_CIGAM) => r.macho::<macho::MachHeader32<Endianness>>(),
            _ => Err(r.not_object("Unknown file magic")),
        }
    }
}

/// What [`read_file`] learnt from the file: its manifest, and how it asks to be mapped.
pub(crate) struct FileFacts {
    /// The manifest and the object's machine.
    pub(crate) manifest: ManifestFile,
    /// Whether its rpath or runpath (`DT_RPATH`, `DT_RUNPATH`) names `$ORIGIN`, the directory
    /// the dynamic loader maps it from (OPEN-10.b; ELF only). Read with the other headers, so
    /// that mapping needs no second pass over the file.
    pub(crate) names_origin: bool,
}

/// Bytes read from the file into 8-byte-aligned storage, so `object`'s header types can be
/// borrowed from them.
struct Aligned {
    words: Vec<u64>,
    len: usize,
}

impl Aligned {
    fn bytes(&self) -> &[u8] {
        &object::pod::bytes_of_slice(&self.words)[..self.len]
    }
}

struct Reader<'a> {
    given: &'a Path,
    canonical: &'a Path,
    file: &'a File,
    len: u64,
}

impl Reader<'_> {
    fn not_a_plugin(&self, what: impl std::fmt::Display) -> Error {
        Error::not_a_plugin(self.given, what)
    }

    fn not_object(&self, why: impl std::fmt::Display) -> Error {
        self.not_a_plugin(format_args!(
            "{} is not an ELF or Mach-O shared library ({why})",
            crate::error::escaped(self.canonical)
        ))
    }

    /// Reads `len` bytes at `offset`, refusing (before allocating) a range past the end of the
    /// file.
    fn read(&self, offset: u64, len: u64, what: &str) -> Result<Aligned, Error> {
        self.inside(offset, len, what)?;
        // The range lies inside the file, and every caller caps `len` below `MAX_TABLE_LEN` or
        // `MAX_MANIFEST_LEN`, so this allocation is bounded.
        let n = len as usize;
        let mut words = vec![0u64; n.div_ceil(8)];
        self.read_at(
            &mut object::pod::bytes_of_slice_mut(&mut words)[..n],
            offset,
        )?;
        Ok(Aligned { words, len: n })
    }

    /// Refuses a range that lies past the end of the file.
    fn inside(&self, offset: u64, len: u64, what: &str) -> Result<(), Error> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(self.not_a_plugin(format_args!(
                "{} is truncated or corrupt: {what} ({len} bytes at offset {offset}) lies past its end ({} bytes)",
                crate::error::escaped(self.canonical),
                self.len
            ))),
        }
    }

    /// Fills `buf` from `offset`.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> Result<(), Error> {
        read_exact_at(self.file, buf, offset).map_err(|e| {
            Error::io(
                self.given,
                format_args!("cannot read {}: {e}", crate::error::escaped(self.canonical)),
            )
        })
    }

    fn capped(&self, len: u64, cap: u64, what: &str) -> Result<u64, Error> {
        if len > cap {
            return Err(self.not_a_plugin(format_args!(
                "{}: {what} is {len} bytes, more than the {cap} a plugin may have",
                crate::error::escaped(self.canonical)
            )));
        }
        Ok(len)
    }

    fn no_manifest(&self) -> Error {
        self.not_a_plugin(format_args!(
            "{} has no plugspec manifest (no {} section): it was not built with the plugspec SDK",
            crate::error::escaped(self.canonical),
            abi::SECTION_ELF
        ))
    }

    fn manifest(&self, offset: u64, size: u64) -> Result<Vec<u8>, Error> {
        // VER-11: the cap is checked before anything is read or allocated.
        let size = self.capped(size, abi::MAX_MANIFEST_LEN as u64, "its manifest section")?;
        self.inside(offset, size, "the manifest section")?;
        // Read straight into the bytes returned (the decoder needs no alignment).
        let mut bytes = vec![0u8; size as usize];
        self.read_at(&mut bytes, offset)?;
        Ok(bytes)
    }

    fn elf<H: FileHeader<Endian = Endianness>>(&self, head: &[u8]) -> Result<FileFacts, Error> {
        let header = H::parse(head).map_err(|e| self.not_object(e))?;
        let endian = header.endian().map_err(|e| self.not_object(e))?;
        let shown = crate::error::escaped(self.canonical);
        match header.e_type(endian) {
            elf::ET_DYN => {}
            elf::ET_EXEC => {
                return Err(self.not_a_plugin(format_args!(
                    "{shown} is an executable, not a shared library"
                )));
            }
            elf::ET_REL => return Err(self.wrong_kind("Relocatable")),
            elf::ET_CORE => return Err(self.wrong_kind("Core")),
            other => {
                return Err(self.wrong_kind(format_args!(
                    "{:#x} (read {})",
                    other.0,
                    if header.is_little_endian() {
                        "little-endian"
                    } else {
                        "big-endian"
                    }
                )));
            }
        }
        let shoff: u64 = header.e_shoff(endian).into();
        let entsize = std::mem::size_of::<H::SectionHeader>() as u64;
        if shoff == 0 {
            return Err(self.no_manifest());
        }
        if u64::from(header.e_shentsize(endian)) != entsize {
            return Err(self.not_object("Invalid ELF section header entry size"));
        }
        // A table starting past the end is reported as its first entry, whatever the count.
        self.inside(shoff, entsize, "the section header table")?;
        let mut count = u64::from(header.e_shnum(endian));
        // With more than 0xff00 sections (extended numbering) the count is in the first
        // header's sh_size, read first; otherwise the whole table is read at once.
        let first = if count == 0 {
            let first = self.read(shoff, entsize, "the section header table")?;
            count = self.section_headers::<H>(&first, 1)?[0]
                .sh_size(endian)
                .into();
            Some(first)
        } else {
            None
        };
        let table_len = self.capped(
            count.saturating_mul(entsize),
            MAX_TABLE_LEN,
            "its section header table",
        )?;
        let table = self.read(shoff, table_len, "the section header table")?;
        let sections = self.section_headers::<H>(&table, count as usize)?;
        let mut names_index = u32::from(header.e_shstrndx(endian).0);
        if names_index == u32::from(elf::SHN_XINDEX.0) {
            // The index is in the first header's sh_link.
            let first = match &first {
                Some(first) => self.section_headers::<H>(first, 1)?,
                None => &sections[..1],
            };
            names_index = first[0].sh_link(endian);
        }
        let names = sections
            .get(names_index as usize)
            .ok_or_else(|| self.not_object("Invalid ELF e_shstrndx"))?;
        let names_len: u64 = names.sh_size(endian).into();
        let names_len = self.capped(names_len, MAX_TABLE_LEN, "its section name table")?;
        let names = self.read(
            names.sh_offset(endian).into(),
            names_len,
            "the section name table",
        )?;
        let names = names.bytes();
        let wanted = abi::SECTION_ELF.as_bytes();
        let section = sections.iter().find(|s| {
            let at = s.sh_name(endian) as usize;
            names
                .get(at..)
                .and_then(|rest| rest.split(|b| *b == 0).next())
                .is_some_and(|name| name == wanted)
        });
        let Some(section) = section else {
            return Err(self.no_manifest());
        };
        if section.sh_type(endian) == elf::SHT_NOBITS {
            return Err(self.not_a_plugin(format_args!(
                "the {} section of {shown} holds no bytes in the file",
                abi::SECTION_ELF
            )));
        }
        let bytes = self.manifest(
            section.sh_offset(endian).into(),
            section.sh_size(endian).into(),
        )?;
        let is_64 = header.is_type_64();
        Ok(FileFacts {
            manifest: ManifestFile {
                bytes,
                architecture: elf_architecture(header.e_machine(endian), is_64),
                little_endian: header.is_little_endian(),
                is_64,
            },
            names_origin: self.names_origin::<H>(sections, endian),
        })
    }

    /// Whether the rpath or runpath of the dynamic section named by `sections` names `$ORIGIN`
    /// (OPEN-10.b). A dynamic section that cannot be read names nothing: the mapping then fails
    /// or succeeds on its own.
    fn names_origin<H: FileHeader<Endian = Endianness>>(
        &self,
        sections: &[H::SectionHeader],
        endian: Endianness,
    ) -> bool {
        use object::read::elf::Dyn;
        let Some(dynamic) = sections
            .iter()
            .find(|s| s.sh_type(endian) == elf::SHT_DYNAMIC)
        else {
            return false;
        };
        let Some(strings) = sections.get(dynamic.sh_link(endian) as usize) else {
            return false;
        };
        let Ok(len) = self.capped(
            dynamic.sh_size(endian).into(),
            MAX_TABLE_LEN,
            "its dynamic section",
        ) else {
            return false;
        };
        // Whole entries only; a trailing part of one is ignored.
        let entries = len as usize / std::mem::size_of::<H::Dyn>();
        let Ok(data) = self.read(dynamic.sh_offset(endian).into(), len, "the dynamic section")
        else {
            return false;
        };
        let Ok((entries, _)) = object::pod::slice_from_bytes::<H::Dyn>(data.bytes(), entries)
        else {
            return false;
        };
        let (table, table_len): (u64, u64) = (
            strings.sh_offset(endian).into(),
            strings.sh_size(endian).into(),
        );
        entries.iter().any(|entry| {
            let tag = entry.tag(endian);
            let at = entry.val(endian);
            (tag == elf::DT_RPATH || tag == elf::DT_RUNPATH)
                && at < table_len
                && self
                    .read(
                        table + at,
                        (table_len - at).min(MAX_PATH_LIST_LEN),
                        "the rpath",
                    )
                    .is_ok_and(|path| {
                        let path = path.bytes();
                        let path = path.split(|b| *b == 0).next().unwrap_or(path);
                        path.windows(7).any(|w| w == b"$ORIGIN")
                            || path.windows(9).any(|w| w == b"${ORIGIN}")
                    })
        })
    }

    fn section_headers<'d, H: FileHeader>(
        &self,
        data: &'d Aligned,
        count: usize,
    ) -> Result<&'d [H::SectionHeader], Error> {
        // The buffer is 8-byte aligned and exactly `count` headers long (checked by the read),
        // so this cannot fail; it is an error all the same rather than a panic.
        object::pod::slice_from_bytes::<H::SectionHeader>(data.bytes(), count)
            .map(|(headers, _)| headers)
            .map_err(|()| self.not_object("Invalid ELF section header table"))
    }

    fn wrong_kind(&self, kind: impl std::fmt::Display) -> Error {
        self.not_a_plugin(format_args!(
            "{} is an object file of kind {kind}, not a shared library",
            crate::error::escaped(self.canonical)
        ))
    }

    fn macho<H: MachHeader<Endian = Endianness>>(&self) -> Result<FileFacts, Error> {
        let header_len = std::mem::size_of::<H>() as u64;
        let head = self.read(0, header_len, "the Mach-O header")?;
        let header = H::parse(head.bytes(), 0).map_err(|e| self.not_object(e))?;
        let endian = header.endian().map_err(|e| self.not_object(e))?;
        let shown = crate::error::escaped(self.canonical);
        match header.filetype(endian) {
            macho::MH_DYLIB | macho::MH_BUNDLE => {}
            macho::MH_EXECUTE => {
                return Err(self.not_a_plugin(format_args!(
                    "{shown} is an executable, not a shared library"
                )));
            }
            macho::MH_OBJECT => return Err(self.wrong_kind("Relocatable")),
            macho::MH_CORE => return Err(self.wrong_kind("Core")),
            other => return Err(self.wrong_kind(format_args!("{:#x}", other.0))),
        }
        let commands_len = self.capped(
            header.sizeofcmds(endian).into(),
            MAX_TABLE_LEN,
            "its load command table",
        )?;
        let all = self.read(0, header_len + commands_len, "the load command table")?;
        let all = all.bytes();
        let header = H::parse(all, 0).map_err(|e| self.not_object(e))?;
        let mut commands = header
            .load_commands(endian, all, 0)
            .map_err(|e| self.not_object(e))?;
        let mut found = None;
        while let Some(command) = commands.next().map_err(|e| self.not_object(e))? {
            let Some((segment, section_data)) =
                H::Segment::from_command(command).map_err(|e| self.not_object(e))?
            else {
                continue;
            };
            let sections = segment
                .sections(endian, section_data)
                .map_err(|e| self.not_object(e))?;
            if let Some(s) = sections
                .iter()
                .find(|s| s.name() == abi::SECTION_MACHO.as_bytes())
            {
                found = Some((u64::from(s.offset(endian)), s.size(endian).into()));
                break;
            }
        }
        let Some((offset, size)) = found else {
            return Err(self.no_manifest());
        };
        let bytes = self.manifest(offset, size)?;
        let is_64 = header.is_type_64();
        Ok(FileFacts {
            manifest: ManifestFile {
                bytes,
                architecture: macho_architecture(header.cputype(endian)),
                little_endian: header.is_little_endian(),
                is_64,
            },
            names_origin: false,
        })
    }
}

/// `object`'s name for an ELF machine (the subset plugspec's platforms run on).
fn elf_architecture(machine: elf::Machine, is_64: bool) -> Architecture {
    use Architecture as A;
    match (machine, is_64) {
        (elf::EM_X86_64, true) => A::X86_64,
        (elf::EM_X86_64, false) => A::X86_64_X32,
        (elf::EM_386, _) => A::I386,
        (elf::EM_AARCH64, true) => A::Aarch64,
        (elf::EM_AARCH64, false) => A::Aarch64_Ilp32,
        (elf::EM_ARM, _) => A::Arm,
        (elf::EM_RISCV, true) => A::Riscv64,
        (elf::EM_RISCV, false) => A::Riscv32,
        (elf::EM_PPC64, _) => A::PowerPc64,
        (elf::EM_PPC, _) => A::PowerPc,
        (elf::EM_S390, _) => A::S390x,
        (elf::EM_LOONGARCH, true) => A::LoongArch64,
        (elf::EM_MIPS, true) => A::Mips64,
        (elf::EM_MIPS, false) => A::Mips,
        (elf::EM_SPARCV9, _) => A::Sparc64,
        _ => A::Unknown,
    }
}

/// `object`'s name for a Mach-O CPU type.
fn macho_architecture(cpu: macho::CpuType) -> Architecture {
    use Architecture as A;
    match cpu {
        macho::CPU_TYPE_X86_64 => A::X86_64,
        macho::CPU_TYPE_X86 => A::I386,
        macho::CPU_TYPE_ARM64 => A::Aarch64,
        macho::CPU_TYPE_ARM64_32 => A::Aarch64_Ilp32,
        macho::CPU_TYPE_ARM => A::Arm,
        macho::CPU_TYPE_POWERPC64 => A::PowerPc64,
        macho::CPU_TYPE_POWERPC => A::PowerPc,
        _ => A::Unknown,
    }
}

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(not(any(unix, windows)))]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(buf)
}
