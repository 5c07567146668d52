//! The driver protocol's JSON Schemas (`runner/protocol/*.schema.json`, described in
//! `runner/PROTOCOL.md`) describe what the runner and its Rust driver actually send: the run
//! request of every case of the suite, the Rust driver's hello, an observation with every field,
//! and done. The capabilities the hello schema lists are exactly the runner's.

use std::path::{Path, PathBuf};

use plugspec_runner::case::load_suite;
use plugspec_runner::fixtures::Catalog;
use plugspec_runner::protocol::{
    DRIVER_CAPABILITIES, Message, Observation, ObservedError, ObservedSkip, ObservedSymbol,
    PROTOCOL_VERSION, Request, ThreadObservation,
};
use serde_json::Value;

mod json_schema;

fn valid(name: &str, value: &impl serde::Serialize) {
    json_schema::assert_valid(
        &format!("protocol/{name}.schema.json"),
        &serde_json::to_value(value).unwrap(),
    );
}

#[test]
fn every_case_s_run_request_matches_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let catalog = Catalog::scan(&root.join("fixtures")).unwrap();
    let suite = load_suite(&root.join("conformance"), &catalog).unwrap();
    assert!(suite.cases.len() > 100);
    let dir = Path::new("/tmp/case");
    for case in &suite.cases {
        let request = Request::Run {
            protocol: PROTOCOL_VERSION,
            case: case.id.clone(),
            case_dir: dir.display().to_string(),
            host: case.host.clone(),
            steps: case
                .steps
                .iter()
                .map(|s| {
                    s.op.resolved(dir, &|name: &str| {
                        PathBuf::from(format!("/tmp/case/{name}.so"))
                    })
                })
                .collect(),
        };
        valid("run", &request);
    }
}

#[test]
fn the_rust_driver_s_messages_match_the_schemas() {
    valid(
        "hello",
        &Message::Hello {
            protocol: PROTOCOL_VERSION,
            driver: "plugspec-runner".into(),
            loader: "plugspec::ReferenceLoader".into(),
            capabilities: plugspec_runner::child::rust_capabilities(),
            kit: Some("plugspec".into()),
        },
    );
    let error = ObservedError {
        kind: "version_mismatch".into(),
        message: "m".into(),
        path: Some("p.so".into()),
        previous_failure: true,
        differences: vec!["package fixture-common".into()],
    };
    let every_field = Observation {
        step: 3,
        error: Some(error.clone()),
        harness_error: Some("h".into()),
        panic: Some("p".into()),
        identity: Some("fixtures.basic".into()),
        identical_to: vec!["p1".into()],
        value: Some(-1),
        symbol: Some(ObservedSymbol {
            kind: "function".into(),
            rust_type: "extern \"C\" fn() -> i32".into(),
            same_address_as: vec!["a".into()],
            size: Some(8),
            align: Some(8),
        }),
        allocations: Some(0),
        threads: Some(vec![ThreadObservation {
            error: Some(error.clone()),
            read: Some(1),
            same_as_first: true,
        }]),
        mapped: Some(true),
        found: Some(false),
        lines: Some(vec!["init fixtures.basic".into()]),
        loaded: Some(vec!["a.so".into()]),
        skipped: Some(vec![ObservedSkip {
            file: "b.so".into(),
            error,
        }]),
        fingerprint: Some(vec!["target = x".into()]),
        duration_us: 5,
    };
    let value = serde_json::to_value(Message::Observation(Box::new(every_field))).unwrap();
    let schema = json_schema::schema("protocol/observation.schema.json");
    let listed = schema["properties"].as_object().unwrap();
    for field in value.as_object().unwrap().keys() {
        assert!(listed.contains_key(field), "{field} is not in the schema");
    }
    json_schema::assert_valid("protocol/observation.schema.json", &value);
    valid("done", &Message::Done);
}

#[test]
fn the_hello_schema_lists_exactly_the_runner_s_capabilities() {
    let schema = json_schema::schema("protocol/hello.schema.json");
    let listed: Vec<&str> = schema["properties"]["capabilities"]["items"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let ours: Vec<&str> = DRIVER_CAPABILITIES.iter().map(|(c, _)| *c).collect();
    assert_eq!(listed, ours);
}
