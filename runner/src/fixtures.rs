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
    /// A package of a fixture kit's Go module, built with `go build -buildmode=<buildmode>`.
    Go {
        /// The module's directory (holding `go.mod`).
        module: PathBuf,
        /// The package directory, relative to the module.
        dir: String,
        /// `plugin` or `c-shared`.
        buildmode: String,
    },
}

/// A fixture kit's `kit.toml` (see `conformance/kits/go/kit.toml`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KitFile {
    format: String,
    fixtures: BTreeMap<String, KitFixture>,
    #[serde(default)]
    names: BTreeMap<String, String>,
    #[serde(default)]
    identities: BTreeMap<String, String>,
    #[serde(default)]
    types: BTreeMap<String, String>,
    #[serde(default)]
    packages: BTreeMap<String, String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KitFixture {
    dir: String,
    #[serde(default)]
    module: Option<String>,
    #[serde(default)]
    buildmode: Option<String>,
}

/// Every fixture that exists, found by reading `fixtures/` (nothing is built).
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The `fixtures/` directory (or the kit's directory).
    pub dir: PathBuf,
    fixtures: BTreeMap<String, Source>,
    /// The kit's name: `plugspec` for the Rust kit, else its `format`.
    kit: Option<String>,
    /// Case-level symbol names → the kit's names (empty: the same).
    names: BTreeMap<String, String>,
    /// The kit's identities → case-level identities (empty: the same).
    identities: BTreeMap<String, String>,
    /// The kit's written types → case-level written types (empty: the same).
    types: BTreeMap<String, String>,
    /// The kit's shared package names → case-level package names (empty: the same).
    packages: BTreeMap<String, String>,
    /// The package the fixtures share with their host (`None` for a kit without `common/`).
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
    let (source_hash, _) = plugspec::build::package_source_hash(&common, &name, &version)
        .map_err(|e| format!("cannot hash {}: {e}", common.display()))?;
    // VER-2: the build record the fixtures' copy of the package carries. They are built with no
    // feature of it, with this host's debug assertions (see `cargo::build_workspace`) and panic
    // strategy, and with no `--cfg` of their own.
    let hash = format!(
        "features=[] debug_assertions={} panic={} cfg=[] src={source_hash}",
        if cfg!(debug_assertions) { "on" } else { "off" },
        plugspec::fingerprint::THIS_BUILD.panic
    );
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
            shared: shared_package(dir)?,
            ..Catalog::default()
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

    /// Reads a fixture kit's `kit.toml` (nothing is built): its fixtures are packages of Go
    /// modules in the kit's directory, its name mapping goes both ways.
    pub fn scan_kit(dir: &Path) -> Result<Catalog, String> {
        let file = dir.join("kit.toml");
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let kit: KitFile =
            toml::from_str(&text).map_err(|e| format!("{}: {}", file.display(), e.message()))?;
        let mut fixtures = BTreeMap::new();
        for (name, f) in kit.fixtures {
            let buildmode = f.buildmode.unwrap_or_else(|| "plugin".into());
            if buildmode != "plugin" && buildmode != "c-shared" {
                return Err(format!(
                    "{}: fixture {name}: buildmode {buildmode:?} is neither \"plugin\" nor \"c-shared\"",
                    file.display()
                ));
            }
            fixtures.insert(
                name,
                Source::Go {
                    module: dir.join(f.module.as_deref().unwrap_or(".")),
                    dir: f.dir,
                    buildmode,
                },
            );
        }
        Ok(Catalog {
            dir: dir.to_path_buf(),
            fixtures,
            kit: Some(kit.format),
            names: kit.names,
            identities: kit.identities,
            types: kit.types,
            packages: kit.packages,
            shared: None,
        })
    }

    /// The kit's name ([`crate::protocol::RUST_KIT`] for `fixtures/`).
    pub fn kit(&self) -> &str {
        self.kit.as_deref().unwrap_or(crate::protocol::RUST_KIT)
    }

    /// The kit's name for a case-level symbol name. A name that is only some export's kit
    /// name (`Add`, where the case-level export is `add`) names nothing in the cases' terms:
    /// it is looked up as `_Add`, which no kit exports (Go exports no name starting with `_`).
    pub fn symbol_name(&self, name: &str) -> String {
        match self.names.get(name) {
            Some(kit_name) => kit_name.clone(),
            None if self.names.values().any(|v| v == name) => format!("_{name}"),
            None => name.to_string(),
        }
    }

    /// The case-level identity for an identity the kit's loader reports.
    pub fn case_identity<'a>(&'a self, identity: &'a str) -> &'a str {
        self.identities
            .get(identity)
            .map_or(identity, String::as_str)
    }

    /// A loader's message with the kit's identities replaced by the case-level ones.
    pub fn case_message(&self, message: &str) -> String {
        let mut message = message.to_string();
        for (kit, case) in &self.identities {
            message = message.replace(kit.as_str(), case);
        }
        message
    }

    /// A version-mismatch difference (`package <name>`) with the kit's package name replaced by
    /// the case-level one.
    pub fn case_difference(&self, difference: &str) -> String {
        match difference.strip_prefix("package ") {
            Some(p) => format!("package {}", self.packages.get(p).map_or(p, String::as_str)),
            None => difference.to_string(),
        }
    }

    /// The case-level written type for a type the kit's driver reports.
    pub fn case_type<'a>(&'a self, ty: &'a str) -> &'a str {
        self.types.get(ty).map_or(ty, String::as_str)
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
            Source::Go { .. } if go_binary().is_none() => Some(format!(
                "fixture {name} needs Go (set GO or put go on PATH)"
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
            Source::Go { .. } => format!("{prefix}fx_{}.{ext}", name.replace('-', "_")),
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
            Source::Go {
                module,
                dir,
                buildmode,
            } => self.go_artifact(name, module, dir, buildmode),
        }
    }

    /// Builds a Go fixture into `<root>/go/` (once per process).
    fn go_artifact(
        &self,
        name: &str,
        module: &Path,
        dir: &str,
        buildmode: &str,
    ) -> Result<PathBuf, String> {
        let file = self
            .catalog
            .file_name(name)
            .ok_or_else(|| format!("unknown fixture {name:?}"))?;
        let out = self.root.join("go").join(file);
        let slot = self.slot(&out);
        let built = slot.get_or_init(|| {
            build_go(module, dir, buildmode, &out, &self.root.join("go"))
                .map(|p| BTreeMap::from([(name.to_string(), p)]))
        });
        let built = built.as_ref().map_err(Clone::clone)?;
        built
            .get(name)
            .cloned()
            .ok_or_else(|| format!("no artifact for {name}"))
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

/// The Go toolchain: `$GO`, else `go` on `PATH`, else Debian's `golang-1.19-go`.
pub fn go_binary() -> Option<PathBuf> {
    if let Some(go) = std::env::var_os("GO") {
        return Some(PathBuf::from(go));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("go"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let debian = PathBuf::from("/usr/lib/go-1.19/bin/go");
        debian.is_file().then_some(debian)
    })
}

/// `go build -buildmode=<buildmode> -o <out> ./<package>` in the module `module`, with the Go
/// build cache and module path under `work` (so that a clean clone needs nothing else). The
/// compiler's output is in the error.
pub fn build_go(
    module: &Path,
    package: &str,
    buildmode: &str,
    out: &Path,
    work: &Path,
) -> Result<PathBuf, String> {
    build_go_with(module, package, buildmode, out, work, None)
}

/// [`build_go`] with the module `fixtures` (the Go kit's module path) replaced by the kit in
/// `kit`: the module's own `go.mod` is read, its `replace` lines dropped and
/// `replace fixtures => <kit>` added, and the result handed to `go build -modfile`. A host
/// built so links the very shared package the kit's plugins link (Go refuses a plugin whose
/// packages were built from other sources, even a copy in another directory).
pub fn build_go_against_kit(
    module: &Path,
    kit: &Path,
    out: &Path,
    work: &Path,
) -> Result<PathBuf, String> {
    build_go_with(module, ".", "exe", out, work, Some(kit))
}

fn build_go_with(
    module: &Path,
    package: &str,
    buildmode: &str,
    out: &Path,
    work: &Path,
    kit: Option<&Path>,
) -> Result<PathBuf, String> {
    let go = go_binary().ok_or("Go is not installed (set GO or put go on PATH)")?;
    std::fs::create_dir_all(work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let mut command = std::process::Command::new(&go);
    command
        .current_dir(module)
        .args(["build", &format!("-buildmode={buildmode}")]);
    if let Some(kit) = kit {
        let manifest = module.join("go.mod");
        let original = std::fs::read_to_string(&manifest)
            .map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
        let kit = std::path::absolute(kit).unwrap_or_else(|_| kit.to_path_buf());
        let mut modfile: String = original
            .lines()
            .filter(|l| !l.trim_start().starts_with("replace "))
            .map(|l| format!("{l}\n"))
            .collect();
        modfile.push_str(&format!(
            "replace fixtures => {:?}\n",
            kit.to_string_lossy()
        ));
        let stem = out
            .file_name()
            .map_or_else(|| "host".to_string(), |n| n.to_string_lossy().into_owned());
        let path = work.join(format!("{stem}.go.mod"));
        std::fs::write(&path, modfile)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        command.arg(format!("-modfile={}", path.display()));
    }
    command
        .arg("-o")
        .arg(out)
        .arg(format!("./{package}"))
        .env("CGO_ENABLED", "1")
        .env("GOFLAGS", "-mod=mod")
        .env("GO111MODULE", "on")
        .env("GOTOOLCHAIN", "local");
    if std::env::var_os("GOCACHE").is_none() {
        command.env("GOCACHE", work.join("gocache"));
    }
    if std::env::var_os("GOPATH").is_none() {
        command.env("GOPATH", work.join("gopath"));
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run {}: {e}", go.display()))?;
    if !output.status.success() {
        return Err(format!(
            "go build -buildmode={buildmode} ./{package} in {} failed ({}):\n{}",
            module.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(out.to_path_buf())
}

impl crate::case::KnownFixtures for Catalog {
    fn contains(&self, name: &str) -> bool {
        Catalog::contains(self, name)
    }

    fn names(&self) -> Vec<&str> {
        Catalog::names(self)
    }
}
