//! The fixture plugins: what exists ([`Catalog`], read from the sources without building), and
//! what is built ([`Registry`], each workspace built once per process, on first use).
//!
//! Naming: the crate `fixtures/<name>` is the package `fx-<name>`, whose library is
//! `libfx_<name>.so`; a directory under `fixtures/` with its own `[workspace]` (such as
//! `fixtures/mismatch`) is built on its own, and its `fx-<name>` members are fixtures too; a C
//! source `fixtures/c/<stem>.c` is the fixture `c-<stem>`, built with `cc -shared -fPIC` when a
//! C compiler is on `PATH` (otherwise its cases are ignored, with that reason); a source with a
//! line `plugspec-cc: <flags>` is built with those flags instead (`-fPIE -pie` for an executable).
//!
//! Builds go to `<target>/plugspec-fixtures/<workspace>`, where `<target>` is `$CARGO_TARGET_DIR`
//! or the cargo target directory the running binary sits in. Each case then gets its own copies
//! of the artifacts it uses ([`Registry::copy_into`]): a cdylib's output path has no hash, and a
//! second `dlopen` of one path would return the first image.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::cargo;

/// Where a fixture comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A cdylib crate of a cargo workspace.
    Cargo {
        /// The workspace's `Cargo.toml`.
        workspace: PathBuf,
        /// A short name for the workspace's target directory (`fixtures`, `mismatch`).
        workspace_name: String,
        /// The library target name (`fx_basic`).
        lib: String,
    },
    /// A C source file.
    C {
        /// The `.c` file.
        source: PathBuf,
    },
}

/// Every fixture that exists, found by reading `fixtures/` (nothing is built).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The `fixtures/` directory.
    pub dir: PathBuf,
    fixtures: BTreeMap<String, Source>,
    shared: Option<crate::case::PackageSpec>,
}

/// The package the fixtures share with their host, `<dir>/common` (`fixture-common`), as the
/// host declares it: its name, its version and the source hash its own build script records
/// (the same function over the same files), or `None` if the fixtures have no `common/`.
/// The host side reads it here, at run time, from the very sources the fixtures are built from.
pub fn shared_package(dir: &Path) -> Result<Option<crate::case::PackageSpec>, String> {
    let common = dir.join("common");
    let manifest = common.join("Cargo.toml");
    if !manifest.is_file() {
        return Ok(None);
    }
    let read = |path: &Path| -> Result<toml::Table, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    };
    let table = read(&manifest)?;
    let package = table.get("package");
    let field = |key: &str| package.and_then(|p| p.get(key));
    let name = field("name")
        .and_then(|n| n.as_str())
        .ok_or_else(|| format!("{}: no [package] name", manifest.display()))?
        .to_string();
    let version = match field("version") {
        Some(toml::Value::String(v)) => v.clone(),
        // `version.workspace = true`: the fixtures workspace's version.
        Some(toml::Value::Table(_)) => read(&dir.join("Cargo.toml"))?
            .get("workspace")
            .and_then(|w| w.get("package"))
            .and_then(|p| p.get("version"))
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                format!(
                    "{}: no [workspace.package] version",
                    dir.join("Cargo.toml").display()
                )
            })?
            .to_string(),
        _ => "0.0.0".to_string(),
    };
    let (hash, _) = plugspec::build::package_source_hash(&common)
        .map_err(|e| format!("cannot hash {}: {e}", common.display()))?;
    Ok(Some(crate::case::PackageSpec {
        name,
        version,
        hash,
    }))
}

impl Catalog {
    /// The package the fixtures share with their host (see [`shared_package`]).
    pub fn shared(&self) -> Option<&crate::case::PackageSpec> {
        self.shared.as_ref()
    }

