//! The plugin ABI: the manifest's byte layout, the descriptor under the well-known symbol, and the
//! init and host-callback entries (rules `VER-*`, `INIT-*`).
//!
//! A plugin built with the SDK ([`plugin!`](crate::plugin)) contains:
//!
//! * **the manifest**: pointer-free bytes in the section [`SECTION_ELF`] (`.plugspec`) or
//!   [`SECTION_MACHO`] (`__DATA,__plugspec`), so that a loader can read identity, fingerprint and
//!   symbol table from the file *before mapping it*;
//! * **the descriptor** ([`PluginDescriptor`]) under the one well-known symbol
//!   [`DESCRIPTOR_SYMBOL`]: magic, ABI version, a pointer to the same manifest bytes, the export
//!   table (one address per manifest symbol, in order) and the init entry.
//!
//! ## Manifest layout, version 1 (all integers little-endian)
//!
//! | field | encoding |
//! |---|---|
//! | magic | 8 bytes `PLUGSPEC` |
//! | ABI version | u32 |
//! | total length | u32, of the whole manifest including this header |
//! | flags | u32: bit 0 = has init, bit 1 = declares an API version |
//! | API version | u32 (0 when bit 1 is clear) |
//! | identity, rustc version, rustc commit, target, target features, panic strategy, build ID | each a string: u32 length + UTF-8 bytes (build ID empty = none) |
//! | packages | u32 count, then per package: name, version, hash (strings) |
//! | symbols | u32 count, then per symbol: u8 kind (1 function, 2 variable), u8 storage (0 code, 1 `static mut`, 2 interior-mutable), name, Rust type (strings), u32 size, u32 align |
//!
//! [`decode`] validates every byte of that: it never panics and never reads out of bounds, and
//! says what is wrong and at which offset.

use std::collections::HashSet;
use std::fmt;

use crate::contract::SymbolKind;
use crate::fingerprint::{BuildInfo, Fingerprint, PLUGSPEC_PACKAGE, Package, PackageRecord};

/// The first eight bytes of every manifest and descriptor.
pub const MAGIC: [u8; 8] = *b"PLUGSPEC";
/// The manifest and descriptor layout this crate writes and reads.
pub const ABI_VERSION: u32 = 1;
/// The one well-known symbol: the [`PluginDescriptor`].
pub const DESCRIPTOR_SYMBOL: &str = "PLUGSPEC_PLUGIN";
/// The manifest's section in ELF files.
pub const SECTION_ELF: &str = ".plugspec";
/// The manifest's section in Mach-O files (segment `__DATA`).
pub const SECTION_MACHO: &str = "__plugspec";
/// The longest manifest a loader reads (rule `VER-11`): 4 MiB, room for some 50,000 exports. A
/// plugin whose manifest section is longer is refused as not a plugin before the section is read.
pub const MAX_MANIFEST_LEN: usize = 4 << 20;
/// The fixed header: magic, version, length, flags, API version.
pub const HEADER_LEN: usize = 24;
/// The longest identity a manifest may declare, in bytes (rule OPEN-9).
pub const MAX_IDENTITY_LEN: usize = 255;

/// Why `identity` is not a valid plugin identity (rule OPEN-9), or `None` when it is one: 1 to
/// [`MAX_IDENTITY_LEN`] bytes of UTF-8 without control characters.
pub const fn identity_problem(identity: &str) -> Option<&'static str> {
    if identity.is_empty() {
        return Some("the identity is empty");
    }
    if identity.len() > MAX_IDENTITY_LEN {
        return Some("the identity is longer than 255 bytes");
    }
    let bytes = identity.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // C0 controls and DEL; the C1 controls are U+0080..U+009F, encoded 0xC2 0x80..0x9F.
        if bytes[i] < 0x20
            || bytes[i] == 0x7f
            || (bytes[i] == 0xc2
                && i + 1 < bytes.len()
                && bytes[i + 1] >= 0x80
                && bytes[i + 1] <= 0x9f)
        {
            return Some("the identity contains a control character");
        }
        i += 1;
    }
    None
}
/// The most bytes of message an init or host-open outcome carries.
pub const MESSAGE_CAPACITY: usize = 1024;

const FLAG_HAS_INIT: u32 = 1;
const FLAG_HAS_API_VERSION: u32 = 2;

