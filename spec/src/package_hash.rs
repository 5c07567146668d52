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
