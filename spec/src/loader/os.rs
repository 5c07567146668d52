//! Mapping a library and finding its descriptor, never unloading it (rules `UNLOAD-*`,
//! `LOOKUP-*` on isolation).
//!
//! The library is opened with `RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE` and the handle is leaked:
//! `RTLD_LOCAL` keeps same-named symbols of two plugins apart (a `RTLD_GLOBAL` plugin's
//! variables would interpose on later plugins' own references), `RTLD_NODELETE` keeps the image
//! mapped even if something else calls `dlclose`, and the leak means this loader never does.

//!
//! The library mapped is the file that was checked (OPEN-8). Linux maps the checked descriptor
//! itself, through `dlopen("/proc/self/fd/N")`; FreeBSD through `fdlopen`. Nothing renamed over
//! the path in between can be mapped there, except for a plugin whose rpath names `$ORIGIN`: the
//! dynamic loader takes `$ORIGIN` from the name it maps, so on Linux such a plugin is mapped by
//! its canonical path (OPEN-10.b). macOS has no way to map a descriptor: the library is
//! mapped by its canonical path, and afterwards the image holding the descriptor is compared
//! (device and inode) with the checked file, refusing on a difference: that detects a swap, after
//! the swapped-in library's constructors ran.

use std::fs::{File, Metadata};
use std::path::Path;

use crate::abi::PluginDescriptor;
use crate::error::Error;

/// Appended to "no descriptor" refusals where a swap is only detected, not prevented.
#[cfg(target_os = "macos")]
pub(crate) const SWAP_HINT: &str = " (or the file was replaced while it was being loaded)";
/// Appended to "no descriptor" refusals where a swap is only detected, not prevented.
#[cfg(not(target_os = "macos"))]
pub(crate) const SWAP_HINT: &str = "";

/// A mapped library that is never unmapped.
pub(crate) struct Mapped {
    #[cfg(unix)]
    library: &'static libloading::os::unix::Library,
}

/// Maps the library `file` (opened at `canonical`, checked; `meta` is its metadata). No plugspec
/// code in it runs here (only the C runtime's and the plugin's ELF constructors, which the SDK
/// never writes). The descriptor is handed over: where the dynamic loader maps it by its name,
/// it is kept open for good (see `map_file`), else closed.
///
/// `nodelete` is always true except under the deliberate fault `NoNodelete`; `origin` says that
/// the plugin's rpath names `$ORIGIN` ([`super::read::FileFacts::names_origin`]), so that it is
/// mapped by a name whose directory is the plugin's (false under the fault `IgnoreOrigin`).
#[cfg(unix)]
pub(crate) fn map(
    given: &Path,
    canonical: &Path,
    file: File,
    meta: &Metadata,
    nodelete: bool,
    origin: bool,
) -> Result<Mapped, Error> {
    use libloading::os::unix::{RTLD_LOCAL, RTLD_NOW};
    let flags = RTLD_NOW | RTLD_LOCAL | if nodelete { libc::RTLD_NODELETE } else { 0 };
    let library = map_file(canonical, file, meta, flags, nodelete, origin)
        .map_err(|e| Error::io(given, format_args!("the dynamic loader refused it: {e}")))?;
    Ok(Mapped { library })
}

