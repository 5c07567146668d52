//! `plugspec inspect`, `plugspec check`, `plugspec host`: plugin files read without running
//! any of their code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use plugspec::ErrorKind;
use plugspec::fingerprint::HostConfig;
use plugspec_runner::host::HostDescription;
use plugspec_runner::inspect::{self, CheckResult};

use super::{CheckArgs, FAILED, HostOptions, InspectArgs, USAGE, plural};

/// One line on standard error, the path escaped as the loader's messages escape it (the way
/// `Debug` for `Path` does, without the quotes).
fn complain(command: &str, path: &Path, what: &str) {
    eprintln!(
        "plugspec {command}: {}: {what}",
        plugspec::error::escaped(path)
    );
}

/// Why a path cannot be read as a file at all (missing, a directory), before the loader looks.
/// The kinds are the loader's: a path that does not resolve — missing, a looping symlink, a file
/// used as a directory, too long, an unsearchable directory — is `not_found` (OPEN-1).
fn not_a_file(path: &Path) -> Option<(ErrorKind, String)> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Some((ErrorKind::NotFound, "no such file".to_string()))
        }
        Err(e) => Some((ErrorKind::NotFound, format!("cannot resolve: {e}"))),
        Ok(m) if m.is_dir() => Some((
            ErrorKind::NotAPlugin,
            "is a directory, not a plugin file".to_string(),
        )),
        Ok(_) => None,
    }
}

pub fn inspect(args: &InspectArgs) -> ExitCode {
    if let Some((_, why)) = not_a_file(&args.file) {
        complain("inspect", &args.file, &why);
        return ExitCode::from(FAILED);
    }
    match inspect::inspect(&args.file) {
        Ok(found) => {
            if args.json {
                let mut value =
                    serde_json::json!({ "schema_version": inspect::INSPECT_SCHEMA_VERSION });
                if let (Some(out), serde_json::Value::Object(fields)) =
                    (value.as_object_mut(), serde_json::json!(found.info))
                {
                    out.extend(fields);
                }
                println!("{}", to_json(&value));
            } else {
                print!(
                    "file:            {}\n{}",
                    plugspec::error::escaped(&args.file),
                    found.description
                );
            }
            for warning in &found.warnings {
                eprintln!(
                    "plugspec inspect: {}: warning: {warning}",
                    plugspec::error::escaped(&args.file)
                );
            }
            if args.strict && !found.warnings.is_empty() {
                ExitCode::from(FAILED)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            complain("inspect", &args.file, &describe(&e));
            ExitCode::from(FAILED)
        }
    }
}

/// The error's text without Go's `plugin.Open("…"): ` prefix (the path is printed already).
fn describe(e: &plugspec::Error) -> String {
    let detail = e.detail();
    match e.kind() {
        ErrorKind::IncompatibleAbi | ErrorKind::NotAPlugin | ErrorKind::VersionMismatch => {
            detail.to_string()
        }
        kind => format!("{kind}: {detail}"),
    }
}

fn host_config(options: &HostOptions) -> Result<HostConfig, String> {
    let mut description = match &options.host_file {
        Some(file) => HostDescription::load(file)?,
        None => HostDescription::default(),
    };
    if let Some(plugin) = &options.like {
        if let Some((_, why)) = not_a_file(plugin) {
            return Err(format!(
                "--like {}: {why}",
                plugspec::error::escaped(plugin)
            ));
        }
        let like = HostDescription::like(plugin).map_err(|e| {
            format!(
                "--like {}: {}",
                plugspec::error::escaped(plugin),
                describe(&e)
            )
        })?;
        description.merge(like);
    }
    for p in &options.shared {
        description.add_shared(p.clone());
    }
    if options.api_version.is_some() {
        description.api_version = options.api_version;
    }
    if options.build_id.is_some() {
        description.build_id = options.build_id.clone();
    }
    if options.require_safe_permissions {
        description.safe_permissions = Some(true);
    }
    Ok(description.to_host_config())
}

pub fn host(options: &HostOptions) -> ExitCode {
    match host_config(options) {
        Ok(host) => {
            print!("{}", HostDescription::from_host_config(&host).to_toml());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plugspec host: {e}");
            ExitCode::from(USAGE)
        }
    }
}

pub fn check(args: &CheckArgs) -> ExitCode {
    let host = match host_config(&args.host) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("plugspec check: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let mut results = Vec::new();
    for file in &args.files {
        let result = match not_a_file(file) {
            Some((kind, why)) => CheckResult {
                path: plugspec::error::escaped(file).to_string(),
                accepted: false,
                identity: None,
                error: Some(kind.as_str().to_string()),
                message: Some(why),
                differences: Vec::new(),
            },
            None => inspect::check(file, &host),
        };
        results.push(result);
    }
    // Each result beside the path as given (its `path` is the escaped text, for printing).
    let given: Vec<&Path> = args.files.iter().map(PathBuf::as_path).collect();
    // A file that cannot be read is no verdict about a plugin: counted apart from refusals.
    let unreadable_count = results
        .iter()
        .zip(&given)
        .filter(|(r, file)| unreadable(r, file))
        .count();
    let accepted = results.iter().filter(|r| r.accepted).count();
    let refused = results.len() - accepted - unreadable_count;
    if args.json {
        let value = serde_json::json!({
            "schema_version": inspect::CHECK_SCHEMA_VERSION,
            "host": HostDescription::from_host_config(&host),
            "accepted": accepted,
            "refused": refused,
            "unreadable": unreadable_count,
            "plugins": results,
        });
        println!("{}", to_json(&value));
        // Files that could not be read at all still get their line on standard error.
        for (r, file) in results
            .iter()
            .zip(&given)
            .filter(|(r, file)| unreadable(r, file))
        {
            complain("check", file, r.message.as_deref().unwrap_or(""));
        }
    } else {
        for (r, file) in results.iter().zip(&given) {
            print_result(r, file);
        }
        let mut summary = format!(
            "{} checked: {accepted} accepted, {refused} refused",
            plural(results.len(), "plugin")
        );
        if unreadable_count > 0 {
            summary.push_str(&format!(", {unreadable_count} could not be read"));
        }
        println!("{summary}");
    }
    if refused + unreadable_count == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(FAILED)
    }
}

/// Not a verdict about a plugin: the file (`given`) is missing, a directory, or unreadable.
fn unreadable(r: &CheckResult, given: &Path) -> bool {
    matches!(r.kind(), Some(ErrorKind::NotFound | ErrorKind::Io))
        || (r.kind() == Some(ErrorKind::NotAPlugin) && given.is_dir())
}

/// One result's lines; `r.path` is `given`, escaped (ERR-2: the path as given, every byte
/// shown).
fn print_result(r: &CheckResult, given: &Path) {
    let identity = r
        .identity
        .as_deref()
        .map(|i| format!(" ({i})"))
        .unwrap_or_default();
    if r.accepted {
        println!("accepted  {}{identity}", r.path);
        return;
    }
    if unreadable(r, given) {
        complain("check", given, r.message.as_deref().unwrap_or(""));
        return;
    }
    let kind = r.error.as_deref().unwrap_or("refused");
    if r.differences.is_empty() {
        println!(
            "refused   {}{identity}: {} [{kind}]",
            r.path,
            r.message.as_deref().unwrap_or("")
        );
    } else {
        println!(
            "refused   {}{identity}: built differently from the host, {} [{kind}]:",
            r.path,
            plural(r.differences.len(), "difference")
        );
        for d in &r.differences {
            println!("    {}: plugin {}, host {}", d.item, d.plugin, d.host);
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