/// How an exported variable's storage is writable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// A function: code, not storage.
    Code,
    /// A `static mut`.
    StaticMut,
    /// A `static` of an interior-mutable type (atomics, cells, locks).
    InteriorMutable,
}

/// One exported symbol as the SDK declares it (the const input of [`ManifestSpec::encode`]).
#[derive(Debug, Clone, Copy)]
pub struct SymbolSpec {
    /// Function or variable.
    pub kind: SymbolKind,
    /// How a variable is writable.
    pub storage: Storage,
    /// The exported name.
    pub name: &'static str,
    /// The Rust type as written.
    pub rust_type: &'static str,
    /// `size_of` the variable's type (pointer size for functions).
    pub size: usize,
    /// `align_of` the variable's type (pointer alignment for functions).
    pub align: usize,
}

/// Everything a manifest says, as const data the SDK macro fills in; `plugspec` itself is added
/// as the first package by the encoder.
#[derive(Debug, Clone, Copy)]
pub struct ManifestSpec {
    /// The plugin's identity (Go: the plugin path). Two files with one identity cannot both load.
    pub identity: &'static str,
    /// The plugin's build (by default [`THIS_BUILD`](crate::fingerprint::THIS_BUILD)).
    pub build: BuildInfo<'static>,
    /// The declared API version, if any.
    pub api_version: Option<u32>,
    /// The declared build ID, if any.
    pub build_id: Option<&'static str>,
    /// Shared packages besides `plugspec`.
    pub packages: &'static [Package],
    /// Exported symbols, in export-table order.
    pub symbols: &'static [SymbolSpec],
    /// Whether the descriptor has an init entry.
    pub has_init: bool,
}

struct Writer<const N: usize> {
    out: [u8; N],
    at: usize,
}

impl<const N: usize> Writer<N> {
    const fn bytes(&mut self, b: &[u8]) {
        let mut i = 0;
        while i < b.len() {
            self.out[self.at] = b[i];
            self.at += 1;
            i += 1;
        }
    }
    const fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    const fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.bytes(s.as_bytes());
    }
}

const fn str_len(s: &str) -> usize {
    4 + s.len()
}

const fn package_len(p: &Package) -> usize {
    str_len(p.name) + str_len(p.version) + str_len(p.hash)
}

impl ManifestSpec {
    /// The number of bytes [`ManifestSpec::encode`] writes.
    pub const fn encoded_len(&self) -> usize {
        let b = &self.build;
        let mut n = HEADER_LEN
            + str_len(self.identity)
            + str_len(b.rustc_version)
            + str_len(b.rustc_commit)
            + str_len(b.target)
            + str_len(b.target_features)
            + str_len(b.panic);
        n += match self.build_id {
            Some(id) => str_len(id),
            None => 4,
        };
        n += 4 + package_len(&PLUGSPEC_PACKAGE);
        let mut i = 0;
        while i < self.packages.len() {
            n += package_len(&self.packages[i]);
            i += 1;
        }
        n += 4;
        let mut i = 0;
        while i < self.symbols.len() {
            let s = &self.symbols[i];
            n += 2 + str_len(s.name) + str_len(s.rust_type) + 8;
            i += 1;
        }
        n
    }

    /// The manifest bytes. `N` must be [`ManifestSpec::encoded_len`] (the SDK macro does this).
    pub const fn encode<const N: usize>(&self) -> [u8; N] {
        assert!(N == self.encoded_len(), "N must be encoded_len()");
        let mut w = Writer { out: [0; N], at: 0 };
        w.bytes(&MAGIC);
        w.u32(ABI_VERSION);
        w.u32(N as u32);
        let mut flags = 0;
        if self.has_init {
            flags |= FLAG_HAS_INIT;
        }
        if self.api_version.is_some() {
            flags |= FLAG_HAS_API_VERSION;
        }
        w.u32(flags);
        w.u32(match self.api_version {
            Some(v) => v,
            None => 0,
        });
        w.str(self.identity);
        w.str(self.build.rustc_version);
        w.str(self.build.rustc_commit);
        w.str(self.build.target);
        w.str(self.build.target_features);
        w.str(self.build.panic);
        w.str(match self.build_id {
            Some(id) => id,
            None => "",
        });
        w.u32(1 + self.packages.len() as u32);
        w.str(PLUGSPEC_PACKAGE.name);
        w.str(PLUGSPEC_PACKAGE.version);
        w.str(PLUGSPEC_PACKAGE.hash);
        let mut i = 0;
        while i < self.packages.len() {
            let p = &self.packages[i];
            w.str(p.name);
            w.str(p.version);
            w.str(p.hash);
            i += 1;
        }
        w.u32(self.symbols.len() as u32);
        let mut i = 0;
        while i < self.symbols.len() {
            let s = &self.symbols[i];
            w.bytes(&[
                match s.kind {
                    SymbolKind::Function => 1,
                    SymbolKind::Variable => 2,
                },
                match s.storage {
                    Storage::Code => 0,
                    Storage::StaticMut => 1,
                    Storage::InteriorMutable => 2,
                },
            ]);
            w.str(s.name);
            w.str(s.rust_type);
            w.u32(s.size as u32);
            w.u32(s.align as u32);
            i += 1;
        }
        assert!(w.at == N, "encoded length mismatch");
        w.out
    }
}

