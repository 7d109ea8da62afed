//! The field-by-field spec reference (`reelsmith schema --markdown`, `docs/spec.md`),
//! generated from the JSON Schema so that it can never drift from the code.

use serde_json::Value;

/// Renders the spec's JSON Schema as a Markdown reference: one table per object, one list
/// per set of choices, every field with its type, default and meaning.
pub fn markdown() -> String {
    let schema = crate::Composition::json_schema();
    let defs = schema.get("$defs").cloned().unwrap_or(Value::Null);
    let mut out = String::from(
        "# Composition spec reference (version 1)\n\n\
         Generated from the JSON Schema by `reelsmith schema --markdown`; do not edit by hand.\n\
         Unknown fields are rejected. Times are seconds; colours `#RRGGBB` or `#RRGGBBAA`;\n\
         relative asset paths are looked up beside the spec file, then under the media root\n\
         (`stock/…`); in the service, under its storage root only.\n\n",
    );
    object_section(&mut out, "Composition", &schema);
    if let Value::Object(map) = &defs {
        let mut names: Vec<&String> = map.keys().collect();
        names.sort();
        for name in names {
            let def = &map[name];
            if def.get("properties").is_some() {
                object_section(&mut out, name, def);
            } else if let Some(variants) = def.get("oneOf").or_else(|| def.get("anyOf")) {
                choice_section(&mut out, name, def, variants);
            } else if let Some(Value::Array(values)) = def.get("enum") {
                let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                out.push_str(&format!(
                    "## {name}\n\n{}\n\nOne of: {}.\n\n",
                    text(def.get("description")),
                    list.join(", ")
                ));
            }
        }
    }
    out
}

fn text(v: Option<&Value>) -> String {
    v.and_then(Value::as_str).unwrap_or("").replace('\n', " ")
}

fn type_of(v: &Value) -> String {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("[{name}](#{})", name.to_lowercase());
    }
    if let Some(c) = v.get("const") {
        return format!("`{c}`");
    }
    if let Some(alts) = v
        .get("anyOf")
        .or_else(|| v.get("oneOf"))
        .and_then(Value::as_array)
    {
        let parts: Vec<String> = alts
            .iter()
            .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
            .map(type_of)
            .collect();
        return parts.join(" or ");
    }
    match v.get("type") {
        Some(Value::String(t)) if t == "array" => {
            format!(
                "array of {}",
                v.get("items").map_or_else(|| "any".into(), type_of)
            )
        }
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "any".into(),
    }
}

fn object_section(out: &mut String, name: &str, def: &Value) {
    out.push_str(&format!(
        "## {name}\n\n{}\n\n",
        text(def.get("description"))
    ));
    fields_table(out, def);
}

fn fields_table(out: &mut String, def: &Value) {
    let Some(Value::Object(props)) = def.get("properties") else {
        return;
    };
    let required: Vec<&str> = def
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| field | type | required | meaning |\n|---|---|---|---|\n");
    for (field, p) in props {
        let req = if required.contains(&field.as_str()) {
            "yes"
        } else {
            ""
        };
        out.push_str(&format!(
            "| `{field}` | {} | {req} | {} |\n",
            type_of(p),
            text(p.get("description")).replace('|', "\\|")
        ));
    }
    out.push('\n');
}

fn choice_section(out: &mut String, name: &str, def: &Value, variants: &Value) {
    out.push_str(&format!(
        "## {name}\n\n{}\n\n",
        text(def.get("description"))
    ));
    for v in variants.as_array().into_iter().flatten() {
        let tag = v
            .get("properties")
            .and_then(|p| p.get("type"))
            .and_then(|t| t.get("const"))
            .and_then(Value::as_str);
        match (tag, v.get("properties")) {
            (Some(tag), Some(_)) => {
                out.push_str(&format!(
                    "### `\"type\": \"{tag}\"`\n\n{}\n\n",
                    text(v.get("description"))
                ));
                fields_table(out, v);
            }
            _ => out.push_str(&format!(
                "- {}: {}\n",
                type_of(v),
                text(v.get("description"))
            )),
        }
    }
    out.push('\n');
}
