//! Mapping a library and finding its descriptor, never unloading it (rules `UNLOAD-*`,
//! `LOOKUP-*` on isolation).
//!
//! The library is opened with `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` and the handle is leaked:
//! `RTLD_LOCAL` keeps same-named symbols of two plugins apart (a `RTLD_GLOBAL` plugin's
//! variables would interpose on later plugins' own references), `RTLD_NODELETE` keeps the image
//! mapped even if something else calls `dlclose`, and the leak means this loader never does.

use std::path::Path;

use crate::abi::PluginDescriptor;
use crate::error::Error;

/// A mapped library that is never unmapped.
pub(crate) struct Mapped {
    #[cfg(unix)]
    library: &'static libloading::os::unix::Library,
}

/// Maps the library at `canonical`. No plugspec code in it runs here (only the C runtime's and
/// the plugin's ELF constructors, which the SDK never writes).
///
/// `nodelete` is always true except under the deliberate fault `NoNodelete`.
#[cfg(unix)]
pub(crate) fn map(given: &Path, canonical: &Path, nodelete: bool) -> Result<Mapped, Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    let flags = RTLD_NOW | RTLD_LOCAL | if nodelete { libc::RTLD_NODELETE } else { 0 };
    // SAFETY: mapping a library runs its constructors. The file was checked beforehand to carry a
    // plugspec manifest matching this host's fingerprint, so it is a plugin built for this host
    // by the SDK, which writes no constructors; that is the contract of loading plugins at all.
    let library = unsafe { Library::open(Some(canonical), flags) }.map_err(|e| {
        Error::io(
            given,
            format_args!("the dynamic loader refused it: {}", error_chain(&e)),
        )
    })?;
    Ok(Mapped {
        library: Box::leak(Box::new(library)),
    })
}

/// Maps nothing: this platform does not load plugins (the loader refuses before getting here).
#[cfg(not(unix))]
pub(crate) fn map(given: &Path, _canonical: &Path, _nodelete: bool) -> Result<Mapped, Error> {
    let platform = crate::platform::current();
    Err(Error::unsupported_platform(
        Some(given),
        platform.target,
        platform.reason(),
    ))
}

impl Mapped {
    /// The descriptor under the well-known symbol, if the library exports it.
    pub(crate) fn descriptor(&self) -> Option<&'static PluginDescriptor> {
        #[cfg(unix)]
        {
            let name = format!("{}\0", crate::abi::DESCRIPTOR_SYMBOL);
            // SAFETY: the symbol is looked up as a data address (`*const PluginDescriptor`), which
            // is what the SDK exports under this name; the address is only dereferenced after the
            // caller checks the descriptor's magic and version.
            let symbol =
                unsafe { self.library.get::<*const PluginDescriptor>(name.as_bytes()) }.ok()?;
            let address: *const PluginDescriptor = *symbol;
            // SAFETY: the library is never unmapped, so the descriptor lives for the process; the
            // SDK defines it as an immutable `static` of this `repr(C)` type.
            unsafe { address.as_ref() }
        }
        #[cfg(not(unix))]
        {
            None
        }
    }
}

#[cfg(unix)]
fn error_chain(e: &dyn std::error::Error) -> String {
    // libloading's Display says only "dlopen failed"; dlerror's text is the source.
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = s.to_string();
        source = s.source();
    }
    text
}