/// One symbol as decoded from a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolRecord<'a> {
    /// Function or variable.
    pub kind: SymbolKind,
    /// How a variable is writable.
    pub storage: Storage,
    /// The exported name.
    pub name: &'a str,
    /// The Rust type as written.
    pub rust_type: &'a str,
    /// Size in bytes.
    pub size: u32,
    /// Alignment in bytes.
    pub align: u32,
}

/// A decoded, validated manifest borrowing from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest<'a> {
    /// The plugin's identity.
    pub identity: &'a str,
    /// The build fingerprint.
    pub fingerprint: Fingerprint<'a>,
    /// The exported symbols, in export-table order.
    pub symbols: Vec<SymbolRecord<'a>>,
    /// Whether the plugin has an init entry.
    pub has_init: bool,
}

/// Why manifest bytes were rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// The bytes do not start with [`MAGIC`] (this is not a plugspec manifest at all).
    BadMagic,
    /// A plugspec manifest of a layout version this crate does not read.
    UnknownVersion(u32),
    /// The bytes are a version-1 manifest but invalid: what is wrong, at which byte offset.
    Corrupt {
        /// Byte offset into the manifest where decoding failed.
        offset: usize,
        /// What is wrong.
        what: String,
    },
}

impl fmt::Display for Manifest<'_> {
    /// A human-readable description: identity, fingerprint, shared packages and exports (what
    /// `plugspec inspect` prints).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fp = &self.fingerprint;
        let b = &fp.build;
        writeln!(f, "identity:        {}", self.identity)?;
        writeln!(f, "manifest ABI:    {ABI_VERSION}")?;
        writeln!(
            f,
            "toolchain:       rustc {} ({})",
            b.rustc_version, b.rustc_commit
        )?;
        writeln!(f, "target:          {}", b.target)?;
        let features = if b.target_features.is_empty() {
            "(none)"
        } else {
            b.target_features
        };
        writeln!(f, "target features: {features}")?;
        writeln!(f, "panic strategy:  {}", b.panic)?;
        match fp.api_version {
            Some(v) => writeln!(f, "api version:     {v}")?,
            None => writeln!(f, "api version:     (none)")?,
        }
        writeln!(f, "build id:        {}", fp.build_id.unwrap_or("(none)"))?;
        writeln!(
            f,
            "init:            {}",
            if self.has_init { "yes" } else { "no" }
        )?;
        writeln!(f, "shared packages:")?;
        for p in &fp.packages {
            write!(
                f,
                "  {} {} #{}",
                p.name,
                p.version,
                crate::fingerprint::record_source_hash(p.hash)
            )?;
            match crate::fingerprint::record_settings(p.hash) {
                "" => writeln!(f)?,
                settings => writeln!(f, " {settings}")?,
            }
        }
        writeln!(f, "exports:")?;
        if self.symbols.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for s in &self.symbols {
            let storage = match s.storage {
                Storage::Code => String::new(),
                Storage::StaticMut => ", static mut".to_string(),
                Storage::InteriorMutable => ", interior-mutable static".to_string(),
            };
            writeln!(
                f,
                "  {} {}: {} (size {}, align {}{storage})",
                s.kind, s.name, s.rust_type, s.size, s.align
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestError::BadMagic => f.write_str("the manifest does not start with PLUGSPEC"),
            ManifestError::UnknownVersion(v) => write!(f, "unknown manifest ABI version {v}"),
            ManifestError::Corrupt { offset, what } => {
                write!(f, "corrupt manifest at byte {offset}: {what}")
            }
        }
    }
}

