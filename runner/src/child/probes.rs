//! What the child observes about its own process: whether a library is mapped, whether a name
//! resolves globally, and a plugin's manifest read from its file.

use super::*;

/// Whether a library is mapped into this process, observed in the process's own list of
/// mappings, never inferred from the dynamic loader's reference counts (UNLOAD-1, UNLOAD-2):
/// `/proc/self/maps` on Linux (a mapping of the file, also when it was deleted), the dyld image
/// list on macOS. `None` where the platform offers neither.
pub(super) fn is_mapped(path: &Path) -> Result<bool, String> {
    let path: PathBuf = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    mapped_images(&path)
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn mapped_images(path: &Path) -> Result<bool, String> {
    let maps = std::fs::read_to_string("/proc/self/maps")
        .map_err(|e| format!("cannot read /proc/self/maps: {e}"))?;
    let want = path.display().to_string();
    let deleted = format!("{want} (deleted)");
    // Each line is `start-end perms offset dev inode   pathname`; the path is the last field.
    Ok(maps.lines().any(|l| {
        let l = l.trim_end();
        l.ends_with(&deleted) || l.ends_with(&want)
    }))
}

// dyld's image list (libSystem, `<mach-o/dyld.h>`), declared here: the `libc` crate's own
// declarations are deprecated in favour of a crate this one does not otherwise need.
#[cfg(target_vendor = "apple")]
unsafe extern "C" {
    fn _dyld_image_count() -> u32;
    fn _dyld_get_image_name(image_index: u32) -> *const std::ffi::c_char;
}

#[cfg(target_vendor = "apple")]
fn mapped_images(path: &Path) -> Result<bool, String> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: `_dyld_image_count` has no preconditions.
    let count = unsafe { _dyld_image_count() };
    for i in 0..count {
        // SAFETY: `i` is below the image count; dyld returns a NUL-terminated path or null (an
        // image removed meanwhile), and never removes the images this process loads.
        let name = unsafe { _dyld_get_image_name(i) };
        if name.is_null() {
            continue;
        }
        // SAFETY: non-null, NUL-terminated, owned by dyld for as long as the image is loaded.
        let name = unsafe { std::ffi::CStr::from_ptr(name) };
        let image = Path::new(std::ffi::OsStr::from_bytes(name.to_bytes()));
        let image = std::fs::canonicalize(image).unwrap_or_else(|_| image.to_path_buf());
        if image == path {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_vendor = "apple")))]
fn mapped_images(_: &Path) -> Result<bool, String> {
    Err("this driver cannot list the process's mappings on this platform".into())
}

/// A name the host defines and fx-collide defines too (LOOKUP-9): the host's returns -1, the
/// plugin's 17. On Linux the runner's binaries export it as a dynamic symbol (`build.rs`), as a
/// host linked with `--export-dynamic` would, so that it is in the process's global namespace
/// when the plugin is mapped; `lookup` through the plugin must still give the plugin's own.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn plugspec_host_value() -> i32 {
    -1
}

/// Whether `name` resolves in the global namespace (`dlsym(RTLD_DEFAULT, name)`): the host
/// executable and every library mapped with `RTLD_GLOBAL`. A plugin's symbols must never be
/// there (LOOKUP-6).
#[cfg(unix)]
pub(super) fn resolves_globally(name: &str) -> bool {
    // Keeps the host's own `plugspec_host_value` linked in (and so exported, see build.rs).
    std::hint::black_box(plugspec_host_value as extern "C" fn() -> i32);
    let Ok(c) = std::ffi::CString::new(name) else {
        return false;
    };
    // SAFETY: dlsym with RTLD_DEFAULT only searches the global scope; the address it returns is
    // compared with null and never dereferenced.
    !unsafe { libc::dlsym(libc::RTLD_DEFAULT, c.as_ptr()) }.is_null()
}

#[cfg(not(unix))]
pub(super) fn resolves_globally(_: &str) -> bool {
    false
}

/// Reads a manifest from the file, without mapping it (VER-1, VER-8).
pub(super) fn inspect(path: &Path) -> Observation {
    let bytes = match plugspec::ReferenceLoader::inspect(path) {
        Ok(b) => b,
        Err(e) => {
            return Observation {
                error: Some(observed(&e)),
                ..Observation::default()
            };
        }
    };
    match plugspec::abi::decode(&bytes) {
        Ok(m) => {
            let b = &m.fingerprint.build;
            let mut lines = vec![
                format!(
                    "manifest abi version = {}",
                    plugspec::abi::peek_version(&bytes).unwrap_or(0)
                ),
                format!("toolchain = rustc {} ({})", b.rustc_version, b.rustc_commit),
                format!("target = {}", b.target),
                format!("target features = {}", b.target_features),
                format!("panic strategy = {}", b.panic),
            ];
            lines.extend(m.fingerprint.packages.iter().map(|p| {
                let settings = plugspec::fingerprint::record_settings(p.hash);
                format!(
                    "package {} = {} #{}{}{settings}",
                    p.name,
                    p.version,
                    plugspec::fingerprint::record_source_hash(p.hash),
                    if settings.is_empty() { "" } else { " " },
                )
            }));
            if let Some(v) = m.fingerprint.api_version {
                lines.push(format!("api version = {v}"));
            }
            if let Some(id) = m.fingerprint.build_id {
                lines.push(format!("build id = {id}"));
            }
            Observation {
                identity: Some(m.identity.to_string()),
                fingerprint: Some(lines),
                ..Observation::default()
            }
        }
        Err(e) => harness_error(format!("inspect returned a manifest decode refuses: {e}")),
    }
}
