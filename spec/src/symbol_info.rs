//! What a [`Symbol`](crate::Symbol) holds: its record, two words on 64-bit targets.
//!
//! A record is a pointer to its [`SymbolSource`], kept for the life of the process, and one
//! [`NameAt`]. For a plugin the reference loader mapped, the source is the plugin's, shared by
//! all of its symbols: the mapped library's manifest, its identity, its export table and its table
//! of type-name functions; the `NameAt` says where the symbol's name lies in that manifest and
//! the symbol's position in the two tables, and is all the loader's symbol table keeps per symbol
//! (8 bytes). Kind, written type, size and alignment are read from the manifest, which the
//! decoder validated, when asked for. A plugin's symbols then cost no copy of a name or type, no
//! decoded field and no per-symbol type name until one is asked for. Records made by
//! [`Symbol::new`](crate::Symbol::new) have a source of their own: the values they were given.

use std::fmt;

use crate::abi::{Export, TypeNameFn};
use crate::contract::SymbolKind;

/// Where a string lies in some bytes: offset and length.
#[cfg(feature = "loader")]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Span {
    at: u32,
    len: u32,
}

#[cfg(feature = "loader")]
impl Span {
    /// The span of `text`, which lies inside `bytes` (at most 4 GiB long).
    pub(crate) fn of(bytes: &[u8], text: &str) -> Span {
        Span {
            at: (text.as_ptr() as usize - bytes.as_ptr() as usize) as u32,
            len: text.len() as u32,
        }
    }

    /// The text at this span of `bytes`.
    ///
    /// # Safety
    ///
    /// `bytes` must be the bytes this span was taken from, or a byte-for-byte copy of them: the
    /// span's bytes are then the UTF-8 of the text it was taken of.
    pub(crate) unsafe fn text(self, bytes: &[u8]) -> &str {
        let at = self.at as usize;
        // SAFETY: the caller's contract: these bytes are the UTF-8 of a `str`.
        unsafe { std::str::from_utf8_unchecked(&bytes[at..at + self.len as usize]) }
    }
}

/// The string of a manifest whose bytes start at `at` in `bytes`, after their length (a
/// little-endian `u32`: the manifest's encoding); empty if that is not inside `bytes`.
fn string_at(bytes: &[u8], at: usize) -> &[u8] {
    match bytes.get(at.wrapping_sub(4)..at) {
        Some(&[a, b, c, d]) => {
            let len = u32::from_le_bytes([a, b, c, d]) as usize;
            bytes.get(at..at.saturating_add(len)).unwrap_or_default()
        }
        _ => &[],
    }
}

/// The little-endian `u32` at `at` in `bytes`, or 0 if it is not inside them.
fn u32_at(bytes: &[u8], at: usize) -> u32 {
    match bytes.get(at..at.saturating_add(4)) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// What the records of one plugin (or one [`Symbol::new`](crate::Symbol::new)) share.
pub(crate) enum SymbolSource {
    /// A plugin's.
    #[cfg_attr(not(feature = "loader"), allow(dead_code))]
    Plugin {
        /// Its manifest, as the decoder validated it: every record's name lies in it where the
        /// record's [`NameAt`] says.
        manifest: &'static [u8],
        /// Its identity.
        identity: &'static str,
        /// Its exports' addresses, by the record's index.
        exports: &'static [Export],
        /// The compiler's names of its exports' types, by the record's index: one per export, or
        /// none (LOOKUP-5).
        type_names: &'static [TypeNameFn],
    },
    /// The values given to [`Symbol::new`](crate::Symbol::new), for its one record.
    Given(SymbolValues),
}

impl SymbolSource {
    /// The source of a plugin's records.
    ///
    /// # Safety
    ///
    /// `manifest` must be a byte-for-byte copy of a manifest the decoder validated, and every
    /// record given this source must lie where the decoder found a symbol's name in it, with
    /// an index below the length of `exports` and of `type_names` (unless that is empty);
    /// `exports` and `type_names` must be those of a plugin whose fingerprint matched this host's,
    /// never unmapped, the addresses keeping [`Symbol::new`](crate::Symbol::new)'s contract.
    #[cfg(feature = "loader")]
    pub(crate) const unsafe fn plugin(
        manifest: &'static [u8],
        identity: &'static str,
        exports: &'static [Export],
        type_names: &'static [TypeNameFn],
    ) -> SymbolSource {
        SymbolSource::Plugin {
            manifest,
            identity,
            exports,
            type_names,
        }
    }

    /// The source of one symbol's `values`, kept for the life of the process.
    pub(crate) fn given(values: &SymbolValues) -> &'static SymbolSource {
        Box::leak(Box::new(SymbolSource::Given(*values)))
    }
}

