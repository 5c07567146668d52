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
//!
//! | concern | module |
//! |---|---|
//! | the constants and the identity rule | this file |
//! | writing a manifest at compile time ([`ManifestSpec::encode`]) | `encoding.rs` |
//! | reading and validating one ([`decode`], [`peek_version`]) | `decoding.rs` |
//! | the descriptor, the init entry and the host context | `descriptor.rs` |

mod decoding;
mod descriptor;
mod encoding;
#[cfg(test)]
mod tests;

pub(crate) use decoding::utf8;
#[cfg(feature = "loader")]
pub(crate) use decoding::{Decoded, Keep, decode_with};
pub use decoding::{Manifest, ManifestError, SymbolRecord, decode, peek_version};
pub use descriptor::{Export, HostContext, InitFn, Outcome, PluginDescriptor, TypeNameFn};
pub use encoding::{ManifestSpec, Storage, SymbolSpec};

/// The first eight bytes of every manifest and descriptor.
pub const MAGIC: [u8; 8] = *b"PLUGSPEC";
/// The manifest and descriptor layout this crate writes and reads.
pub const ABI_VERSION: u32 = 1;
/// The descriptor symbol's name, written once for both forms below.
macro_rules! descriptor_symbol {
    () => {
        "PLUGSPEC_PLUGIN"
    };
}

/// The one well-known symbol: the [`PluginDescriptor`].
pub const DESCRIPTOR_SYMBOL: &str = descriptor_symbol!();
/// [`DESCRIPTOR_SYMBOL`] NUL-terminated, as the dynamic loader looks it up (no copy per lookup).
#[cfg(all(feature = "loader", unix))]
pub(crate) const DESCRIPTOR_SYMBOL_C: &std::ffi::CStr =
    match std::ffi::CStr::from_bytes_with_nul(concat!(descriptor_symbol!(), "\0").as_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("the descriptor symbol's name holds no NUL byte"),
    };
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
