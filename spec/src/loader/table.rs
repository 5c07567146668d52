//! A loaded plugin's symbol table (rules `LOOKUP-*`): built once at load, read-only after.
//!
//! The table is one hash table of 8-byte entries ([`NameAt`]: where a name lies in the manifest,
//! and the position of its symbol in the plugin's export table), filled while the manifest is
//! decoded: inserting each name is also where a repeated one is refused (VER-7). Once the mapped
//! library's manifest proved byte-for-byte the one decoded from the file, the table is given
//! the plugin's [`SymbolSource`]: the mapped manifest, which lives for the process, the identity,
//! the export table and the table of type-name functions. A lookup returns a [`Symbol`] made of
//! that source and the entry found; its kind, written type, size and alignment are read from the
//! manifest when asked for. The manifest is decoded once, and no name, type or record is copied.
//!
//! The table hashes names with foldhash, keyed per table: the names come from a file not yet
//! trusted when they are inserted, and an unkeyed hash would let a crafted manifest make every
//! insert collide. A hit is one short hash, one probe and one comparison of the name in the
//! manifest; nothing allocates.

use std::hash::{BuildHasher, Hasher};

use foldhash::fast::RandomState;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;

use crate::abi::{self, Keep, PluginDescriptor, SymbolRecord};
use crate::contract::Symbol;
use crate::symbol_info::{NameAt, SymbolInfo, SymbolSource};

/// The reference loader's keeper of a manifest's symbols ([`abi::decode_with`]): each name put
/// in the index; nothing else is kept.
pub(crate) struct Pending<'a> {
    /// The manifest being decoded.
    pub(crate) bytes: &'a [u8],
    /// The names so far.
    pub(crate) names: NameIndex,
}

impl<'a> Keep<'a> for Pending<'a> {
    type Symbol = ();

    fn count(&mut self, count: usize) {
        self.names = NameIndex::with_capacity(count);
    }

    #[inline]
    fn name(&mut self, index: usize, name: &'a str) -> bool {
        self.names.insert(self.bytes, name, index)
    }

    #[inline]
    fn keep(&mut self, _: usize, _: SymbolRecord<'a>) {}
}

/// A manifest's symbol names, by where they lie in it.
pub(crate) struct NameIndex {
    names: HashTable<NameAt>,
    keys: RandomState,
}

impl NameIndex {
    /// An empty index with room for `n` names.
    pub(crate) fn with_capacity(n: usize) -> NameIndex {
        NameIndex {
            names: HashTable::with_capacity(n),
            keys: RandomState::default(),
        }
    }

    /// The hash of a name's bytes.
    #[inline]
    fn hash(keys: &RandomState, name: &[u8]) -> u64 {
        let mut hasher = keys.build_hasher();
        hasher.write(name);
        hasher.finish()
    }

    /// Adds `name`, a string inside the manifest `bytes` (within the cap,
    /// [`abi::MAX_MANIFEST_LEN`]), the `index`-th of the manifest's symbols; false if a name
    /// equal to it was added before.
    pub(crate) fn insert(&mut self, bytes: &[u8], name: &str, index: usize) -> bool {
        let keys = &self.keys;
        let entry = self.names.entry(
            NameIndex::hash(keys, name.as_bytes()),
            |n| n.bytes(bytes) == name.as_bytes(),
            |n| NameIndex::hash(keys, n.bytes(bytes)),
        );
        match entry {
            Entry::Occupied(_) => false,
            Entry::Vacant(vacant) => {
                let at = name.as_ptr() as usize - bytes.as_ptr() as usize;
                vacant.insert(NameAt::new(at, name.len(), index));
                true
            }
        }
    }
}

/// The exports of one plugin, by name.
pub(crate) struct SymbolTable {
    names: NameIndex,
    /// The plugin's manifest, which every name lies inside.
    manifest: &'static [u8],
    /// What the plugin's symbols share.
    source: &'static SymbolSource,
}

impl SymbolTable {
    /// The table of a mapped plugin's exports: `names`, filled while its manifest was decoded,
    /// given the plugin's source: `manifest`, `identity`, and the addresses and type names of
    /// `descriptor`, which was checked to hold one export per name and no null address, and
    /// either no type names or one per export.
    ///
    /// # Safety
    ///
    /// `manifest` must be a byte-for-byte copy of the bytes the decoder filled `names` from, and
    /// `descriptor` the plugin's, whose fingerprint matched this host's.
    pub(crate) unsafe fn build(
        descriptor: &'static PluginDescriptor,
        names: NameIndex,
        manifest: &'static [u8],
        identity: &'static str,
    ) -> SymbolTable {
        // SAFETY: every name lies where the decoder found one in the bytes `manifest` copies (the
        // caller's contract), with an index below the export count, which the descriptor's
        // tables match; they are the SDK's of a plugin whose fingerprint matched, never
        // unmapped, and its addresses are those of the manifest's exports.
        let source = unsafe {
            SymbolSource::plugin(
                manifest,
                identity,
                exports(descriptor),
                type_name_fns(descriptor),
            )
        };
        SymbolTable {
            names,
            manifest,
            source: Box::leak(Box::new(source)),
        }
    }