/// A symbol's record: its source, where its name lies in its source's manifest, and its position
/// in its source's tables.
#[derive(Clone, Copy)]
pub(crate) struct SymbolInfo {
    source: &'static SymbolSource,
    name: NameAt,
}

/// Where a plugin record's name lies in its manifest (offset and length) and the record's
/// position in the plugin's tables, in one word: a manifest is at most 4 MiB
/// ([`MAX_MANIFEST_LEN`](crate::abi::MAX_MANIFEST_LEN)), so an offset or a length takes 22 bits,
/// and it holds fewer than 2^20 symbols (each takes at least 18 bytes).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct NameAt(u64);

const _: () = assert!(crate::abi::MAX_MANIFEST_LEN <= 1 << NameAt::BITS);

impl NameAt {
    /// Bits of an offset or a length.
    const BITS: u32 = 22;
    const MASK: u64 = (1 << NameAt::BITS) - 1;

    /// A name of `len` bytes at `at`, the `index`-th record's; every value must fit (a manifest
    /// within the cap).
    #[cfg(feature = "loader")]
    pub(crate) const fn new(at: usize, len: usize, index: usize) -> NameAt {
        debug_assert!(at <= NameAt::MASK as usize && len <= NameAt::MASK as usize);
        debug_assert!(index < 1 << (64 - 2 * NameAt::BITS));
        NameAt(
            (at as u64 & NameAt::MASK)
                | (len as u64 & NameAt::MASK) << NameAt::BITS
                | (index as u64) << (2 * NameAt::BITS),
        )
    }

    /// Where the name starts.
    #[inline]
    pub(crate) const fn at(self) -> usize {
        (self.0 & NameAt::MASK) as usize
    }

    /// The name's length.
    #[inline]
    pub(crate) const fn len(self) -> usize {
        (self.0 >> NameAt::BITS & NameAt::MASK) as usize
    }

    /// The record's position in its source's tables.
    #[inline]
    pub(crate) const fn index(self) -> usize {
        (self.0 >> (2 * NameAt::BITS)) as usize
    }

    /// The name's bytes in `manifest`; empty if they are not inside it.
    #[inline]
    pub(crate) fn bytes(self, manifest: &[u8]) -> &[u8] {
        manifest
            .get(self.at()..self.at() + self.len())
            .unwrap_or_default()
    }

    /// The name's bytes in `manifest`, unchecked: a lookup's comparison, where the check costs
    /// about a tenth of a hit.
    ///
    /// # Safety
    ///
    /// The name must lie inside `manifest`.
    #[cfg(feature = "loader")]
    #[inline]
    pub(crate) unsafe fn bytes_unchecked(self, manifest: &[u8]) -> &[u8] {
        // SAFETY: the caller's contract.
        unsafe { manifest.get_unchecked(self.at()..self.at() + self.len()) }
    }
}

impl SymbolInfo {
    /// The record of the symbol whose name lies at `name` in `source`'s manifest.
    ///
    /// # Safety
    ///
    /// [`SymbolSource::plugin`]'s contract holds for `name` and `source`: the decoder found a
    /// symbol's name there, the `index`-th.
    #[cfg(feature = "loader")]
    #[inline]
    pub(crate) const unsafe fn new(source: &'static SymbolSource, name: NameAt) -> SymbolInfo {
        SymbolInfo { source, name }
    }

