//! A loaded plugin's symbol table (rules `LOOKUP-*`): built once at load, read-only after.
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

use crate::contract::{Symbol, SymbolInfo};

/// The exports of one plugin, by name.
pub(crate) struct SymbolTable {
    index: HashMap<&'static str, &'static SymbolInfo, FxBuildHasher>,
}

impl SymbolTable {
    /// The table of `symbols`, whose names are distinct (the manifest decoder refuses a
    /// duplicate, rule VER-7). Were a name repeated, the first record would win.
    pub(crate) fn new(symbols: Vec<SymbolInfo>) -> SymbolTable {
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
    fn the_first_of_a_repeated_name_wins() {
        let table = SymbolTable::new(vec![symbol("a", 1), symbol("a", 2)]);
        assert_eq!(table.get("a").unwrap().address() as usize, 1);
    }
}