    /// The symbol called `name`, if the plugin exports one.
    #[inline(always)]
    pub(crate) fn get(&self, name: &str) -> Option<Symbol> {
        let hash = NameIndex::hash(&self.names.keys, name.as_bytes());
        let found = self.names.names.find(hash, |n| {
            // SAFETY: every name of the table lies inside its manifest (`build`'s contract).
            let bytes = unsafe { n.bytes_unchecked(self.manifest) };
            bytes == name.as_bytes()
        })?;
        // SAFETY: the decoder found this name in the manifest the source holds (`build`).
        Some(Symbol::from_info(unsafe {
            SymbolInfo::new(self.source, *found)
        }))
    }

    /// How many symbols the plugin exports.
    pub(crate) fn len(&self) -> usize {
        self.names.names.len()
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

    /// The table of `names`, encoded as a manifest encodes strings (each after its length), as
    /// the loader builds it: each name indexed where it lies in the bytes, the `i`-th at address
    /// `0x1000 + i`. `None` if a name is repeated.
    fn table_of(names: &[&str]) -> Option<SymbolTable> {
        let mut bytes = Vec::new();
        let mut at = Vec::new();
        for name in names {
            bytes.extend_from_slice(&(name.len() as u32).to_le_bytes());
            at.push(bytes.len());
            bytes.extend_from_slice(name.as_bytes());
        }
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        let mut index = NameIndex::with_capacity(names.len());
        for (i, (&start, name)) in at.iter().zip(names).enumerate() {
            let name = std::str::from_utf8(&bytes[start..start + name.len()]).unwrap();
            if !index.insert(bytes, name, i) {
                return None;
            }
        }
        let exports: Vec<abi::Export> = (0..names.len())
            .map(|i| abi::Export((0x1000 + i) as *const ()))
            .collect();
        // SAFETY: every name lies inside `bytes`, UTF-8, with an index below the export count;
        // these symbols are only looked up and compared, never called or read.
        let source = unsafe {
            SymbolSource::plugin(bytes, "test", Box::leak(exports.into_boxed_slice()), &[])
        };
        Some(SymbolTable {
            names: index,
            manifest: bytes,
            source: Box::leak(Box::new(source)),
        })
    }

    #[test]
    fn every_name_finds_its_own_symbol_and_others_none() {
        let names: Vec<String> = (0..1000).map(|i| format!("sym_{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let table = table_of(&names).unwrap();
        assert_eq!(table.len(), 1000);
        for (i, name) in names.iter().enumerate() {
            let found = table.get(name).unwrap();
            assert_eq!(found.name(), *name);
            assert_eq!(found.address() as usize, 0x1000 + i);
        }
        for missing in [
            "",
            "sym_",
            "sym_1000",
            "SYM_1",
            "sym_1 ",
            "ym_1",
            "sym_10000",
        ] {
            assert!(table.get(missing).is_none(), "{missing:?}");
        }
    }

    #[test]
    fn a_repeated_name_is_refused_among_few_names_and_many() {
        for n in [1, 2, 16, 17, 1_000] {
            let names: Vec<String> = (0..n).map(|i| format!("n{i}")).collect();
            let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
            assert!(table_of(&names).is_some(), "{n} distinct names");
            names.push(names[n / 2]);
            assert!(
                table_of(&names).is_none(),
                "{} again, among {n}",
                names[n / 2]
            );
        }
        // A name that another starts with, or ends with, is another name.
        let table = table_of(&["ab", "a", "abc", "b", "bc"]).unwrap();
        for (i, name) in ["ab", "a", "abc", "b", "bc"].iter().enumerate() {
            assert_eq!(table.get(name).unwrap().address() as usize, 0x1000 + i);
        }
    }

    #[test]
    fn names_indexed_while_decoding_are_found_in_a_copy_of_the_manifest() {
        use crate::symbol_info::tests::{SPEC, SYMBOLS};
        const LEN: usize = SPEC.encoded_len();
        let bytes = SPEC.encode::<LEN>();
        let mut keeper = Pending {
            bytes: &bytes,
            names: NameIndex::with_capacity(0),
        };
        let decoded = abi::decode_with(&bytes, &mut keeper).unwrap();
        assert_eq!(decoded.symbols.len(), 2);
        let copy: &'static [u8] = Box::leak(bytes.to_vec().into_boxed_slice());
        let exports: &'static [abi::Export] = Box::leak(Box::new([
            abi::Export(0x10 as *const ()),
            abi::Export(0x20 as *const ()),
        ]));
        // SAFETY: `copy` is a byte-for-byte copy of the bytes the names were indexed from; the
        // addresses are only compared.
        let source = unsafe { SymbolSource::plugin(copy, "p", exports, &[]) };
        let table = SymbolTable {
            names: keeper.names,
            manifest: copy,
            source: Box::leak(Box::new(source)),
        };
        for (n, spec) in SYMBOLS.iter().enumerate() {
            let symbol = table.get(spec.name).unwrap();
            assert_eq!(symbol.name(), spec.name);
            assert_eq!(symbol.rust_type(), spec.rust_type);
            assert!(copy.as_ptr_range().contains(&symbol.name().as_ptr()));
            assert!(copy.as_ptr_range().contains(&symbol.rust_type().as_ptr()));
            assert_eq!((symbol.size(), symbol.align()), (spec.size, spec.align));
            assert_eq!(symbol.kind(), spec.kind);
            assert_eq!(symbol.plugin_identity(), "p");
            assert_eq!(symbol.type_name(), None);
            assert_eq!(symbol.address() as usize, 0x10 * (n + 1));
        }
        assert_eq!(table.len(), 2);
        assert!(table.get("ad").is_none());
    }
}
