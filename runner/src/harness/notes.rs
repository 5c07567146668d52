//! The snapshot side of a run: the notes trials leave when a transcript is new or changed,
//! summarised for the report and printed once at the end.

use super::*;

/// A transcript that differs from its snapshot (or could not be compared), for the summary
/// after the run.
#[derive(Debug, Clone)]
pub(super) struct Note {
    pub(super) trial: String,
    pub(super) compared: Result<snapshot::Comparison, String>,
}

/// The trial's failure for a snapshot that differs under CI: one line, then the diff.
pub(super) fn snapshot_failure(c: &snapshot::Comparison) -> String {
    let mut text = format!(
        "snapshot {}: {} — the case itself passed; under CI a new or changed snapshot fails the run (review it without CI, then `cargo insta review`)",
        c.outcome.word(),
        plugspec::error::escaped(&c.file)
    );
    if let Some(diff) = &c.diff {
        text.push('\n');
        text.push_str(diff.trim_end());
    }
    text
}

/// The snapshot part of the report, from the notes.
pub(super) fn summarise(dir: &Path, notes: &[Note]) -> Snapshots {
    let written: Vec<&snapshot::Comparison> = notes
        .iter()
        .filter_map(|n| n.compared.as_ref().ok())
        .filter(|c| c.written.is_some())
        .collect();
    let mut s = Snapshots {
        compared: true,
        why_not: None,
        dir: Some(plugspec::error::escaped(dir).to_string()),
        matched: 0,
        new: 0,
        changed: 0,
        written: Written::None,
        fail_run: false,
    };
    if let Some(c) = written.first() {
        s.written = match c.update {
            snapshot::Update::Accept => Written::Accepted,
            _ => Written::Pending,
        };
    }
    s.fail_run = notes.iter().any(|n| {
        matches!(&n.compared, Ok(c) if c.outcome.differs() && snapshot::differences_fail_run(c.update))
    });
    s
}

/// After the run: one line per snapshot that differs (or could not be compared), then the
/// diffs of the changed ones unless the trials' failures already showed them.
pub(super) fn print_snapshot_notes(notes: &[Note], summary: &Snapshots) {
    if notes.is_empty() {
        return;
    }
    let mut notes: Vec<&Note> = notes.iter().collect();
    notes.sort_by(|a, b| a.trial.cmp(&b.trial));
    println!("\nsnapshots that differ from the stored ones (never a conformance failure):");
    for n in &notes {
        match &n.compared {
            Ok(c) => println!(
                "  snapshot {:<8} {}  {}",
                c.outcome.word(),
                n.trial,
                c.written.as_ref().map_or_else(
                    || format!("(nothing written; {})", plugspec::error::escaped(&c.file)),
                    |w| format!("-> {}", w.display())
                )
            ),
            Err(e) => println!("  snapshot error   {}  {e}", n.trial),
        }
    }
    if !summary.fail_run {
        for n in &notes {
            if let Ok(snapshot::Comparison { diff: Some(d), .. }) = &n.compared {
                println!("\n{}", d.trim_end());
            }
        }
    }
    match summary.written {
        Written::Pending => println!(
            "review them with `cargo insta review` (or `cargo insta accept`); without CI they do not change the exit status"
        ),
        Written::Accepted => println!("accepted as the stored snapshots (INSTA_UPDATE)"),
        Written::None => {}
    }
}
