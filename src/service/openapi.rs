//! The OpenAPI document served at `/v1/openapi.json`: the hand-written `openapi.json` (routes,
//! responses, errors, events) with the composition JSON Schema ([`Composition::json_schema`],
//! what `reelsmith schema` prints) merged in when it is served, so the request bodies that
//! carry a spec are described by the one schema the spec module derives from its own types.
//!
//! The merge moves the schema's `$defs` into `components/schemas` (their `$ref`s rewritten to
//! match) and adds the schema itself as `components/schemas/Composition`. schemars marks Rust
//! integer types with a `format` (`uint32`, ...) that JSON Schema does not define, so tools
//! ignore it; the merge states the same bounds as `minimum`/`maximum`, which they understand.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::spec::Composition;

/// The hand-written part of the document.
const OPENAPI_JSON: &str = include_str!("openapi.json");

/// Where the composition schema's definitions go in the document.
const SCHEMAS: &str = "#/components/schemas/";

/// Why the document could not be put together (a bug in `openapi.json` or in the merge; the
/// tests build the document, so a release never has one).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenApiError {
    /// `openapi.json` is not JSON.
    #[error("src/service/openapi.json: {0}")]
    Parse(String),
    /// `openapi.json` lacks an object the merge writes into.
    #[error("src/service/openapi.json: no object at {0}")]
    Missing(&'static str),
    /// A definition of the composition schema has the name of a hand-written schema.
    #[error("components/schemas/{0}: defined in openapi.json and by the composition schema")]
    Collision(String),
}

/// The whole document: `openapi.json` with the composition schema merged in.
///
/// # Errors
/// [`OpenApiError`] when `openapi.json` is malformed or a name is defined twice.
pub fn document() -> Result<Value, OpenApiError> {
    let mut doc: Value =
        serde_json::from_str(OPENAPI_JSON).map_err(|e| OpenApiError::Parse(e.to_string()))?;
    let schemas = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
        .ok_or(OpenApiError::Missing("components/schemas"))?;
    merge_schema(schemas, "Composition", Composition::json_schema())?;
    add_request_id(&mut doc);
    Ok(doc)
}

/// Documents the `x-request-id` header on every response, the operations' own and the shared
/// ones in `components/responses` (responses that refer to those get it from there).
fn add_request_id(doc: &mut Value) {
    let header = serde_json::json!({ "$ref": "#/components/headers/RequestId" });
    let mut add = |response: &mut Value| {
        if let Some(r) = response.as_object_mut() {
            if !r.contains_key("$ref") {
                let headers = r
                    .entry("headers")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Some(h) = headers.as_object_mut() {
                    h.entry("x-request-id").or_insert_with(|| header.clone());
                }
            }
        }
    };
    if let Some(shared) = doc
        .pointer_mut("/components/responses")
        .and_then(Value::as_object_mut)
    {
        shared.values_mut().for_each(&mut add);
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for op in paths.values_mut().filter_map(Value::as_object_mut) {
            for responses in op.values_mut().filter_map(|o| o.get_mut("responses")) {
                if let Some(rs) = responses.as_object_mut() {
                    rs.values_mut().for_each(&mut add);
                }
            }
        }
    }
}

/// [`document`] as served, built once.
///
/// # Errors
/// As [`document`] (the first error, kept for every later call).
pub fn document_text() -> Result<&'static str, &'static OpenApiError> {
    static TEXT: OnceLock<Result<String, OpenApiError>> = OnceLock::new();
    TEXT.get_or_init(|| document().map(|d| d.to_string()))
        .as_ref()
        .map(String::as_str)
}

/// Adds `schema` (a JSON Schema document with `$defs`) to `schemas` as `name`, its `$defs`
/// beside it.
fn merge_schema(
    schemas: &mut Map<String, Value>,
    name: &str,
    mut schema: Value,
) -> Result<(), OpenApiError> {
    let defs = schema
        .as_object_mut()
        .map(|o| {
            o.remove("$schema");
            o.remove("$defs")
        })
        .unwrap_or_default();
    let mut entries = vec![(name.to_string(), schema)];
    if let Some(Value::Object(defs)) = defs {
        entries.extend(defs);
    }
    for (key, mut value) in entries {
        if schemas.contains_key(&key) {
            return Err(OpenApiError::Collision(key));
        }
        adapt(&mut value);
        schemas.insert(key, value);
    }
    Ok(())
}

/// Rewrites `#/$defs/X` references to `#/components/schemas/X` and states integer formats as
/// bounds, everywhere in `v`.
fn adapt(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref") {
                if let Some(def) = r.strip_prefix("#/$defs/") {
                    *r = format!("{SCHEMAS}{def}");
                }
            }
            if let Some((min, max)) = o.get("format").and_then(Value::as_str).and_then(bounds) {
                o.entry("minimum").or_insert(min.into());
                o.entry("maximum").or_insert(max.into());
            }
            o.values_mut().for_each(adapt);
        }
        Value::Array(a) => a.iter_mut().for_each(adapt),
        _ => {}
    }
}