/// Linux: `dlopen` of the descriptor's `/proc/self/fd` name, which the kernel resolves to the
/// open file itself, not to whatever the path names now.
///
/// The dynamic loader remembers every name it mapped an image under and answers a later
/// `dlopen` of the same name with that image without opening anything, so a descriptor's name
/// must never name another file later: the descriptor of every image mapped this way stays open
/// for the life of the process (one per mapped file: a file already mapped is found by device
/// and inode, which the open descriptor keeps from being reused, and not mapped again). That
/// descriptor also keeps the image's name readable (backtraces read debug information through
/// it). It is `file` itself, handed over by the caller (nothing reads through it afterwards), so
/// no duplicate is made; it is closed only when it is not mapped by its name.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn map_file(
    canonical: &Path,
    file: File,
    meta: &Metadata,
    flags: libc::c_int,
    nodelete: bool,
    origin: bool,
) -> Result<&'static libloading::os::unix::Library, String> {
    use std::collections::HashMap;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::sync::{Mutex, OnceLock};

    use libloading::os::unix::Library;

    // Keyed by device and inode (numbers the kernel chose): an unkeyed hash.
    type Images = Mutex<HashMap<(u64, u64), &'static Library, crate::loader::Unkeyed>>;
    static IMAGES: OnceLock<Images> = OnceLock::new();

    // OPEN-10.b: the dynamic loader takes `$ORIGIN` from the name it maps a library under, and
    // a descriptor's name would make it `/proc/self/fd`, so a plugin whose own needed libraries
    // are found relative to its directory (`origin`) is mapped by its canonical path, like a
    // plugin on a system without /proc (OPEN-8.a: the window stays open; a swapped-in file is
    // refused only when its manifest or descriptor differs from the checked one). Whether
    // `/proc/self/fd` is there was learnt when the path was resolved.
    if origin || super::resolve::fd_directory().is_none() {
        // SAFETY: as for every mapping (see `map`).
        let library =
            unsafe { Library::open(Some(canonical), flags) }.map_err(|e| error_chain(&e))?;
        return Ok(Box::leak(Box::new(library)));
    }
    let id = (meta.dev(), meta.ino());
    let images = IMAGES.get_or_init(Default::default);
    if nodelete && let Some(library) = images.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return Ok(*library);
    }
    // NUL-terminated on the stack: the dynamic loader is handed it without a copy.
    let mut name = std::io::Cursor::new([0u8; 32]);
    write!(name, "/proc/self/fd/{}\0", file.as_raw_fd())
        .map_err(|e| format!("cannot name its descriptor: {e}"))?;
    let written = name.position() as usize;
    let name = std::ffi::OsStr::from_bytes(&name.get_ref()[..written]);
    // SAFETY: as for every mapping (see `map`). The name is the checked file's descriptor.
    let library = unsafe { Library::open(Some(name), flags) }.map_err(|e| error_chain(&e))?;
    let library: &'static Library = Box::leak(Box::new(library));
    // The dynamic loader now knows the image by this name: the descriptor is never closed.
    std::mem::forget(file);
    if nodelete {
        images
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(id)
            .or_insert(library);
    }
    Ok(library)
}

/// FreeBSD: `fdlopen` maps the descriptor itself.
#[cfg(target_os = "freebsd")]
fn map_file(
    _canonical: &Path,
    file: File,
    _meta: &Metadata,
    flags: libc::c_int,
    _nodelete: bool,
    _origin: bool,
) -> Result<&'static libloading::os::unix::Library, String> {
    use std::os::fd::AsRawFd;
    unsafe extern "C" {
        fn fdlopen(fd: libc::c_int, mode: libc::c_int) -> *mut libc::c_void;
    }
    // SAFETY: as for every mapping (see `map`); `fdlopen` duplicates the descriptor it is given
    // and leaves `file`'s open.
    let handle = unsafe { fdlopen(file.as_raw_fd(), flags) };
    if handle.is_null() {
        // SAFETY: `dlerror` returns null or a NUL-terminated message owned by the dynamic loader,
        // read before any other `dl*` call on this thread.
        let message = unsafe { libc::dlerror() };
        return Err(if message.is_null() {
            "fdlopen failed".to_string()
        } else {
            // SAFETY: see above.
            unsafe { std::ffi::CStr::from_ptr(message) }
                .to_string_lossy()
                .into_owned()
        });
    }
    // SAFETY: `handle` is a live handle from `fdlopen`, owned from here on (and never closed).
    let library = unsafe { libloading::os::unix::Library::from_raw(handle) };
    Ok(Box::leak(Box::new(library)))
}

