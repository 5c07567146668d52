//! LOOKUP-8 and the SDK's compile-time checks: exported variables must be writable storage (an
//! immutable `static` does not compile), and written types must match the exported items.
//! The expected compiler output is in `tests/ui/*.stderr`, recorded on Linux with rustc 1.95
//! (refresh with `TRYBUILD=overwrite` after a toolchain change). The checks are the same on
//! every target, so they run on Linux only, where the recorded output was made.
//!
//! A slow test (`tests/support/slow.rs`): trybuild compiles every UI file with rustc, and after
//! an edit to this crate rebuilds it first; ignored unless `PLUGSPEC_SLOW_TESTS=1` or under CI.

#[path = "support/slow.rs"]
mod slow;

fn the_sdk_refuses_what_it_cannot_export_soundly() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/immutable_static.rs");
    t.compile_fail("tests/ui/static_mut_that_is_not_mut.rs");
    t.compile_fail("tests/ui/function_type_differs.rs");
    t.compile_fail("tests/ui/variable_type_differs.rs");
    t.pass("tests/ui/writable_storage_compiles.rs");
}

fn main() {
    slow::main_of_one(
        "the_sdk_refuses_what_it_cannot_export_soundly",
        "trybuild compiles each tests/ui/*.rs with rustc, and this crate after an edit",
        cfg!(target_os = "linux"),
        the_sdk_refuses_what_it_cannot_export_soundly,
    )
}
