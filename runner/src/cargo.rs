//! Building fixture plugins: `cargo build --workspace --lib` through escargot for a fixture
//! workspace, and `cc -shared -fPIC` (or the flags a source names) for the C fixtures.
//!
//! Every build message is drained (dropping escargot's message iterator early can deadlock on a
//! full pipe), and compiler diagnostics (`rendered`) are collected so that a failed build shows
//! them: escargot's own error holds only cargo's stderr summary.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

include!("fixture_cargo.rs");

/// The shared libraries (`cdylib`s, and Rust `dylib`s) one cargo invocation produced, by library
/// target name (`fx_basic`).
#[derive(Debug, Clone, Default)]
pub struct Built {
    /// Library target name → artifact path (inside the build's target directory).
    pub cdylibs: BTreeMap<String, PathBuf>,
    /// Whether every artifact was fresh (nothing was compiled).
    pub fresh: bool,
}

/// Builds every library of the cargo workspace at `manifest` into `target_dir`, following
/// [`fixture_cargo`]'s policy (this host's debug assertions, `RUSTFLAGS` passed through,
/// `--locked` under CI).
pub fn build_workspace(manifest: &Path, target_dir: &Path) -> Result<Built, String> {
    build_workspace_with_progress(manifest, target_dir, &mut |_, _| {})
}

/// [`build_workspace`], calling `progress(crate_name, fresh)` for each artifact cargo reports
/// as it reports it (for a progress line while a cold build runs).
pub fn build_workspace_with_progress(
    manifest: &Path,
    target_dir: &Path,
    progress: &mut dyn FnMut(&str, bool),
) -> Result<Built, String> {
    let build = fixture_cargo(manifest, target_dir);
    let messages = build.exec().map_err(|e| {
        format!(
            "cannot run cargo for {}: {}",
            manifest.display(),
            error_chain(&e)
        )
    })?;
    let mut built = Built {
        fresh: true,
        ..Built::default()
    };
    let mut diagnostics = Vec::new();
    let mut failure = None;
    // Drain every message, even after a failure: dropping the iterator early can deadlock.
    for message in messages {
        let message = match message {
            Ok(m) => m,
            Err(e) => {
                failure.get_or_insert_with(|| error_chain(&e));
                continue;
            }
        };
        match message.decode() {
            Ok(escargot::format::Message::CompilerArtifact(artifact)) => {
                progress(&artifact.target.name, artifact.fresh);
                built.fresh &= artifact.fresh;
                if artifact
                    .target
                    .kind
                    .iter()
                    .any(|k| k == "cdylib" || k == "dylib")
                    && let Some(file) = artifact.filenames.iter().find(|p| {
                        p.extension() == Some(OsStr::new(std::env::consts::DLL_EXTENSION))
                    })
                {
                    built
                        .cdylibs
                        .insert(artifact.target.name.to_string(), file.to_path_buf());
                }
            }
            Ok(escargot::format::Message::CompilerMessage(m)) => {
                if let Some(rendered) = m.message.rendered {
                    diagnostics.push(rendered.to_string());
                }
            }
            Ok(_) => {}
            Err(e) => {
                failure.get_or_insert_with(|| format!("cannot decode cargo's output: {e}"));
            }
        }
    }
    if let Some(failure) = failure {
        let errors: Vec<&String> = diagnostics
            .iter()
            .filter(|d| d.starts_with("error"))
            .collect();
        let shown = if errors.is_empty() {
            diagnostics.iter().collect()
        } else {
            errors
        };
        return Err(format!(
            "building the fixtures of {} failed: {failure}\n{}",
            manifest.display(),
            shown
                .into_iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    Ok(built)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    // escargot's Display strings are swapped between kinds; the source carries the real text.
    let mut text = Vec::new();
    let mut source = Some(e);
    while let Some(s) = source {
        text.push(s.to_string());
        source = s.source();
    }
    text.join(": ")
}

/// The C compiler to use: `$CC`, else `cc`, if it is on `PATH` (found without running it, so
/// that listing trials spawns nothing).
pub fn c_compiler() -> Option<PathBuf> {
    let name = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let candidate = PathBuf::from(&name);
    if candidate.is_absolute() {
        return candidate.is_file().then_some(candidate);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(&name))
        .find(|p| p.is_file())
}

/// The compiler flags of a C fixture: `-shared -fPIC`, unless a line of the source reads
/// `plugspec-cc: <flags>` (for fixtures that are not shared libraries, such as executables).
pub fn c_flags(source_text: &str) -> Vec<String> {
    source_text
        .lines()
        .find_map(|l| l.split_once("plugspec-cc:").map(|(_, flags)| flags))
        .map_or_else(
            || vec!["-shared".to_string(), "-fPIC".to_string()],
            |flags| flags.split_whitespace().map(str::to_string).collect(),
        )
}

/// Compiles one C source into `out_dir`: `cc -shared -fPIC -o lib<stem>.<ext>` (other flags
/// when the source names them, see [`c_flags`]).
pub fn build_c(compiler: &Path, source: &Path, out_dir: &Path) -> Result<PathBuf, String> {
    let stem = source
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| format!("{}: the file name is not UTF-8", source.display()))?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let out = out_dir.join(format!(
        "{}{stem}.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    ));
    let fresh = match (std::fs::metadata(source), std::fs::metadata(&out)) {
        (Ok(s), Ok(o)) => matches!((s.modified(), o.modified()), (Ok(s), Ok(o)) if o >= s),
        _ => false,
    };
    if fresh {
        return Ok(out);
    }
    // Build into a temporary name and rename, so that a concurrent reader never sees half a file.
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let text = std::fs::read_to_string(source)
        .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    let flags = c_flags(&text);
    let output = Command::new(compiler)
        .args(&flags)
        .arg("-o")
        .arg(&tmp)
        .arg(source)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", compiler.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} {} {} failed ({}):\n{}",
            compiler.display(),
            flags.join(" "),
            source.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("cannot rename to {}: {e}", out.display()))?;
    Ok(out)
}
