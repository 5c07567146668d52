//! What a [`Symbol`](crate::Symbol) points at: one record per export, kept for the life of the
//! process, as small as the reference loader can make it (56 bytes on 64-bit targets).
//!
//! A record holds its symbol's numbers (kind, size, alignment, address) and, for its strings,
//! positions in the bytes of its [`SymbolSource`]: for a plugin the reference loader mapped,
//! the mapped library's manifest, where the decoder found them, shared by all of that plugin's
//! records with its identity and its table of type-name functions. A plugin's symbols then cost
//! no copy of a name or type and no per-symbol type name until one is asked for. Records made by
//! [`Symbol::new`](crate::Symbol::new) have a source of their own.

use std::fmt;

use crate::abi::TypeNameFn;
use crate::contract::SymbolKind;

/// Where a string lies in its source's bytes: offset and length.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Span {
    at: u32,
    len: u32,
}

impl Span {
    /// The span of `text`, which lies inside `bytes` (at most 4 GiB long).
    #[cfg(feature = "loader")]
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

/// The compiler's names of a source's export types (rule LOOKUP-5).
#[derive(Clone, Copy)]
pub(crate) enum TypeNames {
    /// None recorded.
    None,
    /// The one symbol of a [`Symbol::new`](crate::Symbol::new) source has this name.
    Given(&'static str),
    /// A plugin's SDK functions, one per export, by the record's index.
    #[cfg_attr(not(feature = "loader"), allow(dead_code))]
    Plugin(&'static [TypeNameFn]),
}

/// What the records of one plugin (or one [`Symbol::new`](crate::Symbol::new)) share.
pub(crate) struct SymbolSource {
    /// The bytes the records' names and written types lie in. Every span of a record of this
    /// source is the UTF-8 of a `str` in them.
    bytes: &'static [u8],
    /// The plugin's identity.
    identity: &'static str,
    /// The compiler's names of the exports' types.
    type_names: TypeNames,
}

impl SymbolSource {
    /// The source of records decoded from `bytes`, or a byte-for-byte copy of them.
    ///
    /// # Safety
    ///
    /// Every span of a record given this source must have been taken from `bytes` (or a
    /// byte-for-byte copy) of the UTF-8 of a `str`; a `Plugin` type-name table must hold the
    /// SDK's functions of a plugin whose fingerprint matched this host's, never unmapped.
    pub(crate) const unsafe fn new(
        bytes: &'static [u8],
        identity: &'static str,
        type_names: TypeNames,
    ) -> SymbolSource {
        SymbolSource {
            bytes,
            identity,
            type_names,
        }
    }

    /// The source of records not yet given theirs: no bytes, no identity.
    #[cfg(feature = "loader")]
    pub(crate) const PENDING: SymbolSource = SymbolSource {
        bytes: &[],
        identity: "",
        type_names: TypeNames::None,
    };
}

/// A symbol's record. Its strings are read from its source's bytes.
#[derive(Clone, Copy)]
pub(crate) struct SymbolInfo {
    source: &'static SymbolSource,
    /// The address: the function itself, or a pointer into the plugin's storage.
    pub(crate) address: *mut (),
    /// The declared size.
    pub(crate) size: usize,
    /// The declared alignment.
    pub(crate) align: usize,
    name: Span,
    rust_type: Span,
    /// The record's position in its source's type-name table.
    index: u32,
    /// Function or variable.
    pub(crate) kind: SymbolKind,
}

// SAFETY: a `SymbolInfo` is an address plus static metadata. The address names code or storage
// that lives for the whole process; sending the address between threads is sound, and any access
// through it goes through `Symbol`'s `unsafe` accessors whose contracts cover synchronisation.
unsafe impl Send for SymbolInfo {}
// SAFETY: as for `Send`: sharing the address itself is sound; accesses are the caller's contract.
unsafe impl Sync for SymbolInfo {}

impl SymbolInfo {
    /// A record whose name and written type lie at `name` and `rust_type` in the bytes its
    /// source will have, `index`-th in the source's type-name table; its source and address are
    /// given later ([`SymbolInfo::place`]). Until then it has no strings: read none.
    #[cfg(feature = "loader")]
    pub(crate) const fn pending(
        name: Span,
        rust_type: Span,
        kind: SymbolKind,
        size: usize,
        align: usize,
        index: u32,
    ) -> SymbolInfo {
        SymbolInfo {
            source: &SymbolSource::PENDING,
            address: std::ptr::null_mut(),
            size,
            align,
            name,
            rust_type,
            index,
            kind,
        }
    }

    /// Gives this record its source and its address.
    ///
    /// # Safety
    ///
    /// The record's spans were taken from `source`'s bytes (or a byte-for-byte copy), and the
    /// address keeps [`Symbol::new`](crate::Symbol::new)'s contract.
    #[cfg(feature = "loader")]
    pub(crate) unsafe fn place(&mut self, source: &'static SymbolSource, address: *mut ()) {
        self.source = source;
        self.address = address;
    }

    /// The record of a symbol with its own source: `name` and `rust_type` copied into it, once,
    /// for the life of the process.
    pub(crate) fn owned(values: &SymbolValues) -> SymbolInfo {
        let mut text = String::with_capacity(values.name.len() + values.rust_type.len());
        text.push_str(values.name);
        text.push_str(values.rust_type);
        let bytes: &'static [u8] = Box::leak(text.into_boxed_str()).as_bytes();
        let type_names = match values.type_name {
            Some(name) => TypeNames::Given(name),
            None => TypeNames::None,
        };
        // SAFETY: the two spans below are taken from `bytes`, of the UTF-8 of the two strings
        // copied into it; `Given` is no plugin table.
        let source: &'static SymbolSource = Box::leak(Box::new(unsafe {
            SymbolSource::new(bytes, values.identity, type_names)
        }));
        let split = values.name.len() as u32;
        SymbolInfo {
            source,
            address: values.address,
            size: values.size,
            align: values.align,
            name: Span { at: 0, len: split },
            rust_type: Span {
                at: split,
                len: values.rust_type.len() as u32,
            },
            index: 0,
            kind: values.kind,
        }
    }

