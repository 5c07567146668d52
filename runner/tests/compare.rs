//! `plugspec compare`: two reports of a real run (the second one with a case turned into a
//! failure), rendered as text, Markdown and HTML; the HTML page opened in a real headless
//! browser (Chromium or Chrome), which must find every rule row, colour the failing cell, link
//! the case file, show the failure message and run the page's script.
//!
//! Without a browser the HTML trial is reported **ignored** (libtest says so in its summary),
//! never passed; under `CI` a missing browser fails it. `$PLUGSPEC_BROWSER` names the browser.

// The real run builds and loads fixture plugins: only where plugins load (PLAT-1).

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use libtest_mimic::{Arguments, Failed, Trial};
use plugspec_runner::report::Report;
use serde_json::Value;

/// The message given to the case turned into a failure: markup in it must come out as text.
const MESSAGE: &str = "step 1: expected <success> & got \"error\" 'io'";

fn scratch() -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("compare-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn plugspec() -> Command {
    let mut c = Command::cargo_bin("plugspec").unwrap();
    c.env_remove("CI");
    c
}

/// A real report of the cases of API-2 (every other rule's cases not run), and a copy naming
/// another implementation in which the first case of API-2 failed with [`MESSAGE`].
fn reports(dir: &Path) -> (PathBuf, PathBuf) {
    let reference = dir.join("reference.json");
    plugspec()
        .args(["test", "--rule", "API-2", "--no-snapshots", "--json"])
        .arg(&reference)
        .assert()
        .success();
    let mut other: Value =
        serde_json::from_str(&std::fs::read_to_string(&reference).unwrap()).unwrap();
    other["implementation"] = "other loader 0.1".into();
    let failed = other["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "API-2")
        .unwrap()["cases"][0]
        .as_str()
        .unwrap()
        .to_string();
    for case in other["cases"].as_array_mut().unwrap() {
        if case["id"] == failed.as_str() {
            case["outcome"] = "fail".into();
            case["message"] = MESSAGE.into();
        }
    }
    for rule in other["rules"].as_array_mut().unwrap() {
        if rule["id"] == "API-2" {
            rule["outcome"] = "fail".into();
            rule["counts"]["pass"] = (rule["counts"]["pass"].as_u64().unwrap() - 1).into();
            rule["counts"]["fail"] = 1.into();
        }
    }
    other["totals"]["pass"] = (other["totals"]["pass"].as_u64().unwrap() - 1).into();
    other["totals"]["fail"] = 1.into();
    let other_path = dir.join("other.json");
    std::fs::write(&other_path, serde_json::to_string(&other).unwrap()).unwrap();
    // Both still read as reports.
    Report::from_json(&std::fs::read_to_string(&other_path).unwrap()).unwrap();
    (reference, other_path)
}

fn compare(format: &str, reports: &(PathBuf, PathBuf)) -> String {
    let out = plugspec()
        .args(["compare", "--format", format])
        .arg(&reports.0)
        .arg(&reports.1)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

fn rule_ids(path: &Path) -> Vec<String> {
    let report = Report::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    report.rules.iter().map(|r| r.id.clone()).collect()
}

fn text_and_markdown(reports: &(PathBuf, PathBuf)) -> Result<(), Failed> {
    let ids = rule_ids(&reports.0);
    let text = compare("text", reports);
    for id in &ids {
        if !text
            .lines()
            .any(|l| l.split_whitespace().next() == Some(id))
        {
            return Err(format!("text: no line for {id}:\n{text}").into());
        }
    }
    let api2 = text.lines().find(|l| l.starts_with("API-2 ")).unwrap();
    if !(api2.contains("pass (") && api2.contains("FAIL (")) {
        return Err(format!("text: API-2 is not pass beside FAIL: {api2}").into());
    }
    let md = compare("markdown", reports);
    for id in &ids {
        if !md.lines().any(|l| l.starts_with(&format!("| {id} |"))) {
            return Err(format!("markdown: no row for {id}").into());
        }
    }
    if !md.contains("| other loader 0.1 |") || !md.contains("❌ **fail**") {
        return Err(format!("markdown: no column or failing cell:\n{md}").into());
    }
    if !md.contains("](conformance/api/") || !md.contains("expected <success>") {
        return Err(format!("markdown: the failure is not linked with its message:\n{md}").into());
    }
    Ok(())
}

fn unreadable_report_is_a_usage_error() -> Result<(), Failed> {
    let missing = scratch().join("missing.json");
    let out = plugspec().arg("compare").arg(&missing).assert().code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    if !stderr.contains("missing.json") {
        return Err(format!("the error does not name the file: {stderr}").into());
    }
    Ok(())
}

/// The browser: `$PLUGSPEC_BROWSER`, else the first of Chromium's and Chrome's usual names.
fn browser() -> Option<PathBuf> {
    if let Some(b) = std::env::var_os("PLUGSPEC_BROWSER") {
        return Some(PathBuf::from(b));
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let paths = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&paths) {
        for name in names {
            if dir.join(name).is_file() {
                return Some(dir.join(name));
            }
        }
    }
    let mac = Path::new("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome");
    mac.is_file().then(|| mac.to_path_buf())
}

fn html_in_a_browser(browser: &Path, reports: &(PathBuf, PathBuf)) -> Result<(), Failed> {
    let dir = scratch();
    let page = dir.join("matrix.html");
    plugspec()
        .args(["compare", "--format", "html", "--output"])
        .arg(&page)
        .arg(&reports.0)
        .arg(&reports.1)
        .assert()
        .success();
    let profile = dir.join("browser-profile");
    let out = Process::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", page.display()))
        .env("HOME", &dir)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", browser.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}): {}",
            browser.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let ids = rule_ids(&reports.0);
    for id in &ids {
        if !dom.contains(&format!("<tr id=\"rule-{id}\" class=\"rule")) {
            return Err(format!("the browser's page has no row for {id}").into());
        }
    }
    // The page's script ran: it counted the rows and the one rule whose outcomes differ.
    let summary = format!("{} rules, 1 where the implementations differ", ids.len());
    if !dom.contains(&summary) {
        return Err(format!("the page's script did not write {summary:?}").into());
    }
    let row = dom
        .split("<tr id=\"rule-API-2\"")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .unwrap_or_default();
    if !(row.contains("class=\"cell pass\"") && row.contains("class=\"cell fail\"")) {
        return Err(format!("API-2 is not a pass cell beside a fail cell: {row}").into());
    }
    if !row.contains("href=\"#i1-API-2\"") || !dom.contains("id=\"i1-API-2\"") {
        return Err("the failing cell does not link to its cases".into());
    }
    if !dom.contains("href=\"conformance/api/") {
        return Err("no case file is linked".into());
    }
    if !dom.contains("expected &lt;success&gt; &amp; got \"error\" 'io'") {
        return Err("the failure message is not shown as text".into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let loads = cfg!(any(
        target_os = "linux",
        target_os = "macos",
        target_os = "freebsd"
    ));
    let mut trials = Vec::new();
    trials.push(Trial::test(
        "compare/unreadable-report-is-a-usage-error",
        unreadable_report_is_a_usage_error,
    ));
    if !loads {
        // The reports come from a real run, which loads plugins.
        trials.push(Trial::test("compare/text-and-markdown", || Ok(())).with_ignored_flag(true));
        trials.push(Trial::test("compare/html-in-a-browser", || Ok(())).with_ignored_flag(true));
        libtest_mimic::run(&args, trials).exit();
    }
    let made = std::sync::OnceLock::new();
    let made = std::sync::Arc::new(made);
    let get = {
        let made = made.clone();
        move || made.get_or_init(|| reports(&scratch())).clone()
    };
    let g = get.clone();
    trials.push(Trial::test("compare/text-and-markdown", move || {
        text_and_markdown(&g())
    }));
    match browser() {
        Some(b) => trials.push(Trial::test("compare/html-in-a-browser", move || {
            html_in_a_browser(&b, &get())
        })),
        None if std::env::var_os("CI").is_some() => {
            trials.push(Trial::test("compare/html-in-a-browser", || {
                Err("no headless browser (chromium, google-chrome or $PLUGSPEC_BROWSER): CI must check the HTML page in one".into())
            }))
        }
        None => {
            eprintln!(
                "compare/html-in-a-browser: IGNORED: no headless browser (install chromium, or set PLUGSPEC_BROWSER); the HTML page is not checked"
            );
            trials.push(Trial::test("compare/html-in-a-browser", || Ok(())).with_ignored_flag(true));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