    /// The record of a symbol with its own source, `values` (made once, by
    /// [`SymbolSource::given`]).
    pub(crate) const fn owned(source: &'static SymbolSource) -> SymbolInfo {
        SymbolInfo {
            source,
            name: NameAt(0),
        }
    }

    /// `bytes` as text.
    ///
    /// # Safety
    ///
    /// `bytes` must be a string the decoder validated as UTF-8, or empty.
    unsafe fn text(bytes: &'static [u8]) -> &'static str {
        // SAFETY: the caller's contract.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }

    /// Where the written type starts in a plugin's manifest: after the name and its own length.
    fn type_at(&self) -> usize {
        self.name.at() + self.name.len() + 4
    }

    /// The declared size and alignment in a plugin's manifest: after the written type.
    fn layout_in(&self, manifest: &[u8]) -> (usize, usize) {
        let type_at = self.type_at();
        let after = type_at + u32_at(manifest, type_at.wrapping_sub(4)) as usize;
        (
            u32_at(manifest, after) as usize,
            u32_at(manifest, after + 4) as usize,
        )
    }

    /// The exported name.
    pub(crate) fn name(&self) -> &'static str {
        match self.source {
            // SAFETY: a `Plugin` source's contract: the record's name lies where the decoder
            // found one in the manifest it validated (outside it, the bytes are empty).
            SymbolSource::Plugin { manifest, .. } => unsafe {
                SymbolInfo::text(self.name.bytes(manifest))
            },
            SymbolSource::Given(values) => values.name,
        }
    }

    /// Function or variable.
    pub(crate) fn kind(&self) -> SymbolKind {
        match self.source {
            // The record's kind is its first byte, before the storage and the name's length.
            SymbolSource::Plugin { manifest, .. } => {
                match manifest.get(self.name.at().wrapping_sub(6)) {
                    Some(1) => SymbolKind::Function,
                    _ => SymbolKind::Variable,
                }
            }
            SymbolSource::Given(values) => values.kind,
        }
    }

    /// The written type.
    pub(crate) fn rust_type(&self) -> &'static str {
        match self.source {
            // SAFETY: as for the name: the written type is the string that follows it in the
            // record the decoder validated.
            SymbolSource::Plugin { manifest, .. } => unsafe {
                SymbolInfo::text(string_at(manifest, self.type_at()))
            },
            SymbolSource::Given(values) => values.rust_type,
        }
    }

    /// The declared size.
    pub(crate) fn size(&self) -> usize {
        match self.source {
            SymbolSource::Plugin { manifest, .. } => self.layout_in(manifest).0,
            SymbolSource::Given(values) => values.size,
        }
    }

    /// The declared alignment.
    pub(crate) fn align(&self) -> usize {
        match self.source {
            SymbolSource::Plugin { manifest, .. } => self.layout_in(manifest).1,
            SymbolSource::Given(values) => values.align,
        }
    }

    /// The address: the function itself, or a pointer into the plugin's storage.
    #[inline]
    pub(crate) fn address(&self) -> *mut () {
        match self.source {
            SymbolSource::Plugin { exports, .. } => exports
                .get(self.name.index())
                .map_or(std::ptr::null_mut(), |e| e.0.cast_mut()),
            SymbolSource::Given(values) => values.address,
        }
    }

    /// The identity of the plugin the symbol belongs to.
    pub(crate) fn identity(&self) -> &'static str {
        match self.source {
            SymbolSource::Plugin { identity, .. } => identity,
            SymbolSource::Given(values) => values.identity,
        }
    }

    /// The compiler's name of the declared type, if the plugin recorded it (LOOKUP-5).
    pub(crate) fn type_name(&self) -> Option<&'static str> {
        match self.source {
            SymbolSource::Plugin { type_names, .. } => {
                type_names.get(self.name.index()).and_then(|f| call(*f))
            }
            SymbolSource::Given(values) => values.type_name,
        }
    }

    /// Everything the record says, as values.
    pub(crate) fn values(&self) -> SymbolValues {
        if let SymbolSource::Given(values) = self.source {
            return *values;
        }
        SymbolValues {
            identity: self.identity(),
            name: self.name(),
            kind: self.kind(),
            rust_type: self.rust_type(),
            size: self.size(),
            align: self.align(),
            address: self.address(),
            type_name: self.type_name(),
        }
    }
}

