//! Templates: a spec that declares `variables` and uses `{{name}}` in its strings.
//!
//! Substitution happens on the JSON document, before it is read into a [`Composition`], so a
//! value ends up exactly where it was written: a colour that does not parse, a path outside the
//! roots or a number out of range is reported at the field's own JSON path, as if the value had
//! been typed there. Only the values are checked here: that each one given is declared, has
//! the declared type, and that every placeholder used has a value.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Composition, SpecError, SpecIssue};

/// The values given for a template's variables, by name.
pub type Values = BTreeMap<String, Value>;

/// A declared template variable: `"variables": {"site": {"type": "string", "default": "Leeds"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// The value's type. A `number` or `boolean` variable used as a whole string
    /// (`"duration": "{{seconds}}"`) becomes that JSON value; used inside a longer string it
    /// is written as text. Default: `string`.
    #[serde(default, rename = "type")]
    pub kind: VariableType,
    /// The value when none is given. Default: none (the variable must be given a value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// What the variable is for, shown by the service's page next to its field. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The type of a template variable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum VariableType {
    #[default]
    String,
    Number,
    Boolean,
}

impl VariableType {
    fn as_str(self) -> &'static str {
        match self {
            VariableType::String => "string",
            VariableType::Number => "number",
            VariableType::Boolean => "boolean",
        }
    }

    /// `value` as this type: strings given on a command line or in a CSV cell are read as
    /// numbers and booleans where the type asks for one.
    fn coerce(self, value: &Value) -> Option<Value> {
        match (self, value) {
            (VariableType::String, Value::String(_)) => Some(value.clone()),
            (VariableType::String, Value::Number(n)) => Some(Value::String(n.to_string())),
            (VariableType::String, Value::Bool(b)) => Some(Value::String(b.to_string())),
            (VariableType::Number, Value::Number(n)) if n.as_f64().is_some_and(f64::is_finite) => {
                Some(value.clone())
            }
            (VariableType::Number, Value::String(s)) => {
                let n = s.trim().parse::<f64>().ok().filter(|n| n.is_finite())?;
                serde_json::Number::from_f64(n).map(|n| {
                    // Keep integers integral (`"3"` → 3, not 3.0), so integer fields take them.
                    match s.trim().parse::<i64>() {
                        Ok(i) => Value::from(i),
                        Err(_) => Value::Number(n),
                    }
                })
            }
            (VariableType::Boolean, Value::Bool(_)) => Some(value.clone()),
            (VariableType::Boolean, Value::String(s)) => match s.trim() {
                "true" | "yes" | "1" => Some(Value::Bool(true)),
                "false" | "no" | "0" => Some(Value::Bool(false)),
                _ => None,
            },
            _ => None,
        }
    }
}

/// A placeholder found in a string: the byte range of `{{ name }}` and the name.
struct Placeholder<'a> {
    start: usize,
    end: usize,
    name: &'a str,
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The placeholders in `s`: `{{name}}` with optional spaces inside the braces; a name starts
/// with a letter or `_` and holds letters, digits, `_` and `-`. Other text with braces stays
/// as it is.
fn placeholders(s: &str) -> Vec<Placeholder<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = s[from..].find("{{").map(|i| from + i) {
        let Some(close) = s[open + 2..].find("}}").map(|i| open + 2 + i) else {
            break;
        };
        let name = s[open + 2..close].trim();
        if is_name(name) {
            out.push(Placeholder {
                start: open,
                end: close + 2,
                name,
            });
            from = close + 2;
        } else {
            from = open + 1;
        }
    }
    out
}

/// The names of the placeholders used anywhere in `doc` (outside `variables`), each with the
/// JSON path of its first use, in document order.
pub fn used_variables(doc: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    walk(doc, "$", &mut |s, path| {
        for p in placeholders(s) {
            if !out.iter().any(|(n, _)| n == p.name) {
                out.push((p.name.to_string(), path.to_string()));
            }
        }
    });
    out
}

fn child(path: &str, key: &str) -> String {
    if path == "$" {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Calls `f` with every string in `v` and its JSON path (the spec's path style:
/// `scenes[0].layers[1].text`), skipping the top level's `variables`.
fn walk(v: &Value, path: &str, f: &mut impl FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(s, path),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, &format!("{path}[{i}]"), f);
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                if path == "$" && k == "variables" {
                    continue;
                }
                walk(x, &child(path, k), f);
            }
        }
        _ => {}
    }
}

