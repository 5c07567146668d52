//! Writing a manifest at compile time: the SDK's const encoder.

use super::*;
use crate::contract::SymbolKind;
use crate::fingerprint::{BuildInfo, PLUGSPEC_PACKAGE, Package};

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