// A `SymbolInfo` is `Send` and `Sync` as its source is: a plugin's export table (`Export` is
// both) or the values given to `Symbol::new` (`SymbolValues`, below).

impl SymbolInfo {
    /// Whether both are the same record: one source, one place in it.
    pub(crate) fn same_record(&self, other: &SymbolInfo) -> bool {
        std::ptr::eq(self.source, other.source) && self.name == other.name
    }
}

/// Two records are equal when every value they give is, wherever they keep them.
impl PartialEq for SymbolInfo {
    fn eq(&self, other: &Self) -> bool {
        self.same_record(other) || self.values() == other.values()
    }
}

impl Eq for SymbolInfo {}

impl fmt::Debug for SymbolInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Symbol")
            .field("name", &self.name())
            .field("kind", &self.kind())
            .field("rust_type", &self.rust_type())
            .field("type_name", &self.type_name())
            .field("address", &self.address())
            .finish()
    }
}

/// A symbol's values, as [`Symbol::new`](crate::Symbol::new) takes them: the key its records are
/// interned by.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct SymbolValues {
    pub(crate) identity: &'static str,
    pub(crate) name: &'static str,
    pub(crate) kind: SymbolKind,
    pub(crate) rust_type: &'static str,
    pub(crate) size: usize,
    pub(crate) align: usize,
    pub(crate) address: *mut (),
    pub(crate) type_name: Option<&'static str>,
}

// SAFETY: an address plus static strings. The address names code or storage that lives for the
// whole process; sending it between threads is sound, and any access through it goes through
// `Symbol`'s `unsafe` accessors, whose contracts cover synchronisation.
unsafe impl Send for SymbolValues {}
// SAFETY: as for `Send`.
unsafe impl Sync for SymbolValues {}

/// The compiler's name of one export's type, from its SDK function.
fn call(f: TypeNameFn) -> Option<&'static str> {
    let mut len = 0usize;
    // SAFETY: a `Plugin` table holds the SDK's `type_name_of` of a plugin whose fingerprint
    // matched this host's (the source's contract): it writes the length and returns a pointer to
    // that many bytes of a `'static` string in the never-unmapped library.
    let bytes = unsafe {
        let ptr = f(&mut len);
        if ptr.is_null() {
            return None;
        }
        std::slice::from_raw_parts(ptr, len)
    };
    crate::abi::utf8(bytes).ok()
}

#[cfg(all(test, feature = "loader"))]
pub(crate) mod tests {
    use super::*;
    use crate::abi::{ManifestSpec, Storage, SymbolSpec};

    /// A function and a variable: the symbols of [`SPEC`], a manifest the tests decode.
    pub(crate) const SYMBOLS: &[SymbolSpec] = &[
        SymbolSpec {
            kind: SymbolKind::Function,
            storage: Storage::Code,
            name: "add",
            rust_type: "extern \"C\" fn(i32) -> i32",
            size: 8,
            align: 8,
        },
        SymbolSpec {
            kind: SymbolKind::Variable,
            storage: Storage::InteriorMutable,
            name: "COUNTER",
            rust_type: "AtomicU32",
            size: 4,
            align: 4,
        },
    ];
    /// A manifest of identity `p` exporting [`SYMBOLS`].
    pub(crate) const SPEC: ManifestSpec = ManifestSpec {
        identity: "p",
        build: crate::fingerprint::THIS_BUILD,
        api_version: None,
        build_id: None,
        packages: &[],
        symbols: SYMBOLS,
        has_init: false,
    };