impl std::error::Error for ManifestError {}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn corrupt(&self, what: impl Into<String>) -> ManifestError {
        ManifestError::Corrupt {
            offset: self.at,
            what: what.into(),
        }
    }

    // The readers below run once or twice per record (tens of thousands of times for a large
    // plugin): they are inlined, and their errors are built out of line.
    #[inline]
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ManifestError> {
        match self.at.checked_add(n) {
            Some(end) if end <= self.bytes.len() => {
                let slice = &self.bytes[self.at..end];
                self.at = end;
                Ok(slice)
            }
            _ => Err(self.short(n, what)),
        }
    }

    #[cold]
    #[inline(never)]
    fn short(&self, n: usize, what: &str) -> ManifestError {
        self.corrupt(format!(
            "{what}: needs {n} bytes, {} left",
            self.bytes.len() - self.at
        ))
    }

    #[inline]
    fn u8(&mut self, what: &str) -> Result<u8, ManifestError> {
        Ok(self.take(1, what)?[0])
    }

    #[inline]
    fn u32(&mut self, what: &str) -> Result<u32, ManifestError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline]
    fn str(&mut self, what: &str) -> Result<&'a str, ManifestError> {
        let start = self.at;
        let len = self.u32(what)? as usize;
        let bytes = self.take(len, what)?;
        utf8(bytes).map_err(|e| ManifestError::Corrupt {
            offset: start + 4 + e.valid_up_to(),
            what: format!("{what} is not UTF-8"),
        })
    }

    fn count(&mut self, what: &str, min_record: usize) -> Result<usize, ManifestError> {
        let n = self.u32(what)? as usize;
        let left = self.bytes.len() - self.at;
        if n.saturating_mul(min_record) > left {
            return Err(ManifestError::Corrupt {
                offset: self.at - 4,
                what: format!("{what} {n} cannot fit in the {left} bytes left"),
            });
        }
        Ok(n)
    }
}

/// The names seen so far, to refuse a duplicate (VER-7) in linear time.
///
/// A few names (most plugins' packages and exports) are compared in place, without allocating
/// or seeding a hasher; more go into a hash set keyed per process (std's SipHash), because the
/// names come from a file not yet trusted and an unkeyed hash would let a crafted manifest make
/// every insert collide.
enum Names<'a> {
    Few(Vec<&'a str>),
    Many(HashSet<&'a str>),
}

impl<'a> Names<'a> {
    /// Up to this many names are compared in place.
    const FEW: usize = 16;

    fn with_capacity(n: usize) -> Names<'a> {
        if n <= Self::FEW {
            Names::Few(Vec::with_capacity(n))
        } else {
            Names::Many(HashSet::with_capacity(n))
        }
    }

    /// Adds `name`; false if it was already there.
    #[inline]
    fn insert(&mut self, name: &'a str) -> bool {
        match self {
            Names::Few(seen) => {
                if seen.contains(&name) {
                    return false;
                }
                seen.push(name);
                true
            }
            Names::Many(seen) => seen.insert(name),
        }
    }
}

/// `bytes` as UTF-8: names and Rust types are almost always ASCII, which is checked a word at a
/// time; anything else goes through the full validation.
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, std::str::Utf8Error> {
    if bytes.is_ascii() {
        // SAFETY: every byte is ASCII (checked just above), and ASCII is valid UTF-8.
        Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        std::str::from_utf8(bytes)
    }
}

/// Reads only the magic and ABI version: what a loader checks before anything else.
///
/// Returns the version the bytes declare, whatever it is: `Ok(v)` with `v != `[`ABI_VERSION`]
/// for a manifest of a layout this crate does not know (a loader refuses it as
/// `incompatible_abi`, rule `VER-5`, as [`decode`] does with [`ManifestError::UnknownVersion`]);
/// `Err(`[`ManifestError::BadMagic`]`)` when the bytes are shorter than 12 or do not start with
/// [`MAGIC`] (no manifest at all: `not_a_plugin`, rule `VER-6`). It validates nothing else.
pub fn peek_version(bytes: &[u8]) -> Result<u32, ManifestError> {
    if bytes.len() < 12 || bytes[..8] != MAGIC {
        return Err(ManifestError::BadMagic);
    }
    Ok(u32::from_le_bytes([
        bytes[8], bytes[9], bytes[10], bytes[11],
    ]))
}

