//! A small JSON Schema validator for the tests: the subset of JSON Schema 2020-12 the runner's
//! schemas use (type, const, enum, required, properties, additionalProperties: false, items,
//! minimum, oneOf, anyOf, $ref to #/$defs; `default` and `format` are annotations). Any other
//! keyword is an error, so a schema cannot say more than is checked. `.ci/run` validates the
//! same documents with check-jsonschema as well.

#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;

/// The schema file `name` of the runner crate (`report.schema.json`).
pub fn schema(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Panics unless `json` matches the schema file `name`.
pub fn assert_valid(name: &str, json: &Value) {
    let schema = schema(name);
    let mut errors = Vec::new();
    validate(&schema, &schema, json, "$", &mut errors);
    assert!(
        errors.is_empty(),
        "this does not match {name}:\n{}\n{json:#}",
        errors.join("\n")
    );
}

/// Validates `value` against `schema` (a subset of JSON Schema 2020-12: type, const, enum,
/// required, properties, additionalProperties: false, items, minimum, $ref to #/$defs).
pub fn validate(schema: &Value, root: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(schema) = schema.as_object() else {
        errors.push(format!("{at}: the schema is not an object"));
        return;
    };
    for (keyword, arg) in schema {
        match keyword.as_str() {
            "$schema" | "$id" | "title" | "description" | "$defs" | "default" | "format" => {}
            "oneOf" | "anyOf" => {
                let alternatives = arg.as_array().map(Vec::as_slice).unwrap_or_default();
                let matching = alternatives
                    .iter()
                    .filter(|alt| {
                        let mut sub = Vec::new();
                        validate(alt, root, value, at, &mut sub);
                        sub.is_empty()
                    })
                    .count();
                let ok = if keyword == "oneOf" {
                    matching == 1
                } else {
                    matching >= 1
                };
                if !ok {
                    errors.push(format!(
                        "{at}: {value} matches {matching} of the {} alternatives of {keyword}",
                        alternatives.len()
                    ));
                }
            }
            "$ref" => {
                let name = arg.as_str().and_then(|r| r.strip_prefix("#/$defs/"));
                match name.and_then(|n| root["$defs"].get(n)) {
                    Some(def) => validate(def, root, value, at, errors),
                    None => errors.push(format!("{at}: unresolvable $ref {arg}")),
                }
            }
            "type" => {
                let types: Vec<&str> = match arg {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                let ok = types.iter().any(|t| match *t {
                    "object" => value.is_object(),
                    "array" => value.is_array(),
                    "string" => value.is_string(),
                    "integer" => value.is_u64() || value.is_i64(),
                    "number" => value.is_number(),
                    "boolean" => value.is_boolean(),
                    "null" => value.is_null(),
                    _ => false,
                });
                if !ok {
                    errors.push(format!("{at}: {value} is not of type {arg}"));
                }
            }
            "const" => {
                if value != arg {
                    errors.push(format!("{at}: {value} is not {arg}"));
                }
            }
            "enum" => {
                if !arg.as_array().is_some_and(|a| a.contains(value)) {
                    errors.push(format!("{at}: {value} is not one of {arg}"));
                }
            }
            "minimum" => {
                if let (Some(v), Some(min)) = (value.as_f64(), arg.as_f64())
                    && v < min
                {
                    errors.push(format!("{at}: {v} is below {min}"));
                }
            }
            "required" => {
                for name in arg
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if value.get(name).is_none() {
                        errors.push(format!("{at}: missing required field {name}"));
                    }
                }
            }
            "properties" => {
                let props = arg.as_object().unwrap();
                for (name, sub) in props {
                    if let Some(v) = value.get(name) {
                        validate(sub, root, v, &format!("{at}.{name}"), errors);
                    }
                }
            }
            "additionalProperties" => {
                assert_eq!(arg, &Value::Bool(false), "{at}: only `false` is supported");
                let props = schema["properties"].as_object().unwrap();
                for name in value.as_object().into_iter().flat_map(|o| o.keys()) {
                    if !props.contains_key(name) {
                        errors.push(format!("{at}: field {name} is not in the schema"));
                    }
                }
            }
            "items" => {
                for (i, item) in value.as_array().into_iter().flatten().enumerate() {
                    validate(arg, root, item, &format!("{at}[{i}]"), errors);
                }
            }
            other => errors.push(format!(
                "{at}: the schema uses {other}, which is not checked"
            )),
        }
    }
}