/// Replaces the placeholders in every string of `v` (outside the top level's `variables`).
fn substitute(v: &mut Value, top: bool, values: &BTreeMap<&str, Value>) {
    match v {
        Value::String(s) => {
            let found = placeholders(s);
            let Some(first) = found.first() else {
                return;
            };
            // A whole-string placeholder takes the value's own JSON type.
            if found.len() == 1 && first.start == 0 && first.end == s.len() {
                if let Some(value) = values.get(first.name) {
                    *v = value.clone();
                }
                return;
            }
            let mut out = String::with_capacity(s.len());
            let mut at = 0;
            for p in &found {
                out.push_str(&s[at..p.start]);
                match values.get(p.name) {
                    Some(Value::String(t)) => out.push_str(t),
                    Some(other) => out.push_str(&other.to_string()),
                    None => out.push_str(&s[p.start..p.end]),
                }
                at = p.end;
            }
            out.push_str(&s[at..]);
            *s = out;
        }
        Value::Array(a) => a.iter_mut().for_each(|x| substitute(x, false, values)),
        Value::Object(o) => {
            for (k, x) in o.iter_mut() {
                if !(top && k == "variables") {
                    substitute(x, false, values);
                }
            }
        }
        _ => {}
    }
}

/// Reads a template's declarations (`variables`), checking each one's shape.
fn declarations(doc: &Value, issues: &mut Vec<SpecIssue>) -> BTreeMap<String, Variable> {
    let mut out = BTreeMap::new();
    let Some(vars) = doc.get("variables") else {
        return out;
    };
    let Some(vars) = vars.as_object() else {
        issues.push(SpecIssue {
            path: "variables".into(),
            message: "expected an object of variable declarations".into(),
        });
        return out;
    };
    for (name, decl) in vars {
        let path = format!("variables.{name}");
        if !is_name(name) {
            issues.push(SpecIssue {
                path: path.clone(),
                message: format!(
                    "invalid variable name {name:?} (expected a letter or _, then letters, \
                     digits, _ or -)"
                ),
            });
            continue;
        }
        match Variable::deserialize(decl) {
            Ok(v) => {
                if let Some(d) = &v.default {
                    if v.kind.coerce(d).is_none() {
                        issues.push(SpecIssue {
                            path: format!("{path}.default"),
                            message: format!("default {d} is not a {}", v.kind.as_str()),
                        });
                    }
                }
                out.insert(name.clone(), v);
            }
            Err(e) => issues.push(SpecIssue {
                path,
                message: e.to_string(),
            }),
        }
    }
    out
}

/// The declared variables of a template (its `variables`), without substituting anything:
/// what a form asks for.
///
/// # Errors
/// [`SpecError::Parse`] for text that is not JSON, [`SpecError::Invalid`] for malformed
/// declarations.
pub fn declared(text: &str) -> Result<BTreeMap<String, Variable>, SpecError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| SpecError::Parse {
        path: "$".into(),
        message: e.to_string(),
    })?;
    let mut issues = Vec::new();
    let out = declarations(&doc, &mut issues);
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(SpecError::Invalid(issues))
    }
}

/// Substitutes `values` (and the declared defaults) into a template document and returns the
/// document a [`Composition`] is read from. Every problem is reported at once: a value for an
/// undeclared variable (`variables.NAME`), a value of the wrong type, a placeholder without a
/// declaration or a value (at the JSON path of its first use).
///
/// # Errors
/// [`SpecError::Invalid`] listing the problems.
pub fn instantiate(mut doc: Value, values: &Values) -> Result<Value, SpecError> {
    let mut issues = Vec::new();
    let decls = declarations(&doc, &mut issues);
    let mut resolved: BTreeMap<&str, Value> = BTreeMap::new();
    for (name, value) in values {
        let Some(decl) = decls.get(name) else {
            let known = decls.keys().map(String::as_str).collect::<Vec<_>>();
            issues.push(SpecIssue {
                path: format!("variables.{name}"),
                message: if known.is_empty() {
                    format!("a value was given for {name:?}, but the spec declares no variables")
                } else {
                    format!(
                        "a value was given for {name:?}, which the spec does not declare \
                         (declared: {})",
                        known.join(", ")
                    )
                },
            });
            continue;
        };
        match decl.kind.coerce(value) {
            Some(v) if v.as_str().is_some_and(|s| s.contains("{{")) => issues.push(SpecIssue {
                path: format!("variables.{name}"),
                message: "a value may not contain \"{{\"".into(),
            }),
            Some(v) => {
                resolved.insert(name, v);
            }
            None => issues.push(SpecIssue {
                path: format!("variables.{name}"),
                message: format!("value {value} is not a {}", decl.kind.as_str()),
            }),
        }
    }
    for (name, decl) in &decls {
        if !resolved.contains_key(name.as_str()) && !values.contains_key(name) {
            if let Some(v) = decl.default.as_ref().and_then(|d| decl.kind.coerce(d)) {
                resolved.insert(name, v);
            }
        }
    }
    for (name, path) in used_variables(&doc) {
        if resolved.contains_key(name.as_str()) || values.contains_key(&name) {
            continue;
        }
        issues.push(SpecIssue {
            message: if decls.contains_key(&name) {
                format!(
                    "variable {name:?} has no value (give one, e.g. --var {name}=…, or declare \
                     a default)"
                )
            } else {
                format!("unknown variable {name:?} (declare it under \"variables\")")
            },
            path,
        });
    }
    if !issues.is_empty() {
        return Err(SpecError::Invalid(issues));
    }
    substitute(&mut doc, true, &resolved);
    Ok(doc)
}