/// Decodes and validates manifest bytes. Never panics, never reads out of bounds.
///
/// Checks: magic; version; declared length equals the byte count; every string in bounds and
/// UTF-8; the identity valid (OPEN-9: 1 to 255 bytes, no control characters); symbol names not empty; counts that fit the bytes left; known kind and
/// storage codes; storage matching kind; no duplicate symbol or package names; `plugspec` listed
/// first; nothing after the last symbol.
pub fn decode(bytes: &[u8]) -> Result<Manifest<'_>, ManifestError> {
    let version = peek_version(bytes)?;
    if version != ABI_VERSION {
        return Err(ManifestError::UnknownVersion(version));
    }
    let mut r = Reader { bytes, at: 12 };
    let total = r.u32("total length")? as usize;
    if total != bytes.len() {
        return Err(ManifestError::Corrupt {
            offset: 12,
            what: format!(
                "declared length {total} but the manifest is {} bytes",
                bytes.len()
            ),
        });
    }
    let flags = r.u32("flags")?;
    if flags & !(FLAG_HAS_INIT | FLAG_HAS_API_VERSION) != 0 {
        return Err(ManifestError::Corrupt {
            offset: 16,
            what: format!("unknown flags {flags:#x}"),
        });
    }
    let api_version = r.u32("API version")?;
    let identity = r.str("identity")?;
    // OPEN-9: the identity's syntax.
    if let Some(problem) = identity_problem(identity) {
        return Err(r.corrupt(problem));
    }
    let build = BuildInfo {
        rustc_version: r.str("rustc version")?,
        rustc_commit: r.str("rustc commit")?,
        target: r.str("target")?,
        target_features: r.str("target features")?,
        panic: r.str("panic strategy")?,
    };
    let build_id = r.str("build ID")?;
    let package_count = r.count("package count", 12)?;
    let mut packages = Vec::with_capacity(package_count);
    // VER-7: duplicate names are found by hashing, so decoding stays linear in the manifest.
    let mut package_names = Names::with_capacity(package_count);
    for i in 0..package_count {
        let at = r.at;
        let p = PackageRecord {
            name: r.str("package name")?,
            version: r.str("package version")?,
            hash: r.str("package hash")?,
        };
        if !package_names.insert(p.name) {
            return Err(ManifestError::Corrupt {
                offset: at,
                what: format!("package {} is listed twice", p.name),
            });
        }
        if i == 0 && p.name != PLUGSPEC_PACKAGE.name {
            return Err(ManifestError::Corrupt {
                offset: at,
                what: format!("the first package is {:?}, not plugspec", p.name),
            });
        }
        packages.push(p);
    }
    if packages.is_empty() {
        return Err(r.corrupt("no packages: plugspec must be listed"));
    }
    let symbol_count = r.count("symbol count", 18)?;
    let mut symbols: Vec<SymbolRecord<'_>> = Vec::with_capacity(symbol_count);
    let mut symbol_names = Names::with_capacity(symbol_count);
    for _ in 0..symbol_count {
        let at = r.at;
        let kind = match r.u8("symbol kind")? {
            1 => SymbolKind::Function,
            2 => SymbolKind::Variable,
            k => {
                return Err(ManifestError::Corrupt {
                    offset: at,
                    what: format!("unknown symbol kind {k}"),
                });
            }
        };
        let storage = match (kind, r.u8("symbol storage")?) {
            (SymbolKind::Function, 0) => Storage::Code,
            (SymbolKind::Variable, 1) => Storage::StaticMut,
            (SymbolKind::Variable, 2) => Storage::InteriorMutable,
            (_, s) => {
                return Err(ManifestError::Corrupt {
                    offset: at + 1,
                    what: format!("storage {s} does not fit a {kind}"),
                });
            }
        };
        let name = r.str("symbol name")?;
        if name.is_empty() {
            return Err(ManifestError::Corrupt {
                offset: at + 2,
                what: "empty symbol name".into(),
            });
        }
        if !symbol_names.insert(name) {
            return Err(ManifestError::Corrupt {
                offset: at + 2,
                what: format!("symbol {name} is listed twice"),
            });
        }
        let rust_type = r.str("symbol type")?;
        let size = r.u32("symbol size")?;
        let align = r.u32("symbol align")?;
        if !align.is_power_of_two() {
            return Err(ManifestError::Corrupt {
                offset: r.at - 4,
                what: format!("alignment {align} of {name} is not a power of two"),
            });
        }
        symbols.push(SymbolRecord {
            kind,
            storage,
            name,
            rust_type,
            size,
            align,
        });
    }
    if r.at != bytes.len() {
        return Err(r.corrupt(format!(
            "{} bytes after the last symbol",
            bytes.len() - r.at
        )));
    }
    Ok(Manifest {
        identity,
        fingerprint: Fingerprint {
            build,
            packages,
            api_version: (flags & FLAG_HAS_API_VERSION != 0).then_some(api_version),
            build_id: (!build_id.is_empty()).then_some(build_id),
        },
        symbols,
        has_init: flags & FLAG_HAS_INIT != 0,
    })
}

