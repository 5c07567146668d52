//! What a plugin exports at run time: the descriptor under the well-known symbol, the export
//! table's entries, the init entry and the host context it is given.

use super::*;

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
    /// Their number: 0 or [`PluginDescriptor::export_count`]. 0 means the plugin records no type
    /// names, whatever [`PluginDescriptor::type_names`] holds; a loader then compares written
    /// types (LOOKUP-5.d).
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
