//! The plugspec conformance runner (work in progress).