/// One entry of the export table: the address of a function or of a variable's storage.
#[repr(transparent)]
#[derive(Debug, Clone, Copy)]
pub struct Export(pub *const ());

// SAFETY: an export is an address of code or of process-lifetime storage; the table holding them
// is immutable, and accesses through the addresses are governed by `Symbol`'s contracts.
unsafe impl Sync for Export {}

/// What an init or host-open call reports back across the boundary: a status and a message,
/// pointer-free.
#[repr(C)]
#[derive(Debug)]
pub struct Outcome {
    /// 0 for success; otherwise a failure code (for init: 1 = panicked; for a host open:
    /// 1 + the index of the error kind in [`ErrorKind::ALL`](crate::ErrorKind::ALL)).
    pub status: u32,
    /// How many bytes of `message` are used.
    pub message_len: u32,
    /// The message, UTF-8, truncated to [`MESSAGE_CAPACITY`] at a character boundary.
    pub message: [u8; MESSAGE_CAPACITY],
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome {
            status: 0,
            message_len: 0,
            message: [0; MESSAGE_CAPACITY],
        }
    }
}

impl Outcome {
    /// Records `status` and `message` (truncated at a character boundary).
    pub fn set(&mut self, status: u32, message: &str) {
        let mut end = message.len().min(MESSAGE_CAPACITY);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        self.message[..end].copy_from_slice(&message.as_bytes()[..end]);
        self.message_len = end as u32;
        self.status = status;
    }

    /// The message, or `""` if the other side wrote something that is not valid.
    pub fn message(&self) -> &str {
        let len = (self.message_len as usize).min(MESSAGE_CAPACITY);
        std::str::from_utf8(&self.message[..len]).unwrap_or("")
    }
}

/// The host's callbacks, passed to a plugin's init (so an init can open other plugins through
/// the loader that is initialising it).
#[repr(C)]
#[derive(Debug)]
pub struct HostContext {
    /// [`ABI_VERSION`] of the host.
    pub abi_version: u32,
    /// Opaque to the plugin; passed back to `open`.
    pub data: *const (),
    /// Opens the plugin at the UTF-8 path `(ptr, len)`, reporting into `out`.
    pub open: Option<
        unsafe extern "C" fn(data: *const (), ptr: *const u8, len: usize, out: *mut Outcome),
    >,
}

/// The init entry: called once, after mapping, with the host context; reports into the outcome.
pub type InitFn = unsafe extern "C" fn(host: *const HostContext, out: *mut Outcome);

/// A type-name function of the export table's types (rule LOOKUP-5): writes the length of
/// `core::any::type_name::<T>()` of the export's declared type `T` to `len` and returns a pointer
/// to its UTF-8 bytes, which live as long as the plugin (never unloaded). The SDK's
/// [`sdk::type_name_of`](crate::sdk::type_name_of) is one; `len` must be valid for a write.
pub type TypeNameFn = unsafe extern "C" fn(len: *mut usize) -> *const u8;

