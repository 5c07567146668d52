//! Reading and validating case files: one file ([`parse_case`]) and the whole suite
//! ([`load_suite`]), every problem naming its file.

use super::*;

/// The raw file, before validation. Its field docs are the case format's top-level keys in
/// `conformance/README.md` and `conformance/case.schema.json` ([`crate::authoring`]).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCase {
    /// The case's ID: the area's prefix, `-` and four digits (`OPN-0003`); opaque, permanent,
    /// never reused, and the start of the file name (`OPN-0003-<slug>.toml`).
    id: String,
    /// One line saying what the case checks.
    title: String,
    /// The rules the case checks: IDs from `spec/SPEC.md` (`OPEN-3`).
    rules: Vec<String>,
    /// The clauses of those rules the case checks (`VER-4.b`); each belongs to one of `rules`.
    #[serde(default)]
    clauses: Vec<String>,
    /// Where the case applies: `loading` (the default: where plugins load), `refusing`, `any`,
    /// an OS family (`linux`, `macos`, `freebsd`, `windows`) or a target triple.
    #[serde(default)]
    platforms: Vec<String>,
    /// Capabilities the test binary or driver must have (`alloc_count`, `unprivileged`, `root`).
    #[serde(default)]
    requires: Vec<String>,
    /// Run the case this many times, each in a fresh child; every run must pass (default 1).
    #[serde(default)]
    repeat: Option<u32>,
    /// What the host requires of plugins.
    #[serde(default)]
    host: HostSpec,
    /// The steps, in order: each an operation (`op`) with its keys and an optional `expect`
    /// table.
    #[serde(default, rename = "step")]
    #[schemars(with = "Vec<serde_json::Value>")]
    steps: Vec<toml::Table>,
}

/// A problem with a case file: the file and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file.display(), self.problem)
    }
}

impl std::error::Error for CaseError {}

/// The set of rule IDs a case may name.
pub fn known_rules() -> HashSet<&'static str> {
    plugspec::rules::all().iter().map(|r| r.id).collect()
}

/// Parses and validates one case file. `area` is the directory it sits in.
pub fn parse_case(
    file: &Path,
    area: &str,
    text: &str,
    catalog: &dyn KnownFixtures,
) -> Result<Case, CaseError> {
    let err = |problem: String| CaseError {
        file: file.to_path_buf(),
        problem,
    };
    let raw: RawCase = toml::from_str(text).map_err(|e| err(one_line(&e.to_string())))?;
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or_else(|| err("the file name is not UTF-8".into()))?;
    let slug = match stem.strip_prefix(&raw.id).and_then(|s| s.strip_prefix('-')) {
        Some(slug) if !slug.is_empty() => slug.to_string(),
        _ => {
            return Err(err(format!(
                "the ID {:?} does not match the file name {stem:?} (expected {}-<slug>.toml)",
                raw.id, raw.id
            )));
        }
    };
    if !valid_id(&raw.id) {
        return Err(err(format!(
            "the ID {:?} is not of the form ABC-0001 (three capital letters, a dash, four digits)",
            raw.id
        )));
    }
    let Some(prefix) = prefix_of(area) else {
        return Err(err(format!(
            "the directory {area:?} is not an area (one of {})",
            AREAS.join(", ")
        )));
    };
    if !raw.id.starts_with(prefix) {
        return Err(err(format!(
            "the ID {:?} is filed under {area}/, whose cases are {prefix}-NNNN",
            raw.id
        )));
    }
    if raw.rules.is_empty() {
        return Err(err(
            "`rules` is empty: every case checks at least one rule".into()
        ));
    }
    let rules = known_rules();
    for rule in &raw.rules {
        if !rules.contains(rule.as_str()) {
            return Err(err(format!(
                "unknown rule ID {rule:?} (not in spec/SPEC.md)"
            )));
        }
    }
    for id in &raw.clauses {
        let Some(clause) = plugspec::rules::clause(id) else {
            return Err(err(format!(
                "unknown clause ID {id:?} (not in spec/SPEC.md)"
            )));
        };
        if !raw.rules.iter().any(|r| r == clause.rule) {
            return Err(err(format!(
                "clause {id} belongs to rule {}, which `rules` does not name",
                clause.rule
            )));
        }
    }
    for p in &raw.platforms {
        if !crate::platforms::is_known(p) {
            return Err(err(format!(
                "unknown platform {p:?} (loading, refusing, any, an OS family such as linux, or a target triple)"
            )));
        }
    }
    for c in &raw.requires {
        if !CAPABILITIES.contains(&c.as_str()) {
            return Err(err(format!(
                "unknown capability {c:?} (known: {})",
                CAPABILITIES.join(", ")
            )));
        }
    }
    let repeat = raw.repeat.unwrap_or(1);
    if repeat == 0 {
        return Err(err("`repeat` must be at least 1".into()));
    }
    if raw.steps.is_empty() {
        return Err(err("the case has no [[step]]".into()));
    }
    let mut steps = Vec::new();
    for (i, mut table) in raw.steps.into_iter().enumerate() {
        let at = |problem: String| err(format!("step {}: {problem}", i + 1));
        let expect = table.remove("expect");
        let op =
            Op::deserialize(toml::Value::Table(table)).map_err(|e| at(one_line(&e.to_string())))?;
        let expect = match expect {
            None => Expect::empty_for(&op),
            Some(v) => Expect::parse(&op, v)
                .map_err(|p| err(format!("step {} ({}): {p}", i + 1, op.name())))?,
        };
        steps.push(Step { op, expect });
    }
    let fixtures = check_steps(&steps, catalog).map_err(err)?;
    if steps.iter().any(|s| matches!(s.op, Op::Chown { .. }))
        && !raw.requires.iter().any(|r| r == "root")
    {
        return Err(err(
            "`chown` needs `requires = [\"root\"]` (only root may give a file to another user)"
                .into(),
        ));
    }
    Ok(Case {
        id: raw.id,
        slug,
        area: area.to_string(),
        title: raw.title,
        rules: raw.rules,
        clauses: raw.clauses,
        platforms: raw.platforms,
        requires: raw.requires,
        repeat,
        host: raw.host,
        steps,
        fixtures,
        file: file.to_path_buf(),
    })
}

