//! The parent side of a case: it starts the child and never runs a loader itself.
//!
//! | concern | module |
//! |---|---|
//! | one case: each run in a fresh child, judged ([`run::run_case`]); the child process, its time limit, reading the protocol | [`run`] |
//! | the scratch directories, their permissions, and why a case cannot run here | [`scratch`] |
//! | observations against expectations → verdict | [`judge`] |
//! | the transcript and its snapshot | [`snapshot`] |
//! | paths, addresses and control characters made stable for transcripts | [`normalize`] |
//!
//! The child's side (steps carried out against the loader) is [`crate::child`]; what both sides
//! share is [`crate::case`] (what a step is) and [`crate::protocol`] (how it travels).

pub mod judge;
pub mod normalize;
pub mod run;
pub mod scratch;
pub mod snapshot;