/// What the well-known symbol [`DESCRIPTOR_SYMBOL`] holds.
#[repr(C)]
#[derive(Debug)]
pub struct PluginDescriptor {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`ABI_VERSION`]; a loader reads nothing past this field if it differs.
    pub abi_version: u32,
    /// The manifest bytes (the same bytes as the manifest section).
    pub manifest: *const u8,
    /// Their length.
    pub manifest_len: usize,
    /// The export table, one entry per manifest symbol, in order.
    pub exports: *const Export,
    /// Its length.
    pub export_count: usize,
    /// The init entry, if the plugin has one.
    pub init: Option<InitFn>,
    /// The type-name functions of the exports (LOOKUP-5), one per entry of the export table, in
    /// order; null when the plugin records none (then typed lookups compare written types).
    /// The descriptor's layout is pinned by plugspec's own package hash, which every plugin's
    /// fingerprint carries and VER-2 compares before the descriptor is read.
    pub type_names: *const TypeNameFn,
    /// Their number: 0 or [`PluginDescriptor::export_count`].
    pub type_name_count: usize,
}

// SAFETY: the descriptor is immutable static data: pointers to immutable statics and a function
// pointer. Sharing it between threads is sound.
unsafe impl Sync for PluginDescriptor {}

impl PluginDescriptor {
    /// Builds a descriptor (used by the SDK macro in const context).
    pub const fn new(
        manifest: &'static [u8],
        exports: &'static [Export],
        init: Option<InitFn>,
    ) -> Self {
        PluginDescriptor {
            magic: MAGIC,
            abi_version: ABI_VERSION,
            manifest: manifest.as_ptr(),
            manifest_len: manifest.len(),
            exports: exports.as_ptr(),
            export_count: exports.len(),
            init,
            type_names: std::ptr::null(),
            type_name_count: 0,
        }
    }

    /// The descriptor with the type-name functions of its exports (the SDK's; rule LOOKUP-5).
    pub const fn with_type_names(self, type_names: &'static [TypeNameFn]) -> Self {
        PluginDescriptor {
            type_names: type_names.as_ptr(),
            type_name_count: type_names.len(),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::THIS_BUILD;

    const SYMBOLS: &[SymbolSpec] = &[
        SymbolSpec {
            kind: SymbolKind::Function,
            storage: Storage::Code,
            name: "add",
            rust_type: "extern \"C\" fn(i32, i32) -> i32",
            size: 8,
            align: 8,
        },
        SymbolSpec {
            kind: SymbolKind::Variable,
            storage: Storage::StaticMut,
            name: "V",
            rust_type: "i32",
            size: 4,
            align: 4,
        },
    ];
    const SPEC: ManifestSpec = ManifestSpec {
        identity: "test.plugin",
        build: THIS_BUILD,
        api_version: Some(3),
        build_id: None,
        packages: &[Package {
            name: "common",
            version: "0.1.0",
            hash: "00ff",
        }],
        symbols: SYMBOLS,
        has_init: true,
    };
    const LEN: usize = SPEC.encoded_len();
    const BYTES: [u8; LEN] = SPEC.encode::<LEN>();

    #[test]
    fn encode_then_decode_round_trips() {
        let m = decode(&BYTES).unwrap();
        assert_eq!(m.identity, "test.plugin");
        assert!(m.has_init);
        assert_eq!(m.fingerprint.api_version, Some(3));
        assert_eq!(m.fingerprint.build_id, None);
        assert_eq!(m.fingerprint.build, THIS_BUILD);
        let names: Vec<_> = m.fingerprint.packages.iter().map(|p| p.name).collect();
        assert_eq!(names, ["plugspec", "common"]);
        assert_eq!(m.symbols.len(), 2);
        assert_eq!(m.symbols[1].name, "V");
        assert_eq!(m.symbols[1].storage, Storage::StaticMut);
    }

    #[test]
    fn every_truncation_is_a_clean_error() {
        for len in 0..BYTES.len() {
            let e = decode(&BYTES[..len]).unwrap_err();
            if len >= 12 {
                assert!(matches!(e, ManifestError::Corrupt { .. }), "{len}: {e}");
            }
        }
    }

    #[test]
    fn every_single_byte_flip_is_decoded_or_refused_without_panic() {
        for i in 0..BYTES.len() {
            for bit in 0..8 {
                let mut b = BYTES;
                b[i] ^= 1 << bit;
                let _ = decode(&b);
            }
        }
    }

    #[test]
    fn magic_and_version_are_told_apart() {
        let mut b = BYTES;
        b[0] = b'X';
        assert_eq!(decode(&b), Err(ManifestError::BadMagic));
        let mut b = BYTES;
        b[8] = 7;
        assert_eq!(decode(&b), Err(ManifestError::UnknownVersion(7)));
    }

    #[test]
    fn out_of_range_counts_name_the_offset() {
        // The symbol count is the last u32 before the first symbol record.
        let m = decode(&BYTES).unwrap();
        assert_eq!(m.symbols.len(), 2);
        let mut b = BYTES;
        const NO_SYMBOLS: ManifestSpec = ManifestSpec {
            symbols: &[],
            ..SPEC
        };
        let first_symbol = NO_SYMBOLS.encoded_len();
        b[first_symbol - 4..first_symbol].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = decode(&b).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "corrupt manifest at byte {}: symbol count 4294967295 cannot fit in the {} bytes left",
                first_symbol - 4,
                BYTES.len() - first_symbol
            )
        );
    }