    /// Reads the fixture sources under `dir`.
    pub fn scan(dir: &Path) -> Result<Catalog, String> {
        let mut catalog = Catalog {
            dir: dir.to_path_buf(),
            fixtures: BTreeMap::new(),
            shared: shared_package(dir)?,
        };
        let root = dir.join("Cargo.toml");
        if !root.is_file() {
            return Err(format!(
                "{} does not exist: is the fixtures directory right?",
                root.display()
            ));
        }
        catalog.scan_workspace(&root, "fixtures")?;
        let c_dir = dir.join("c");
        if let Ok(entries) = std::fs::read_dir(&c_dir) {
            for entry in entries.filter_map(Result::ok) {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "c")
                    && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                {
                    catalog
                        .fixtures
                        .insert(format!("c-{stem}"), Source::C { source: path });
                }
            }
        }
        Ok(catalog)
    }

    fn scan_workspace(&mut self, manifest: &Path, name: &str) -> Result<(), String> {
        let ws_dir = manifest.parent().unwrap_or(Path::new("."));
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(ws_dir)
            .map_err(|e| format!("cannot read {}: {e}", ws_dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("Cargo.toml").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            let file = dir.join("Cargo.toml");
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let table: toml::Table = toml::from_str(&text)
                .map_err(|e| format!("{}: {}", file.display(), e.message()))?;
            if table.contains_key("workspace") {
                if file != manifest {
                    let sub = dir
                        .file_name()
                        .and_then(|s| s.to_str())
                        .unwrap_or("workspace")
                        .to_string();
                    self.scan_workspace(&file, &sub)?;
                }
                continue;
            }
            let package = table
                .get("package")
                .and_then(|p| p.get("name"))
                .and_then(|n| n.as_str());
            if let Some(fixture) = package.and_then(|p| p.strip_prefix("fx-")) {
                self.fixtures.insert(
                    fixture.to_string(),
                    Source::Cargo {
                        workspace: manifest.to_path_buf(),
                        workspace_name: name.to_string(),
                        lib: format!("fx_{}", fixture.replace('-', "_")),
                    },
                );
            }
        }
        Ok(())
    }

    /// Whether a fixture of this name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.fixtures.contains_key(name)
    }

    /// Every fixture name, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.fixtures.keys().map(String::as_str).collect()
    }

    /// Where a fixture comes from.
    pub fn source(&self, name: &str) -> Option<&Source> {
        self.fixtures.get(name)
    }

    /// Why a fixture cannot be built here (checked without building: a C fixture needs a C
    /// compiler on `PATH`), or `None` when it can.
    pub fn unavailable(&self, name: &str) -> Option<String> {
        match self.fixtures.get(name)? {
            Source::C { .. } if cargo::c_compiler().is_none() => Some(format!(
                "fixture {name} needs a C compiler (set CC or put cc on PATH)"
            )),
            _ => None,
        }
    }

    /// The file name a fixture's artifact has (`libfx_basic.so`, `libplain.so`).
    pub fn file_name(&self, name: &str) -> Option<String> {
        let (prefix, ext) = (
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_EXTENSION,
        );
        Some(match self.fixtures.get(name)? {
            Source::Cargo { lib, .. } => format!("{prefix}{lib}.{ext}"),
            Source::C { source } => {
                format!("{prefix}{}.{ext}", source.file_stem()?.to_string_lossy())
            }
        })
    }
}

type Slot = Arc<OnceLock<Result<BTreeMap<String, PathBuf>, String>>>;

/// Built fixtures: each workspace (and each C source) is built at most once per process, by the
/// first case that needs it; later cases reuse the result (or the build error).
#[derive(Debug)]
pub struct Registry {
    catalog: Catalog,
    root: PathBuf,
    slots: Mutex<HashMap<PathBuf, Slot>>,
}

impl Registry {
    /// A registry building into `<root>/<workspace>`.
    pub fn new(catalog: Catalog, root: PathBuf) -> Registry {
        Registry {
            catalog,
            root,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The directory builds go to (`<target>/plugspec-fixtures`).
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn slot(&self, key: &Path) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.entry(key.to_path_buf()).or_default().clone()
    }

    /// The built artifact of a fixture (building its workspace if this process has not yet).
    pub fn artifact(&self, name: &str) -> Result<PathBuf, String> {
        let source = self
            .catalog
            .source(name)
            .ok_or_else(|| format!("unknown fixture {name:?}"))?;
        match source {
            Source::Cargo {
                workspace,
                workspace_name,
                lib,
            } => {
                let slot = self.slot(workspace);
                let built = slot.get_or_init(|| {
                    cargo::build_workspace(workspace, &self.root.join(workspace_name))
                        .map(|b| b.cdylibs)
                });
                let built = built.as_ref().map_err(Clone::clone)?;
                built.get(lib).cloned().ok_or_else(|| {
                    format!(
                        "building {} produced no library {lib} (is fixtures/{name} a member of the workspace?)",
                        workspace.display()
                    )
                })
            }
            Source::C { source } => {
                let slot = self.slot(source);
                let built = slot.get_or_init(|| {
                    let cc = cargo::c_compiler()
                        .ok_or_else(|| "no C compiler (set CC or put cc on PATH)".to_string())?;
                    let out = cargo::build_c(&cc, source, &self.root.join("c"))?;
                    Ok(BTreeMap::from([(name.to_string(), out)]))
                });
                let built = built.as_ref().map_err(Clone::clone)?;
                built
                    .get(name)
                    .cloned()
                    .ok_or_else(|| format!("no artifact for {name}"))
            }
        }
    }

    /// Copies the artifacts of `names` into `dir` (under their own file names) and returns the
    /// path of each copy.
    pub fn copy_into<'a>(
        &self,
        names: impl IntoIterator<Item = &'a String>,
        dir: &Path,
    ) -> Result<BTreeMap<String, PathBuf>, String> {
        let mut out = BTreeMap::new();
        for name in names {
            let built = self.artifact(name)?;
            let file = self
                .catalog
                .file_name(name)
                .ok_or_else(|| format!("unknown fixture {name:?}"))?;
            let copy = dir.join(file);
            std::fs::copy(&built, &copy).map_err(|e| {
                format!("cannot copy {} to {}: {e}", built.display(), copy.display())
            })?;
            out.insert(name.clone(), copy);
        }
        Ok(out)
    }
}

/// The cargo target directory this process belongs to: `$CARGO_TARGET_DIR`, else the nearest
/// ancestor of the running binary that holds cargo's `CACHEDIR.TAG`, else a directory under the
/// system's temporary directory.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        if dir.is_absolute() {
            return dir;
        }
        if let Ok(cwd) = std::env::current_dir() {
            return cwd.join(dir);
        }
    }
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1) {
            if dir.join("CACHEDIR.TAG").is_file() {
                return dir.to_path_buf();
            }
        }
    }
    std::env::temp_dir().join("plugspec-target")
}
