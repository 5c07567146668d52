//! A loaded plugin's symbol table (rules `LOOKUP-*`): built once at load, read-only after.
//!
//! Until the library is mapped, the loader keeps of each manifest symbol only a [`Record`]:
//! where its strings lie in the manifest bytes, and its numbers (28 bytes). Once the mapped
//! library's manifest proved byte-for-byte the one decoded from the file, the table takes its
//! strings from the mapped copy, which lives for the process, at those positions: the manifest
//! is decoded once, and nothing is copied or decoded again.
//!
//! The symbols' records sit in one slice, in the manifest's order, kept for the life of the
//! process (a plugin is never unloaded), so that a lookup returns a [`Symbol`] that is one
//! pointer to its record. A hash map from name to record finds them: its buckets are a name and
//! a pointer (24 bytes), and its hash is rustc-hash's Fx: unkeyed, because the table is fixed at
//! load and its keys are the plugin's own export names, so a keyed hash would buy nothing and
//! cost every lookup. A hit is one short hash, one probe and one name comparison; nothing
//! allocates.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use crate::abi::{self, PluginDescriptor, SymbolRecord};
use crate::contract::{Symbol, SymbolInfo, SymbolKind};

/// Where a string lies in the manifest bytes: offset and length (a manifest is at most 4 MiB,
/// rule VER-11).
#[derive(Clone, Copy)]
struct Span {
    at: u32,
    len: u32,
}

impl Span {
    /// The span of `text`, which lies inside `bytes`.
    fn of(bytes: &[u8], text: &str) -> Span {
        Span {
            at: (text.as_ptr() as usize - bytes.as_ptr() as usize) as u32,
            len: text.len() as u32,
        }
    }

    /// The text at this span of `bytes`.
    ///
    /// # Safety
    ///
    /// `bytes` must be the bytes this span was taken from by [`Record::of`], or a byte-for-byte
    /// copy of them: the span's bytes are then the UTF-8 the decoder checked.
    unsafe fn text(self, bytes: &[u8]) -> &str {
        let at = self.at as usize;
        // SAFETY: the caller's contract: the decoder checked these bytes are UTF-8.
        unsafe { std::str::from_utf8_unchecked(&bytes[at..at + self.len as usize]) }
    }
}

/// One manifest symbol as kept between decoding and mapping: its strings as positions in the
/// manifest bytes, its kind, size and alignment.
#[derive(Clone, Copy)]
pub(crate) struct Record {
    name: Span,
    rust_type: Span,
    size: u32,
    align: u32,
    kind: SymbolKind,
}

impl Record {
    /// What the loader keeps of `record`, decoded from `bytes` (its strings lie inside them).
    pub(crate) fn of(bytes: &[u8], record: SymbolRecord<'_>) -> Record {
        Record {
            name: Span::of(bytes, record.name),
            rust_type: Span::of(bytes, record.rust_type),
            size: record.size,
            align: record.align,
            kind: record.kind,
        }
    }

    /// The symbol's name.
    ///
    /// # Safety
    ///
    /// `bytes` must be the manifest bytes this record was decoded from, or a byte-for-byte copy.
    pub(crate) unsafe fn name(self, bytes: &[u8]) -> &str {
        // SAFETY: the caller's contract is the span's.
        unsafe { self.name.text(bytes) }
    }
}

/// The exports of one plugin, by name.
pub(crate) struct SymbolTable {
    index: HashMap<&'static str, &'static SymbolInfo, FxBuildHasher>,
}

impl SymbolTable {
    /// The table of a mapped plugin's exports: `records`, with the addresses and type names of
    /// `descriptor`, which was checked to hold one export per record and no null address, and
    /// either no type names or one per export.
    ///
    /// # Safety
    ///
    /// `manifest` must be a byte-for-byte copy of the bytes `records` were decoded from (the
    /// mapped library's manifest, compared with the file's).
    pub(crate) unsafe fn build(
        descriptor: &'static PluginDescriptor,
        records: &[Record],
        manifest: &'static [u8],
        identity: &'static str,
    ) -> SymbolTable {
        let exports = exports(descriptor);
        let type_names = type_name_fns(descriptor);
        let mut symbols = Vec::with_capacity(records.len());
        for (i, (record, export)) in records.iter().zip(exports).enumerate() {
            // `Symbol::new`'s safety contract, which the record must keep: the address is the
            // SDK's export for this manifest record (the descriptor matched the manifest read
            // from the file, whose fingerprint matched this host); the library is never
            // unmapped, so it stays valid for the process. The type name is the SDK's
            // `type_name` of this export's declared type, computed by the plugin's compiler,
            // which the fingerprint pinned to this one.
            symbols.push(SymbolInfo {
                // SAFETY: `manifest` is a byte-for-byte copy of the bytes `records` were decoded
                // from (the caller's contract).
                name: unsafe { record.name.text(manifest) },
                kind: record.kind,
                // SAFETY: as for the name.
                rust_type: unsafe { record.rust_type.text(manifest) },
                size: record.size as usize,
                align: record.align as usize,
                address: export.0.cast_mut(),
                identity,
                type_name: type_names.get(i).and_then(|f| type_name(*f)),
            });
        }
        SymbolTable::new(symbols)
    }

