//! A loaded plugin's symbol table (rules `LOOKUP-*`): built once at load, read-only after.
//!
//! The decoder makes each manifest symbol's record as it reads it ([`SymbolInfo::pending`]:
//! where its name and written type lie in the manifest bytes, its kind, size and alignment; 56
//! bytes). Once the mapped library's manifest proved byte-for-byte the one decoded from the
//! file, each record is given, in place, the plugin's [`SymbolSource`] — the mapped manifest,
//! which lives for the process, its identity and its table of type-name functions — and its
//! address: the manifest is decoded once, and no name, type or record is copied.
//!
//! The records sit in one slice, in the manifest's order, kept for the life of the process (a
//! plugin is never unloaded), so that a lookup returns a [`Symbol`] that is one pointer to its
//! record. A hash map from name to record finds them: its buckets are a name and a pointer (24
//! bytes), and its hash is rustc-hash's Fx: unkeyed, because the table is fixed at load and its
//! keys are the plugin's own export names, so a keyed hash would buy nothing and cost every
//! lookup. A hit is one short hash, one probe and one name comparison; nothing allocates.

use std::collections::HashMap;

use rustc_hash::FxBuildHasher;

use crate::abi::{self, PluginDescriptor, SymbolRecord};
use crate::contract::Symbol;
use crate::symbol_info::{Span, SymbolInfo, SymbolSource, TypeNames};

/// The record the decoder makes of `record`, decoded from `bytes` (its strings lie inside
/// them), the `index`-th of its manifest.
pub(crate) fn pending(bytes: &[u8], index: usize, record: SymbolRecord<'_>) -> SymbolInfo {
    SymbolInfo::pending(
        Span::of(bytes, record.name),
        Span::of(bytes, record.rust_type),
        record.kind,
        record.size as usize,
        record.align as usize,
        index as u32,
    )
}

/// The exports of one plugin, by name.
pub(crate) struct SymbolTable {
    index: HashMap<&'static str, &'static SymbolInfo, FxBuildHasher>,
}

impl SymbolTable {
    /// The table of a mapped plugin's exports: `records`, made by [`pending`], given the
    /// addresses and type names of `descriptor`, which was checked to hold one export per record
    /// and no null address, and either no type names or one per export.
    ///
    /// # Safety
    ///
    /// `manifest` must be a byte-for-byte copy of the bytes `records` were decoded from (the
    /// mapped library's manifest, compared with the file's), and `descriptor` the plugin's, whose
    /// fingerprint matched this host's.
    pub(crate) unsafe fn build(
        descriptor: &'static PluginDescriptor,
        mut records: Vec<SymbolInfo>,
        manifest: &'static [u8],
        identity: &'static str,
    ) -> SymbolTable {
        // SAFETY: the records' spans were taken from the bytes `manifest` copies (the caller's
        // contract), of the UTF-8 the decoder checked; the type-name functions are the SDK's of
        // a plugin whose fingerprint matched, never unmapped.
        let source: &'static SymbolSource = Box::leak(Box::new(unsafe {
            SymbolSource::new(
                manifest,
                identity,
                TypeNames::Plugin(type_name_fns(descriptor)),
            )
        }));
        for (record, export) in records.iter_mut().zip(exports(descriptor)) {
            // SAFETY: `Symbol::new`'s contract, which the record must keep: the address is the
            // SDK's export for this manifest record (the descriptor matched the manifest read
            // from the file, whose fingerprint matched this host); the library is never
            // unmapped, so it stays valid for the process. The spans are of `manifest`, as above.
            unsafe { record.place(source, export.0.cast_mut()) };
        }
        SymbolTable::new(records)
    }

    /// The table of `symbols`, whose names are distinct (the manifest decoder refuses a
    /// duplicate, rule VER-7). Were a name repeated, the first record would win.
    fn new(symbols: Vec<SymbolInfo>) -> SymbolTable {
        // Kept for the process, as the plugin's code is: symbols point into it.
        let symbols: &'static [SymbolInfo] = Box::leak(symbols.into_boxed_slice());
        let mut index = HashMap::with_capacity_and_hasher(symbols.len(), FxBuildHasher);
        for symbol in symbols {
            index.entry(symbol.name()).or_insert(symbol);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::SymbolKind;

    fn symbol(name: &'static str, address: usize) -> SymbolInfo {
        // These symbols are only looked up and compared, never called or dereferenced.
        SymbolInfo::owned(&crate::symbol_info::SymbolValues {
            identity: "test",
            name,
            kind: SymbolKind::Variable,
            rust_type: "u8",
            size: 1,
            align: 1,
            address: address as *mut (),
            type_name: None,
        })
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
        let decoded = abi::decode_with(&bytes, |i, r| pending(&bytes, i, r)).unwrap();
        let copy: &'static [u8] = Box::leak(bytes.to_vec().into_boxed_slice());
        assert_ne!(copy.as_ptr(), bytes.as_ptr());
        // SAFETY: `copy` is a byte-for-byte copy of the bytes the records were decoded from.
        let source: &'static SymbolSource = Box::leak(Box::new(unsafe {
            SymbolSource::new(copy, "table.test", TypeNames::None)
        }));
        for (n, (mut record, spec)) in decoded.symbols.into_iter().zip(SYMBOLS).enumerate() {
            // SAFETY: as above; the address is only compared.
            unsafe { record.place(source, (0x1000 + n) as *mut ()) };
            assert_eq!(record.name(), spec.name);
            assert_eq!(record.rust_type(), spec.rust_type);
            assert!(copy.as_ptr_range().contains(&record.name().as_ptr()));
            assert_eq!((record.size, record.align), (spec.size, spec.align));
            assert_eq!(record.kind, spec.kind);
            assert_eq!(record.identity(), "table.test");
            assert_eq!(record.type_name(), None);
            assert_eq!(record.address as usize, 0x1000 + n);
        }
        assert_eq!(
            std::mem::size_of::<SymbolInfo>(),
            7 * std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn the_first_of_a_repeated_name_wins() {
        let table = SymbolTable::new(vec![symbol("a", 1), symbol("a", 2)]);
        assert_eq!(table.get("a").unwrap().address() as usize, 1);
    }
}
