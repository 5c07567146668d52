//! Running a plugin's init: once, synchronously, on the caller's thread, panics caught (rules
//! `INIT-*`).
//!
//! Init is the descriptor's explicit entry, called after the library is mapped and checked, never
//! an ELF constructor: a constructor runs under the dynamic loader's lock, where spawning and
//! joining a thread deadlocks. The plugin gets a [`HostContext`] through which its init can open
//! other plugins with this same loader.

use std::path::Path;

use crate::abi::{HostContext, InitFn, Outcome};
use crate::contract::Loader;
use crate::error::{Error, ErrorKind};

use super::ReferenceLoader;

/// Calls `entry`; a panic inside it becomes [`ErrorKind::InitPanicked`] with its message.
/// Without a loader (only under a deliberate fault) the plugin's init cannot open others.
pub(crate) fn run(
    loader: Option<&ReferenceLoader>,
    given: &Path,
    entry: InitFn,
) -> Result<(), Error> {
    let context = HostContext {
        abi_version: crate::abi::ABI_VERSION,
        data: loader.map_or(std::ptr::null(), |l| (l as *const ReferenceLoader).cast()),
        open: loader.map(|_| host_open as _),
    };
    let mut outcome = Outcome::default();
    // INIT-2: init runs here, inside `open`, on the caller's thread.
    // SAFETY: `entry` is the init entry of a mapped plugin whose manifest and descriptor were
    // checked against this host; the SDK's init catches panics and writes only into `outcome`.
    // `context` and `outcome` outlive the call.
    unsafe { entry(&context, &mut outcome) };
    match outcome.status {
        0 => Ok(()),
        // INIT-5: a panic in init is an error, not a crash.
        _ => Err(Error::init_panicked(given, outcome.message())),
    }
}

/// The host's `open` callback given to plugins' inits.
///
/// # Safety
/// `data` is the `ReferenceLoader` that made the context (alive for the init call), `(ptr, len)`
/// a readable byte range, `out` valid for writes.
unsafe extern "C" fn host_open(data: *const (), ptr: *const u8, len: usize, out: *mut Outcome) {
    // SAFETY: per this function's contract, `out` is valid for writes.
    let Some(out) = (unsafe { out.as_mut() }) else {
        return;
    };
    if data.is_null() || (ptr.is_null() && len != 0) {
        out.set(
            1 + kind_index(ErrorKind::Io),
            "invalid host callback arguments",
        );
        return;
    }
    // SAFETY: per this function's contract, `data` is the live `ReferenceLoader`.
    let loader = unsafe { &*data.cast::<ReferenceLoader>() };
    let bytes = if len == 0 {
        &[][..]
    } else {
        // SAFETY: per this function's contract, `(ptr, len)` is readable.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    };
    // INIT-7: init may open other plugins, through this same loader.
    let result = std::panic::catch_unwind(|| match std::str::from_utf8(bytes) {
        Ok(path) => loader.open(Path::new(path)).map(|_| ()),
        Err(_) => Err(Error::not_found(Path::new(""), "the path is not UTF-8")),
    });
    match result {
        Ok(Ok(())) => out.set(0, ""),
        Ok(Err(e)) => out.set(1 + kind_index(e.kind()), &e.to_string()),
        Err(_) => out.set(1 + kind_index(ErrorKind::Io), "the host's loader panicked"),
    }
}

fn kind_index(kind: ErrorKind) -> u32 {
    ErrorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0) as u32
}