    #[test]
    fn duplicate_names_and_bad_utf8_are_refused() {
        const DUP: ManifestSpec = ManifestSpec {
            symbols: &[SYMBOLS[0], SYMBOLS[0]],
            ..SPEC
        };
        const DLEN: usize = DUP.encoded_len();
        let e = decode(&DUP.encode::<DLEN>()).unwrap_err();
        assert!(e.to_string().contains("symbol add is listed twice"), "{e}");
        let mut b = BYTES;
        let at = HEADER_LEN + 4; // first byte of the identity
        b[at] = 0xff;
        let e = decode(&b).unwrap_err();
        assert_eq!(
            e,
            ManifestError::Corrupt {
                offset: at,
                what: "identity is not UTF-8".into()
            }
        );
    }

    #[test]
    fn duplicates_are_found_among_few_names_and_many() {
        for n in [0, 1, Names::FEW, Names::FEW + 1, 1_000] {
            let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
            let mut seen = Names::with_capacity(n);
            assert!(
                names.iter().all(|name| seen.insert(name)),
                "{n} distinct names"
            );
            for name in &names {
                assert!(!seen.insert(name), "{name} again, among {n}");
            }
        }
    }

    #[test]
    fn text_is_checked_as_utf8_with_an_ascii_fast_path() {
        assert_eq!(utf8(b"plain_ascii"), Ok("plain_ascii"));
        assert_eq!(utf8("caf\u{e9}".as_bytes()), Ok("caf\u{e9}"));
        assert_eq!(utf8(b"ab\xffcd").unwrap_err().valid_up_to(), 2);
        assert_eq!(utf8(b""), Ok(""));
    }

    #[test]
    fn identities_are_bounded_printable_text() {
        // OPEN-9.
        assert_eq!(identity_problem(""), Some("the identity is empty"));
        assert_eq!(identity_problem(&"x".repeat(255)), None);
        assert_eq!(
            identity_problem(&"x".repeat(256)),
            Some("the identity is longer than 255 bytes")
        );
        assert_eq!(identity_problem("fixtures.bäsic-ünïcode"), None);
        for bad in ["a\0b", "a\nb", "a\u{7f}b", "a\u{85}b"] {
            assert_eq!(
                identity_problem(bad),
                Some("the identity contains a control character"),
                "{bad:?}"
            );
        }
        // And the decoder applies it.
        let mut spec = SPEC;
        spec.identity = "tab\there";
        const LEN: usize = SPEC.encoded_len() - "test.plugin".len() + "tab\there".len();
        let bytes = spec.encode::<LEN>();
        let e = decode(&bytes).unwrap_err();
        assert!(e.to_string().contains("control character"), "{e}");
    }

    #[test]
    fn a_manifest_describes_itself() {
        let text = decode(&BYTES).unwrap().to_string();
        assert!(text.starts_with("identity:        test.plugin\n"), "{text}");
        assert!(text.contains("api version:     3\n"), "{text}");
        assert!(
            text.contains("  function add: extern \"C\" fn(i32, i32) -> i32 (size 8, align 8)\n"),
            "{text}"
        );
        assert!(
            text.contains("  variable V: i32 (size 4, align 4, static mut)\n"),
            "{text}"
        );
        assert!(text.contains("  common 0.1.0 #00ff\n"), "{text}");
    }

    #[test]
    fn outcome_truncates_at_a_char_boundary() {
        let mut o = Outcome::default();
        let long = "é".repeat(MESSAGE_CAPACITY);
        o.set(1, &long);
        assert_eq!(o.message().len(), MESSAGE_CAPACITY);
        o.message_len = 5000;
        assert_eq!(o.message().len(), MESSAGE_CAPACITY);
    }
}