pub(super) fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn valid_id(id: &str) -> bool {
    let b = id.as_bytes();
    b.len() == 8
        && b[..3].iter().all(u8::is_ascii_uppercase)
        && b[3] == b'-'
        && b[4..].iter().all(u8::is_ascii_digit)
}

/// Checks names, fixtures, kinds and expectations across the steps; returns the fixtures used.
fn check_steps(steps: &[Step], catalog: &dyn KnownFixtures) -> Result<BTreeSet<String>, String> {
    let mut fixtures = BTreeSet::new();
    let mut plugins: HashSet<String> = HashSet::new();
    let mut symbols: HashSet<String> = HashSet::new();
    let mut loaded_yet = false;
    for (i, step) in steps.iter().enumerate() {
        let at = |p: String| format!("step {} ({}): {p}", i + 1, step.op.name());
        let mut use_fixture = |name: &str| -> Result<(), String> {
            if !catalog.contains(name) {
                return Err(at(format!(
                    "unknown fixture {name:?} (known: {})",
                    catalog.names().join(", ")
                )));
            }
            fixtures.insert(name.to_string());
            Ok(())
        };
        let mut op = step.op.clone();
        for s in op.strings_mut() {
            for name in fixture_refs(s) {
                use_fixture(&name)?;
            }
        }
        let plugin_ref = |plugins: &HashSet<String>, name: &str| -> Result<(), String> {
            if plugins.contains(name) {
                Ok(())
            } else {
                Err(at(format!(
                    "undefined handle {name:?} (bind it with `as` on an earlier open; dropped handles are gone)"
                )))
            }
        };
        let symbol_ref = |symbols: &HashSet<String>, name: &str| -> Result<(), String> {
            if symbols.contains(name) {
                Ok(())
            } else {
                Err(at(format!(
                    "undefined symbol {name:?} (bind it with an earlier lookup)"
                )))
            }
        };
        // Expectations first: they refer to names bound before this step.
        check_expect(&step.expect, &plugins, &symbols).map_err(at)?;
        match &step.op {
            Op::Open {
                path,
                fixture,
                bind,
            }
            | Op::OpenConcurrent {
                path,
                fixture,
                bind,
                ..
            } => {
                match (path, fixture) {
                    (Some(_), None) => {}
                    (None, Some(f)) => use_fixture(f)?,
                    _ => return Err(at("give exactly one of `path` and `fixture`".into())),
                }
                if let Op::OpenConcurrent { threads, .. } = &step.op
                    && *threads == 0
                {
                    return Err(at("`threads` must be at least 1".into()));
                }
                if let Some(b) = bind {
                    if step.expect.error().is_some() {
                        return Err(at(format!(
                            "binds {b:?} but expects an error: nothing would be bound"
                        )));
                    }
                    plugins.insert(b.clone());
                }
            }
            Op::OpenEach { paths } if paths.len() < 2 => {
                return Err(at("`paths` must name at least two paths".into()));
            }
            Op::Lookup {
                plugin,
                name,
                bind,
                kind,
                rust_type,
            } => {
                plugin_ref(&plugins, plugin)?;
                if kind.is_some() && rust_type.is_none() {
                    return Err(at("`kind` needs `type` (a typed lookup)".into()));
                }
                if step.expect.error().is_none() {
                    symbols.insert(bind.clone().unwrap_or_else(|| name.clone()));
                }
            }
            Op::Call { symbol, args } => {
                symbol_ref(&symbols, symbol)?;
                if args.len() > 2 {
                    return Err(at("at most two arguments are supported".into()));
                }
            }
            Op::Read { symbol } => symbol_ref(&symbols, symbol)?,
            Op::Write {
                symbol,
                value,
                host_fn,
            } => {
                symbol_ref(&symbols, symbol)?;
                if value.is_some() == host_fn.is_some() {
                    return Err(at("give exactly one of `value` and `host_fn`".into()));
                }
            }
            Op::Drop { handles } => {
                for h in handles {
                    plugin_ref(&plugins, h)?;
                    plugins.remove(h);
                }
            }
            Op::Env { .. } if loaded_yet => {
                return Err(at(
                    "`env` must come before the first open or discover (plugin threads may read the environment)"
                        .into(),
                ));
            }
            Op::Patch { hex, .. }
                if hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                return Err(at(format!(
                    "hex {hex:?} is not an even number of hex digits"
                )));
            }
            Op::AlterManifest { item, .. } if !crate::child::fileops::is_manifest_item(item) => {
                return Err(at(format!(
                    "{item:?} is not a manifest item (one of {}, or `package <name> name|version|hash`)",
                    crate::child::fileops::MANIFEST_ITEMS.join(", ")
                )));
            }
            Op::Chmod { mode, .. } if u32::from_str_radix(mode, 8).is_err() => {
                return Err(at(format!("mode {mode:?} is not octal")));
            }
            Op::Truncate {
                section: Some(_),
                section_header: Some(_),
                ..
            }
            | Op::Patch {
                section: Some(_),
                section_header: Some(_),
                ..
            } => {
                return Err(at(
                    "give at most one of `section` and `section_header`".into()
                ));
            }
            Op::WriteText {
                repeat: Some(0), ..
            } => return Err(at("`repeat` must be at least 1".into())),
            _ => {}
        }
        if step.op.is_loader_op() {
            loaded_yet = true;
        }
    }
    Ok(fixtures)
}

