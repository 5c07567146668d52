//! Reading a manifest: every byte validated, never a panic, never a read out of bounds.

use std::collections::HashSet;
use std::fmt;

use super::*;
use crate::contract::SymbolKind;
use crate::fingerprint::{BuildInfo, Fingerprint, PLUGSPEC_PACKAGE, PackageRecord};

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
    #[inline(always)]
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

    #[inline(always)]
    fn u8(&mut self, what: &str) -> Result<u8, ManifestError> {
        Ok(self.take(1, what)?[0])
    }

    #[inline(always)]
    fn u32(&mut self, what: &str) -> Result<u32, ManifestError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    #[inline(always)]
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
pub(super) enum Names<'a> {
    Few(Vec<&'a str>),
    Many(HashSet<&'a str>),
}

impl<'a> Names<'a> {
    /// Up to this many names are compared in place.
    pub(super) const FEW: usize = 16;

    pub(super) fn with_capacity(n: usize) -> Names<'a> {
        if n <= Self::FEW {
            Names::Few(Vec::with_capacity(n))
        } else {
            Names::Many(HashSet::with_capacity(n))
        }
    }

    /// Adds `name`; false if it was already there.
    #[inline]
    pub(super) fn insert(&mut self, name: &'a str) -> bool {
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
    let Decoded {
        identity,
        fingerprint,
        symbols,
        has_init,
    } = decode_with(bytes, &mut Records(Names::Few(Vec::new())))?;
    Ok(Manifest {
        identity,
        fingerprint,
        symbols,
        has_init,
    })
}

/// [`decode`]'s keeper: every record, and the names seen, to refuse a repeated one.
struct Records<'a>(Names<'a>);

impl<'a> Keep<'a> for Records<'a> {
    type Symbol = SymbolRecord<'a>;

    fn count(&mut self, count: usize) {
        self.0 = Names::with_capacity(count);
    }

    fn name(&mut self, _: usize, name: &'a str) -> bool {
        self.0.insert(name)
    }

    fn keep(&mut self, _: usize, record: SymbolRecord<'a>) -> SymbolRecord<'a> {
        record
    }
}

/// What [`decode_with`] makes of a manifest's symbol records, and where it refuses a repeated
/// name (VER-7): the reference loader builds its lookup index there, while decoding.
pub(crate) trait Keep<'a> {
    /// What is kept of each record.
    type Symbol;

    /// Called once, before the first record, with the number of records.
    fn count(&mut self, count: usize);

    /// Notes the `index`-th record's name, as soon as it is read; false if an earlier record had
    /// the same.
    fn name(&mut self, index: usize, name: &'a str) -> bool;

    /// What to keep of the `index`-th record, once it is read whole.
    fn keep(&mut self, index: usize, record: SymbolRecord<'a>) -> Self::Symbol;
}

/// A [`Manifest`] whose symbol records were each turned into an `S` as they were decoded.
pub(crate) struct Decoded<'a, S> {
    /// The plugin's identity.
    pub(crate) identity: &'a str,
    /// The build fingerprint.
    pub(crate) fingerprint: Fingerprint<'a>,
    /// One `S` per exported symbol, in export-table order.
    pub(crate) symbols: Vec<S>,
    /// Whether the plugin has an init entry.
    pub(crate) has_init: bool,
}

/// [`decode`], keeping of each symbol record only what `keeper` makes of it, given its position
/// in the manifest, and leaving to `keeper` to refuse a repeated name (the reference loader keeps
/// positions in the bytes, so that it can take the strings from the mapped library's own copy
/// without decoding again). Every check is [`decode`]'s.
pub(crate) fn decode_with<'a, K: Keep<'a>>(
    bytes: &'a [u8],
    keeper: &mut K,
) -> Result<Decoded<'a, K::Symbol>, ManifestError> {
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
    let mut symbols = Vec::with_capacity(symbol_count);
    keeper.count(symbol_count);
    for index in 0..symbol_count {
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
        // VER-7.
        if !keeper.name(index, name) {
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
        symbols.push(keeper.keep(
            index,
            SymbolRecord {
                kind,
                storage,
                name,
                rust_type,
                size,
                align,
            },
        ));
    }
    if r.at != bytes.len() {
        return Err(r.corrupt(format!(
            "{} bytes after the last symbol",
            bytes.len() - r.at
        )));
    }
    Ok(Decoded {
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