/// Elsewhere (macOS): by the canonical path; [`check_image`] compares the result afterwards.
#[cfg(all(
    unix,
    not(any(target_os = "linux", target_os = "android", target_os = "freebsd"))
))]
fn map_file(
    canonical: &Path,
    _file: File,
    _meta: &Metadata,
    flags: libc::c_int,
    _nodelete: bool,
    _origin: bool,
) -> Result<&'static libloading::os::unix::Library, String> {
    // SAFETY: as for every mapping (see `map`).
    let library = unsafe { libloading::os::unix::Library::open(Some(canonical), flags) }
        .map_err(|e| error_chain(&e))?;
    Ok(Box::leak(Box::new(library)))
}

/// OPEN-8 where the checked descriptor could not be mapped itself (macOS): the image that holds
/// `address` (its plugspec descriptor) must be the checked file (`meta`), same device and inode; a
/// difference means the path was swapped between the check and the mapping, and is refused.
/// Where the descriptor itself was mapped this checks nothing.
#[cfg(target_os = "macos")]
pub(crate) fn check_image(
    given: &Path,
    canonical: &Path,
    meta: &Metadata,
    address: *const (),
) -> Result<(), Error> {
    use std::os::unix::fs::MetadataExt;
    /// `struct proc_regioninfo` of `<sys/proc_info.h>`.
    #[repr(C)]
    struct RegionInfo {
        protection: u32,
        max_protection: u32,
        inheritance: u32,
        flags: u32,
        offset: u64,
        counters: [u32; 14],
        address: u64,
        size: u64,
    }
    /// `struct proc_regionwithpathinfo` of `<sys/proc_info.h>`.
    #[repr(C)]
    struct RegionWithPath {
        region: RegionInfo,
        vnode: libc::vnode_info_path,
    }
    /// `PROC_PIDREGIONPATHINFO` of `<sys/proc_info.h>`.
    const PROC_PIDREGIONPATHINFO: libc::c_int = 8;
    let mut info = std::mem::MaybeUninit::<RegionWithPath>::zeroed();
    let size = std::mem::size_of::<RegionWithPath>() as libc::c_int;
    // SAFETY: `info` is writable for `size` bytes; the call writes at most that many and returns
    // how many it wrote.
    let written = unsafe {
        libc::proc_pidinfo(
            libc::getpid(),
            PROC_PIDREGIONPATHINFO,
            address as u64,
            info.as_mut_ptr().cast(),
            size,
        )
    };
    if written != size {
        // The kernel did not describe the region: nothing to compare with.
        return Ok(());
    }
    // SAFETY: the kernel filled all `size` bytes of the zero-initialised plain-data struct.
    let info = unsafe { info.assume_init() };
    let stat = &info.vnode.vip_vi.vi_stat;
    // `st_dev` is a 32-bit `dev_t` here, widened with its sign by `MetadataExt::dev`.
    if stat.vst_dev == meta.dev() as u32 && stat.vst_ino == meta.ino() {
        return Ok(());
    }
    Err(Error::io(
        given,
        format_args!(
            "{} was replaced while it was being loaded: the library mapped is not the file that was checked",
            crate::error::escaped(canonical)
        ),
    ))
}

/// OPEN-8 where the checked descriptor could not be mapped itself; here it was: nothing to do.
#[cfg(not(target_os = "macos"))]
pub(crate) fn check_image(
    _given: &Path,
    _canonical: &Path,
    _meta: &Metadata,
    _address: *const (),
) -> Result<(), Error> {
    Ok(())
}

/// Maps nothing: this platform does not load plugins (the loader refuses before getting here).
#[cfg(not(unix))]
pub(crate) fn map(
    given: &Path,
    _canonical: &Path,
    _file: File,
    _meta: &Metadata,
    _nodelete: bool,
    _origin: bool,
) -> Result<Mapped, Error> {
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
            // SAFETY: the symbol is looked up as a data address (`*const PluginDescriptor`), which
            // is what the SDK exports under this name; the address is only dereferenced after the
            // caller checks the descriptor's magic and version.
            let symbol = unsafe {
                self.library
                    .get::<*const PluginDescriptor>(crate::abi::DESCRIPTOR_SYMBOL_C)
            }
            .ok()?;
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

#[cfg(all(unix, not(target_os = "freebsd")))]
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