/// Checks what an expectation says beyond its keys: error kinds exist, a step expecting an
/// error expects nothing of a success, and the names it compares with are bound.
fn check_expect(
    expect: &Expect,
    plugins: &HashSet<String>,
    symbols: &HashSet<String>,
) -> Result<(), String> {
    let known_kind = |kind: &str| -> Result<(), String> {
        match plugspec::ErrorKind::from_name(kind) {
            Some(_) => Ok(()),
            None => Err(format!(
                "unknown error kind {kind:?} (known: {})",
                plugspec::ErrorKind::ALL.map(|k| k.as_str()).join(", ")
            )),
        }
    };
    if let Some(kind) = expect.error() {
        known_kind(kind)?;
        if let Some(key) = expect.success_keys().first() {
            return Err(format!(
                "expectation `{key}` describes a success, but the step expects error {kind}"
            ));
        }
    }
    let handles = |names: [&Option<Names>; 2]| -> Result<(), String> {
        for name in names.into_iter().flatten().flat_map(Names::list) {
            if !plugins.contains(&name) {
                return Err(format!(
                    "undefined handle {name:?} (bind it with `as` on an earlier open; dropped handles are gone)"
                ));
            }
        }
        Ok(())
    };
    match expect {
        Expect::Open(x) => handles([&x.same_as, &x.differs_from]),
        Expect::OpenConcurrent(x) => handles([&x.same_as, &x.differs_from]),
        Expect::Lookup(LookupExpect {
            same_address_as: Some(s),
            ..
        }) if !symbols.contains(s) => Err(format!(
            "undefined symbol {s:?} (bind it with an earlier lookup)"
        )),
        Expect::Discover(DiscoverExpect {
            skipped: Some(skipped),
            ..
        }) => skipped.iter().try_for_each(|s| known_kind(&s.error)),
        _ => Ok(()),
    }
}

/// Loads and validates every `conformance/<area>/*.toml`. Returns every problem found, each
/// naming its file.
pub fn load_suite(dir: &Path, catalog: &dyn KnownFixtures) -> Result<Suite, Vec<CaseError>> {
    let mut errors = Vec::new();
    let mut cases = Vec::new();
    let read_dir = |d: &Path| -> Result<Vec<PathBuf>, CaseError> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(d)
            .map_err(|e| CaseError {
                file: d.to_path_buf(),
                problem: format!("cannot read the directory: {e}"),
            })?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        v.sort();
        Ok(v)
    };
    let entries = match read_dir(dir) {
        Ok(v) => v,
        Err(e) => return Err(vec![e]),
    };
    for area_dir in entries.into_iter().filter(|p| p.is_dir()) {
        let area = area_dir
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let files = match read_dir(&area_dir) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for file in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(CaseError {
                        file,
                        problem: format!("cannot read: {e}"),
                    });
                    continue;
                }
            };
            match parse_case(&file, &area, &text, catalog) {
                Ok(c) => cases.push(c),
                Err(e) => errors.push(e),
            }
        }
    }
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for c in &cases {
        if let Some(first) = seen.insert(c.id.clone(), c.file.clone()) {
            errors.push(CaseError {
                file: c.file.clone(),
                problem: format!("duplicate case ID {} (also in {})", c.id, first.display()),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    cases.sort_by_key(Case::trial_name);
    Ok(Suite { cases })
}
