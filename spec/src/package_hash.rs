// The content hash of a package's sources (rule VER-*): shared by this crate's own build script
// (through `include!`) and by the `plugspec::build` module that shared packages call from theirs.
// It must stay free of `crate::` paths so that the build script can include it.

/// Hashes the sources of the package in `manifest_dir`: its `Cargo.toml`, its `build.rs` if any,
/// and every file under `src/`, in path order, as 64-bit FNV-1a over (relative path, length,
/// contents). A one-byte change anywhere in them changes the hash.
///
/// Returns the hash as 16 lowercase hex digits and the files read (for `rerun-if-changed`).
pub fn package_source_hash(
    manifest_dir: &std::path::Path,
) -> std::io::Result<(String, Vec<std::path::PathBuf>)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, out)?;
            } else {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = vec![manifest_dir.join("Cargo.toml")];
    if manifest_dir.join("build.rs").is_file() {
        files.push(manifest_dir.join("build.rs"));
    }
    let src = manifest_dir.join("src");
    if src.is_dir() {
        walk(&src, &mut files)?;
    }
    files.sort();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for file in &files {
        let relative = file.strip_prefix(manifest_dir).unwrap_or(file);
        // Forward slashes, so that the hash is the same on every platform.
        let name = relative.to_string_lossy().replace('\\', "/");
        let contents = std::fs::read(file)?;
        feed(name.as_bytes());
        feed(&[0]);
        feed(&(contents.len() as u64).to_le_bytes());
        feed(&contents);
    }
    Ok((format!("{hash:016x}"), files))
}

/// The build settings of the package being compiled that can change its types, read from the
/// environment cargo gives a build script (rule VER-2): its enabled cargo features, whether debug
/// assertions are on, its panic strategy, and every other `cfg` that is not a property of the
/// target (`--cfg` flags given through `RUSTFLAGS`, Go's build tags). Target properties are left
/// out: the target triple and target features are compared on their own.
///
/// The result is the start of a package's *build record*: `features=[a,b]
/// debug_assertions=on|off panic=unwind|abort cfg=[x,y=v]`, each list sorted.
pub fn package_settings() -> String {
    fn list(mut items: Vec<String>) -> String {
        items.sort();
        items.dedup();
        format!("[{}]", items.join(","))
    }
    // Spaces and the characters the record uses as separators never occur in a value.
    let clean = |s: &str| s.replace([' ', ',', '[', ']'], "_");
    let features: Vec<String> = std::env::var("CARGO_CFG_FEATURE")
        .unwrap_or_default()
        .split(',')
        .filter(|f| !f.is_empty())
        .map(clean)
        .collect();
    let debug_assertions = if std::env::var_os("CARGO_CFG_DEBUG_ASSERTIONS").is_some() {
        "on"
    } else {
        "off"
    };
    let panic = std::env::var("CARGO_CFG_PANIC").unwrap_or_else(|_| "unwind".into());
    let mut cfgs = Vec::new();
    for (key, value) in std::env::vars_os() {
        let (Some(key), Some(value)) = (key.to_str(), value.to_str()) else {
            continue;
        };
        let Some(name) = key.strip_prefix("CARGO_CFG_") else {
            continue;
        };
        let target_property = name.starts_with("TARGET_")
            || matches!(
                name,
                "FEATURE" | "DEBUG_ASSERTIONS" | "PANIC" | "UNIX" | "WINDOWS" | "FMT_DEBUG"
                    | "UB_CHECKS" | "OVERFLOW_CHECKS" | "RELOCATION_MODEL"
            );
        if target_property {
            continue;
        }
        let name = name.to_ascii_lowercase();
        cfgs.push(if value.is_empty() {
            clean(&name)
        } else {
            clean(&format!("{name}={value}"))
        });
    }
    format!(
        "features={} debug_assertions={debug_assertions} panic={} cfg={}",
        list(features),
        clean(&panic),
        list(cfgs)
    )
}
