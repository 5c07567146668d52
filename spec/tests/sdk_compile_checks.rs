//! LOOKUP-8 and the SDK's compile-time checks: exported variables must be writable storage (an
//! immutable `static` does not compile), and written types must match the exported items.
//! The expected compiler output is in `tests/ui/*.stderr` (rustc 1.95; refresh with
//! `TRYBUILD=overwrite` after a toolchain change).

#[test]
fn the_sdk_refuses_what_it_cannot_export_soundly() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/immutable_static.rs");
    t.compile_fail("tests/ui/static_mut_that_is_not_mut.rs");
    t.compile_fail("tests/ui/function_type_differs.rs");
    t.compile_fail("tests/ui/variable_type_differs.rs");
    t.pass("tests/ui/writable_storage_compiles.rs");
}