impl Composition {
    /// Reads a spec that may be a template, substituting `values` and the declared defaults
    /// for its `{{name}}` placeholders (see [`instantiate`]), then reads the result like
    /// [`Composition::from_json`]: a value that breaks a field is reported at that field.
    ///
    /// # Errors
    /// [`SpecError::Parse`] (malformed JSON, a shape error at its path) or
    /// [`SpecError::Invalid`] (the variables' problems, all at once).
    pub fn from_template(text: &str, values: &Values) -> Result<Composition, SpecError> {
        let doc: Value = match serde_json::from_str(text) {
            Ok(doc) => doc,
            // The typed reader says where the text stopped being JSON.
            Err(_) => return Composition::from_json_plain(text),
        };
        let doc = instantiate(doc, values)?;
        serde_path_to_error::deserialize(&doc).map_err(|e| {
            let path = e.path().to_string();
            SpecError::Parse {
                path: if path == "." { "$".into() } else { path },
                message: e.into_inner().to_string(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(v: Value) -> Values {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn placeholders_are_names_in_double_braces() {
        let s = "Hello {{ name }}, {{x-1}} {{ not a name }} {{}} {{last}}";
        let names: Vec<_> = placeholders(s).iter().map(|p| p.name).collect();
        assert_eq!(names, ["name", "x-1", "last"]);
        assert!(placeholders("{{ unclosed").is_empty());
    }

    #[test]
    fn values_replace_text_and_whole_strings_take_their_type() {
        let doc = json!({
            "variables": {"site": {}, "secs": {"type": "number", "default": 4}},
            "a": "Welcome to {{site}} ({{ secs }} s)",
            "b": "{{secs}}",
            "c": ["{{site}}"]
        });
        let out = instantiate(doc, &values(json!({"site": "Leeds"}))).unwrap();
        assert_eq!(out["a"], "Welcome to Leeds (4 s)");
        assert_eq!(out["b"], 4);
        assert_eq!(out["c"][0], "Leeds");
        // Declarations are kept as they were.
        assert_eq!(out["variables"]["site"], json!({}));
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let doc = json!({
            "variables": {"site": {}, "n": {"type": "number"}},
            "scenes": [{"layers": [{"text": "{{site}} {{who}}"}]}],
            "x": "{{n}}"
        });
        let Err(SpecError::Invalid(issues)) =
            instantiate(doc, &values(json!({"n": "many", "extra": 1})))
        else {
            panic!("expected issues");
        };
        let paths: Vec<_> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "variables.extra",
                "variables.n",
                "scenes[0].layers[0].text",
                "scenes[0].layers[0].text"
            ],
            "{issues:?}"
        );
        assert!(issues[2].message.contains("\"site\" has no value"));
        assert!(issues[3].message.contains("unknown variable \"who\""));
    }

    #[test]
    fn strings_from_a_table_are_read_as_the_declared_type() {
        assert_eq!(VariableType::Number.coerce(&json!("3")), Some(json!(3)));
        assert_eq!(VariableType::Number.coerce(&json!("2.5")), Some(json!(2.5)));
        assert_eq!(VariableType::Number.coerce(&json!("NaN")), None);
        assert_eq!(
            VariableType::Boolean.coerce(&json!("no")),
            Some(json!(false))
        );
        assert_eq!(VariableType::String.coerce(&json!(7)), Some(json!("7")));
        assert_eq!(VariableType::String.coerce(&json!([1])), None);
    }

    #[test]
    fn a_value_cannot_smuggle_a_placeholder() {
        let doc = json!({"variables": {"a": {}}, "t": "{{a}}"});
        assert!(instantiate(doc, &values(json!({"a": "{{a}}"}))).is_err());
    }
}