    /// The record's name, read from `bytes`.
    ///
    /// # Safety
    ///
    /// `bytes` must be the bytes its spans were taken from, or a byte-for-byte copy.
    #[cfg(feature = "loader")]
    pub(crate) unsafe fn name_in(self, bytes: &[u8]) -> &str {
        // SAFETY: the caller's contract is the span's.
        unsafe { self.name.text(bytes) }
    }

    /// The exported name.
    pub(crate) fn name(&self) -> &'static str {
        // SAFETY: the source's invariant: the span is of UTF-8 in its bytes.
        unsafe { self.name.text(self.source.bytes) }
    }

    /// The written type.
    pub(crate) fn rust_type(&self) -> &'static str {
        // SAFETY: as for the name.
        unsafe { self.rust_type.text(self.source.bytes) }
    }

    /// The identity of the plugin the symbol belongs to.
    pub(crate) fn identity(&self) -> &'static str {
        self.source.identity
    }

    /// The compiler's name of the declared type, if the plugin recorded it (LOOKUP-5).
    pub(crate) fn type_name(&self) -> Option<&'static str> {
        match self.source.type_names {
            TypeNames::None => None,
            TypeNames::Given(name) => Some(name),
            TypeNames::Plugin(fns) => fns.get(self.index as usize).and_then(|f| call(*f)),
        }
    }

    /// Everything the record says, as values.
    pub(crate) fn values(&self) -> SymbolValues {
        SymbolValues {
            identity: self.identity(),
            name: self.name(),
            kind: self.kind,
            rust_type: self.rust_type(),
            size: self.size,
            align: self.align,
            address: self.address,
            type_name: self.type_name(),
        }
    }
}

/// Two records are equal when every value they give is, wherever they keep them.
impl PartialEq for SymbolInfo {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other) || self.values() == other.values()
    }
}

impl Eq for SymbolInfo {}

impl fmt::Debug for SymbolInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Symbol")
            .field("name", &self.name())
            .field("kind", &self.kind)
            .field("rust_type", &self.rust_type())
            .field("type_name", &self.type_name())
            .field("address", &self.address)
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

// SAFETY: as for `SymbolInfo`: an address plus static strings.
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
mod tests {
    use super::*;

    #[test]
    fn records_are_equal_by_their_values_wherever_they_keep_them() {
        let bytes: &'static [u8] = b"..nameu8..";
        let text = std::str::from_utf8(bytes).unwrap();
        // SAFETY: the spans below are taken from `bytes`, of UTF-8.
        let source: &'static SymbolSource = Box::leak(Box::new(unsafe {
            SymbolSource::new(bytes, "p", TypeNames::None)
        }));
        let mut placed = SymbolInfo::pending(
            Span::of(bytes, &text[2..6]),
            Span::of(bytes, &text[6..8]),
            SymbolKind::Variable,
            1,
            1,
            0,
        );
        // SAFETY: as above; the address is only compared.
        unsafe { placed.place(source, 0x10 as *mut ()) };
        let values = SymbolValues {
            identity: "p",
            name: "name",
            kind: SymbolKind::Variable,
            rust_type: "u8",
            size: 1,
            align: 1,
            address: 0x10 as *mut (),
            type_name: None,
        };
        let owned = SymbolInfo::owned(&values);
        assert_eq!(placed.values(), values);
        assert_eq!(owned.values(), values);
        assert_eq!(placed, owned);
        let other = SymbolInfo::owned(&SymbolValues {
            type_name: Some("u8"),
            ..values
        });
        assert_ne!(placed, other);
        assert_eq!(other.type_name(), Some("u8"));
        assert_eq!(
            format!("{placed:?}"),
            "Symbol { name: \"name\", kind: Variable, rust_type: \"u8\", type_name: None, address: 0x10 }"
        );
    }
}