/// The range of schemars' integer formats (the Rust types serde reads them into).
fn bounds(format: &str) -> Option<(i64, u64)> {
    Some(match format {
        "uint8" => (0, u8::MAX.into()),
        "uint16" => (0, u16::MAX.into()),
        "uint32" => (0, u32::MAX.into()),
        "uint64" | "uint" => (0, u64::MAX),
        "int8" => (i8::MIN.into(), i8::MAX as u64),
        "int16" => (i16::MIN.into(), i16::MAX as u64),
        "int32" => (i32::MIN.into(), i32::MAX as u64),
        "int64" | "int" => (i64::MIN, i64::MAX as u64),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        document().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Every `$ref` in `v`, with where it was found.
    fn refs(v: &Value, at: &str, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(o) => {
                for (k, x) in o {
                    if k == "$ref" {
                        if let Some(r) = x.as_str() {
                            out.push((at.to_string(), r.to_string()));
                        }
                    }
                    refs(x, &format!("{at}/{k}"), out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    refs(x, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_reference_resolves_inside_the_document() {
        let d = doc();
        let mut all = Vec::new();
        refs(&d, "", &mut all);
        assert!(all.len() > 50, "only {} references", all.len());
        for (at, r) in all {
            let target = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{at}: `{r}` is not local"));
            assert!(
                d.pointer(target).is_some(),
                "{at}: `{r}` resolves to nothing"
            );
        }
    }

    #[test]
    fn the_composition_is_the_spec_modules_schema() {
        let d = doc();
        let original = Composition::json_schema();
        let merged = &d["components"]["schemas"]["Composition"];
        assert_eq!(merged["required"], original["required"]);
        assert_eq!(merged["additionalProperties"], false);
        let props = merged["properties"].as_object().map(|p| p.len());
        assert_eq!(props, original["properties"].as_object().map(|p| p.len()));
        assert!(merged.get("$defs").is_none() && merged.get("$schema").is_none());
        // Every definition is there, and nothing references the old location.
        for name in original["$defs"]
            .as_object()
            .map(|o| o.keys())
            .into_iter()
            .flatten()
        {
            assert!(
                d["components"]["schemas"].get(name).is_some(),
                "{name} not merged"
            );
        }
        assert!(!d.to_string().contains("#/$defs/"));
        // Integer formats become bounds: `output.width` is a u32.
        let width = &d["components"]["schemas"]["Output"]["properties"]["width"];
        assert_eq!(width["maximum"], u64::from(u32::MAX));
        assert_eq!(width["minimum"], 0);
    }

    #[test]
    fn spec_bodies_reference_the_composition() {
        let d = doc();
        let comp = json_ref("Composition");
        let submit = &d["paths"]["/v1/renders"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        let sub = &d["components"]["schemas"]["Submission"];
        assert!(
            submit.to_string().contains(&comp)
                && sub["properties"]["spec"] == json_ref_v("Composition"),
            "{submit}"
        );
        let scene = &d["paths"]["/v1/renders/{id}/scenes/{scene}"]["post"]["requestBody"]
            ["content"]["application/json"]["schema"];
        assert_eq!(scene, &json_ref_v("Scene"));
    }

    #[test]
    fn every_error_kind_the_service_answers_is_documented() {
        let d = doc();
        let kinds = &d["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
            ["kind"]["enum"];
        for k in [
            "bad_request",
            "invalid_spec",
            "not_found",
            "conflict",
            "queue_full",
            "unauthorized",
            "forbidden",
            "range_not_satisfiable",
            "too_large",
            "unsupported_media_type",
            "shutting_down",
            "internal",
        ] {
            assert!(
                kinds
                    .as_array()
                    .is_some_and(|a| a.contains(&Value::from(k))),
                "{k} missing from {kinds}"
            );
        }
    }

    #[test]
    fn every_response_documents_the_request_id() {
        let d = doc();
        let mut seen = 0;
        for (path, item) in d["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                for (code, r) in op["responses"].as_object().into_iter().flatten() {
                    let r = match r["$ref"].as_str() {
                        Some(to) => d.pointer(&to[1..]).unwrap_or(&Value::Null),
                        None => r,
                    };
                    assert!(
                        r["headers"]["x-request-id"].is_object(),
                        "{method} {path} {code}"
                    );
                    seen += 1;
                }
            }
        }
        assert!(seen > 80, "{seen} responses");
    }

    fn json_ref(name: &str) -> String {
        format!("\"{SCHEMAS}{name}\"")
    }

    fn json_ref_v(name: &str) -> Value {
        serde_json::json!({ "$ref": format!("{SCHEMAS}{name}") })
    }
}