    /// The records of [`SPEC`]'s symbols, placed in a plugin source reading a copy of its
    /// manifest; the `i`-th at address `0x10 * (i + 1)`.
    fn placed() -> Vec<SymbolInfo> {
        const LEN: usize = SPEC.encoded_len();
        let bytes: &'static [u8] = Box::leak(Box::new(SPEC.encode::<LEN>()));
        let copy: &'static [u8] = Box::leak(bytes.to_vec().into_boxed_slice());
        let exports: &'static [Export] = Box::leak(Box::new([
            Export(0x10 as *const ()),
            Export(0x20 as *const ()),
        ]));
        // SAFETY: `copy` copies a manifest the decoder validates below; each record starts at a
        // name the decoder found, with an index below 2; the addresses are only compared.
        let source: &'static SymbolSource = Box::leak(Box::new(unsafe {
            SymbolSource::plugin(copy, "p", exports, &[])
        }));
        let manifest = crate::abi::decode(bytes).unwrap();
        manifest
            .symbols
            .iter()
            .enumerate()
            .map(|(i, symbol)| {
                let at = Span::of(bytes, symbol.name).at as usize;
                // SAFETY: as above.
                unsafe { SymbolInfo::new(source, NameAt::new(at, symbol.name.len(), i)) }
            })
            .collect()
    }

    #[test]
    fn a_plugin_record_reads_its_values_from_the_manifest() {
        let records = placed();
        for (i, (record, spec)) in records.iter().zip(SYMBOLS).enumerate() {
            let values = record.values();
            assert_eq!(
                values,
                SymbolValues {
                    identity: "p",
                    name: spec.name,
                    kind: spec.kind,
                    rust_type: spec.rust_type,
                    size: spec.size,
                    align: spec.align,
                    address: (0x10 * (i + 1)) as *mut (),
                    type_name: None,
                }
            );
            let SymbolSource::Plugin { manifest, .. } = record.source else {
                panic!("a plugin record");
            };
            assert!(manifest.as_ptr_range().contains(&record.name().as_ptr()));
            assert!(
                manifest
                    .as_ptr_range()
                    .contains(&record.rust_type().as_ptr())
            );
        }
        assert_eq!(std::mem::size_of::<SymbolInfo>(), 2 * size_of::<usize>());
    }

    #[test]
    fn records_are_equal_by_their_values_wherever_they_keep_them() {
        let placed = placed().remove(1);
        let values = SymbolValues {
            identity: "p",
            name: "COUNTER",
            kind: SymbolKind::Variable,
            rust_type: "AtomicU32",
            size: 4,
            align: 4,
            address: 0x20 as *mut (),
            type_name: None,
        };
        let owned = SymbolInfo::owned(SymbolSource::given(&values));
        assert_eq!(placed.values(), values);
        assert_eq!(owned.values(), values);
        assert_eq!(placed, owned);
        let other = SymbolInfo::owned(SymbolSource::given(&SymbolValues {
            type_name: Some("u32"),
            ..values
        }));
        assert_ne!(placed, other);
        assert_eq!(other.type_name(), Some("u32"));
        assert_eq!(
            format!("{placed:?}"),
            "Symbol { name: \"COUNTER\", kind: Variable, rust_type: \"AtomicU32\", type_name: None, address: 0x20 }"
        );
    }

    #[test]
    fn a_position_outside_the_bytes_reads_as_empty() {
        let bytes = b"\x03\0\0\0abc";
        assert_eq!(string_at(bytes, 4), b"abc");
        for at in [0, 1, 3, 5, 7, 8, 100, usize::MAX] {
            assert_ne!(string_at(bytes, at), b"abc", "{at}");
        }
        assert_eq!(string_at(bytes, 0), b"");
        assert_eq!(string_at(&bytes[..6], 4), b"");
        assert_eq!(u32_at(bytes, 0), 3);
        let name = NameAt::new(4, 3, 7);
        assert_eq!((name.at(), name.len(), name.index()), (4, 3, 7));
        assert_eq!(name.bytes(bytes), b"abc");
        assert_eq!(name.bytes(&bytes[..6]), b"");
        let far = NameAt::new((1 << 22) - 1, (1 << 22) - 1, (1 << 20) - 1);
        assert_eq!(
            (far.at(), far.len(), far.index()),
            ((1 << 22) - 1, (1 << 22) - 1, (1 << 20) - 1)
        );
        assert_eq!(u32_at(bytes, 5), 0);
        assert_eq!(u32_at(bytes, usize::MAX), 0);
    }
}
