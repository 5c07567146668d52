//! Discovery: load every plugin in a directory through an entry symbol, failing soft per file
//! (rules `DISC-*`; Go Q12).
//!
//! ```no_run
//! # #[cfg(feature = "loader")] {
//! use plugspec::{Loader, ReferenceLoader, SymbolKind};
//! let loader = ReferenceLoader::new();
//! let found = plugspec::discovery::discover(&loader, "plugins".as_ref(), "plugin_entry", SymbolKind::Function)?;
//! for skipped in &found.skipped {
//!     eprintln!("skip {}: {}", skipped.path.display(), skipped.error);
//! }
//! # }
//! # Ok::<(), plugspec::Error>(())
//! ```

use std::path::{Path, PathBuf};

use crate::contract::{Loader, Plugin, Symbol, SymbolKind};
use crate::error::Error;

/// A plugin discovery found and opened, with its entry symbol.
#[derive(Debug, Clone)]
pub struct Found<P> {
    /// The file.
    pub path: PathBuf,
    /// The opened plugin.
    pub plugin: P,
    /// Its entry symbol.
    pub entry: Symbol,
}

/// A file discovery skipped, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why: the open or lookup error (a missing entry is `symbol_not_found`, an entry of the
    /// wrong kind `type_mismatch`).
    pub error: Error,
}

/// What [`discover`] found.
#[derive(Debug, Clone)]
pub struct Discovery<P> {
    /// Plugins opened with their entry, in file-name order.
    pub loaded: Vec<Found<P>>,
    /// Files skipped, each with its reason, in file-name order.
    pub skipped: Vec<Skipped>,
}

/// Opens every file in `dir` whose extension is this platform's library extension, in file-name
/// order, and looks up `entry` (of `kind`) in each. A file that fails to open or lacks the entry
/// is skipped with its error; one bad file never stops the others. An unreadable directory is the
/// only error.
pub fn discover<L: Loader>(
    loader: &L,
    dir: &Path,
    entry: &str,
    kind: SymbolKind,
) -> Result<Discovery<L::Plugin>, Error> {
    let extension = crate::platform::current().library_extension;
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::io(
            dir,
            format_args!("cannot read directory {}: {e}", crate::error::escaped(dir)),
        )
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| !extension.is_empty() && p.extension().is_some_and(|x| x == extension))
        .collect();
    // DISC-1: only this platform's library extension, in file-name order.
    paths.sort();
    let mut found = Discovery {
        loaded: Vec::new(),
        skipped: Vec::new(),
    };
    for path in paths {
        let result = loader.open(&path).and_then(|plugin| {
            let symbol = plugin.lookup(entry)?;
            if symbol.kind() != kind {
                return Err(Error::type_mismatch(
                    entry,
                    symbol.plugin_identity(),
                    &format!("a {}", symbol.kind()),
                    &format!("a {kind}"),
                ));
            }
            Ok((plugin, symbol))
        });
        match result {
            Ok((plugin, entry)) => found.loaded.push(Found {
                path,
                plugin,
                entry,
            }),
            // DISC-2: a bad file is reported and skipped; it never stops the others.
            Err(error) => found.skipped.push(Skipped { path, error }),
        }
    }
    Ok(found)
}
