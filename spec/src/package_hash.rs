// A package's build record, its settings and the hash of its sources (rules VER-1, VER-2):
// shared by this crate's own build script (through `include!`) and by the `plugspec::build`
// module that shared packages call from theirs.
// It must stay free of `crate::` paths so that the build script can include it.

/// Hashes the normalised view of the package `name` `version` whose manifest is in
/// `manifest_dir` (rule VER-1, "The build record"): SHA-256 over a version tag, the package name
/// and version, then its `build.rs` if any and every file under `src/`, in path order, each as
/// (relative path with `/` separators, length, contents). A one-byte change anywhere in them
/// changes the hash. `Cargo.toml` itself is not read: `cargo package` rewrites it, and the same
/// release must hash the same from the registry, from git and from a path.
///
/// Returns the hash as 64 lowercase hex digits and the files read (for `rerun-if-changed`).
pub fn package_source_hash(
    manifest_dir: &std::path::Path,
    name: &str,
    version: &str,
) -> std::io::Result<(String, Vec<std::path::PathBuf>)> {
    use sha2::Digest as _;
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
    let mut files = Vec::new();
    if manifest_dir.join("build.rs").is_file() {
        files.push(manifest_dir.join("build.rs"));
    }
    let src = manifest_dir.join("src");
    if src.is_dir() {
        walk(&src, &mut files)?;
    }
    // Forward slashes, so that the hash and the order are the same on every platform.
    let relative = |file: &std::path::Path| {
        file.strip_prefix(manifest_dir)
            .unwrap_or(file)
            .to_string_lossy()
            .replace('\\', "/")
    };
    files.sort_by_key(|f| relative(f));
    let mut hash = sha2::Sha256::new();
    let mut field = |bytes: &[u8]| {
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(bytes);
    };
    field(b"plugspec package hash 1");
    field(name.as_bytes());
    field(version.as_bytes());
    for file in &files {
        field(relative(file).as_bytes());
        field(&std::fs::read(file)?);
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok((hex, files))
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