    /// The table of `symbols`, whose names are distinct (the manifest decoder refuses a
    /// duplicate, rule VER-7). Were a name repeated, the first record would win.
    fn new(symbols: Vec<SymbolInfo>) -> SymbolTable {
        // Kept for the process, as the plugin's code is: symbols point into it.
        let symbols: &'static [SymbolInfo] = Box::leak(symbols.into_boxed_slice());
        let mut index = HashMap::with_capacity_and_hasher(symbols.len(), FxBuildHasher);
        for symbol in symbols {
            index.entry(symbol.name).or_insert(symbol);
        }
        SymbolTable { index }
    }

    /// The symbol called `name`, if the plugin exports one.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> Option<Symbol> {
        self.index.get(name).copied().map(Symbol::from_static)
    }

    /// How many symbols the plugin exports.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

/// The descriptor's export table.
pub(crate) fn exports(descriptor: &'static PluginDescriptor) -> &'static [abi::Export] {
    if descriptor.export_count == 0 {
        return &[];
    }
    // SAFETY: checked when mapping: the pointer is non-null and the table has one entry per
    // manifest symbol; it is an immutable static of the never-unmapped library.
    unsafe { std::slice::from_raw_parts(descriptor.exports, descriptor.export_count) }
}

/// The descriptor's functions naming the exports' types, one per export, or none (LOOKUP-5).
fn type_name_fns(descriptor: &'static PluginDescriptor) -> &'static [abi::TypeNameFn] {
    if descriptor.type_name_count == 0 {
        return &[];
    }
    // SAFETY: checked when mapping: non-null, one entry per export; an immutable static of the
    // never-unmapped library.
    unsafe { std::slice::from_raw_parts(descriptor.type_names, descriptor.type_name_count) }
}

/// The compiler's name of one export's type, from its SDK function.
fn type_name(f: abi::TypeNameFn) -> Option<&'static str> {
    let mut len = 0usize;
    // SAFETY: the SDK's `type_name_of` (the plugin's fingerprint matched this host's, so its
    // plugspec is this one): it writes the length and returns a pointer to that many bytes of a
    // `'static` string in the never-unmapped library.
    let bytes = unsafe {
        let ptr = f(&mut len);
        if ptr.is_null() {
            return None;
        }
        std::slice::from_raw_parts(ptr, len)
    };
    abi::utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::SymbolKind;

    fn symbol(name: &'static str, address: usize) -> SymbolInfo {
        // These symbols are only looked up and compared, never called or dereferenced.
        SymbolInfo {
            name,
            kind: SymbolKind::Variable,
            rust_type: "u8",
            size: 1,
            align: 1,
            address: address as *mut (),
            identity: "test",
            type_name: None,
        }
    }

    #[test]
    fn every_name_finds_its_own_symbol_and_others_none() {
        let names: Vec<&'static str> = (0..1000)
            .map(|i| &*Box::leak(format!("sym_{i}").into_boxed_str()))
            .collect();
        let table = SymbolTable::new(
            names
                .iter()
                .enumerate()
                .map(|(i, n)| symbol(n, 0x1000 + i))
                .collect(),
        );
        assert_eq!(table.len(), 1000);
        for (i, name) in names.iter().enumerate() {
            let found = table.get(name).unwrap();
            assert_eq!(found.name(), *name);
            assert_eq!(found.address() as usize, 0x1000 + i);
        }
        for missing in ["", "sym_", "sym_1000", "SYM_1", "sym_1 "] {
            assert!(table.get(missing).is_none(), "{missing:?}");
        }
    }

    #[test]
    fn records_read_their_strings_from_a_copy_of_the_bytes_they_were_decoded_from() {
        use crate::abi::{ManifestSpec, Storage, SymbolSpec};
        const SYMBOLS: &[SymbolSpec] = &[
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
        const SPEC: ManifestSpec = ManifestSpec {
            identity: "table.test",
            build: crate::fingerprint::THIS_BUILD,
            api_version: None,
            build_id: None,
            packages: &[],
            symbols: SYMBOLS,
            has_init: false,
        };
        const LEN: usize = SPEC.encoded_len();
        let bytes = SPEC.encode::<LEN>();
        let decoded = abi::decode_with(&bytes, |r| Record::of(&bytes, r)).unwrap();
        let copy = bytes.to_vec();
        assert_ne!(copy.as_ptr(), bytes.as_ptr());
        for (record, spec) in decoded.symbols.iter().zip(SYMBOLS) {
            // SAFETY: `copy` is a byte-for-byte copy of the bytes the records were decoded from.
            let (name, rust_type) = unsafe { (record.name(&copy), record.rust_type.text(&copy)) };
            assert_eq!(name, spec.name);
            assert_eq!(rust_type, spec.rust_type);
            assert!(std::ptr::eq(name.as_ptr(), &copy[record.name.at as usize]));
            assert_eq!(
                (record.size as usize, record.align as usize),
                (spec.size, spec.align)
            );
            assert_eq!(record.kind, spec.kind);
        }
    }

    #[test]
    fn the_first_of_a_repeated_name_wins() {
        let table = SymbolTable::new(vec![symbol("a", 1), symbol("a", 2)]);
        assert_eq!(table.get("a").unwrap().address() as usize, 1);
    }
}
