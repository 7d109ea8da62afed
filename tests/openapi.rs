//! The OpenAPI document is the contract: schemathesis (pinned in `scripts/setup.sh --test`)
//! generates requests from `/v1/openapi.json`, valid and invalid, sends them to a real
//! `reelsmith serve` on a free loopback port with a fresh storage root, and checks every answer
//! against the document (`--checks all`: status codes, content types, headers and bodies
//! documented, no 5xx, schema-valid data accepted, schema-violating data refused, the stateful
//! links between operations). Bounded and seeded, so a run is repeatable.
//!
//! What schemathesis is told beyond its defaults is in `tests/schemathesis.toml`, with why.
#![cfg(feature = "service")]

mod common;

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The schemathesis release `scripts/setup.sh --test` installs; another one generates other
/// cases from the same seed.
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// Cases per operation and phase. 25 covers every operation in about a minute on 2 cores.
const MAX_EXAMPLES: &str = "25";
const SEED: &str = "20261205";
/// A run that takes longer than this is stopped and fails (it normally takes about a minute).
const TIME_LIMIT: Duration = Duration::from_secs(240);

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the service: one worker, one compose thread, at most two renders waiting, so the
/// renders schemathesis submits stay cheap (its example is 2 frames of 64x64; a generated
/// spec that passes validation waits its turn or gets 429); small render budgets make a long
/// generated spec a 422 instead of a long render.
fn serve(media: &Path) -> (Killed, String) {
    let (child, base) = common::spawn_serve(
        media,
        &[
            "--workers",
            "1",
            "--threads",
            "1",
            "--queue",
            "2",
            "--retention",
            "0",
            "--max-render-frames",
            "120",
            "--max-render-pixels",
            "27648000", // 120 frames of 640x360
        ],
    );
    (Killed(child), base)
}

/// The number before the last `word` in `text` (`"10305 generated"` → 10305).
fn count_before(text: &str, word: &str) -> Option<u64> {
    let at = text.rfind(word)?;
    text[..at].split_whitespace().last()?.parse().ok()
}

#[test]
fn schemathesis_finds_no_failure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let media = dir.path().join("media");
    let (mut server, base) = serve(&media);
    let exe = std::env::var("SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemathesis.toml");
    let out_path = dir.path().join("schemathesis.txt");
    let out = std::fs::File::create(&out_path).expect("output file");
    let args = [
        "--config-file".to_string(),
        config.display().to_string(),
        "--no-color".into(),
        "run".into(),
        format!("{base}/v1/openapi.json"),
        "--checks".into(),
        "all".into(),
        "--max-examples".into(),
        MAX_EXAMPLES.into(),
        "--seed".into(),
        SEED.into(),
        "--workers".into(),
        "1".into(),
        // Examples found by an earlier run are not replayed: every run is the same run.
        "--generation-database".into(),
        "none".into(),
    ];
    let started = Instant::now();
    let child = Command::new(&exe)
        .args(&args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdout(out.try_clone().expect("output file"))
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `{exe}` ({e}): install it with scripts/setup.sh --test \
                 (pip install schemathesis=={SCHEMATHESIS_VERSION})"
            )
        });
    let mut child = Killed(child);
    let status = loop {
        if let Some(st) = child.0.try_wait().expect("wait for schemathesis") {
            break st;
        }
        if started.elapsed() > TIME_LIMIT {
            let _ = child.0.kill();
            panic!(
                "schemathesis still running after {TIME_LIMIT:?}:\n{}",
                std::fs::read_to_string(&out_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let took = started.elapsed();
    let text = std::fs::read_to_string(&out_path).expect("schemathesis output");
    let command = format!("{exe} {}", args.join(" "));
    assert!(
        text.contains(&format!("Schemathesis v{SCHEMATHESIS_VERSION}")),
        "not schemathesis {SCHEMATHESIS_VERSION} (scripts/setup.sh --test installs it):\n{text}"
    );
    assert!(
        status.success(),
        "{command}\nfailed ({status}) after {took:?}:\n{text}\nservice log: {}",
        media.with_extension("log").display()
    );
    // It ran what it says it ran: every operation, thousands of cases, no failure.
    let operations = text
        .lines()
        .find(|l| l.trim_start().starts_with("Operations:"))
        .and_then(|l| count_before(l, "selected /"))
        .unwrap_or(0);
    let cases = count_before(&text, "generated").unwrap_or(0);
    assert!(operations >= 14, "{operations} operations tested:\n{text}");
    assert!(cases >= 1000, "{cases} cases generated:\n{text}");
    assert!(
        text.contains(" passed ") && !text.contains("❌"),
        "a phase failed:\n{text}"
    );
    // The service is still up: nothing schemathesis sent brought it down.
    assert!(
        server.0.try_wait().expect("service state").is_none(),
        "the service exited during the run"
    );
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains(" in ") && l.starts_with('='))
        .unwrap_or_default();
    eprintln!(
        "schemathesis {SCHEMATHESIS_VERSION}: {operations} operations, {cases} cases, \
         0 failures, {:.1} s ({summary})\n{command}",
        took.as_secs_f64()
    );
}

/// Status and JSON body of one request (`body` is sent as JSON when given).
fn call(method: &str, url: &str, body: Option<&str>, headers: &[(&str, &str)]) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let req = ureq::http::Request::builder().method(method).uri(url);
    let req = headers.iter().fold(req, |r, (k, v)| r.header(*k, *v));
    let resp = match body {
        Some(b) => agent.run(
            req.header("Content-Type", "application/json")
                .body(b.to_string())
                .expect("request"),
        ),
        None => agent.run(req.body(()).expect("request")),
    };
    let mut resp = resp.unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, json)
}

/// The answers schemathesis found wrong on the last release, and the ones the document now
/// promises, each asked once by hand.
#[test]
fn the_service_answers_as_its_document_says() {
    let dir = tempfile::tempdir().expect("temp dir");
    let media = dir.path().join("media");
    let (mut server, base) = serve(&media);
    let url = |p: &str| format!("{base}{p}");

    // The document's composition is the spec module's schema, and the spec bodies use it.
    let (st, doc) = call("GET", &url("/v1/openapi.json"), None, &[]);
    assert_eq!(st, 200);
    let schema = reelsmith::Composition::json_schema();
    let comp = &doc["components"]["schemas"]["Composition"];
    assert_eq!(comp["required"], schema["required"]);
    assert_eq!(
        comp["properties"]["scenes"]["items"]["$ref"],
        "#/components/schemas/Scene"
    );
    for name in schema["$defs"].as_object().expect("$defs").keys() {
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
    let body = doc["paths"]["/v1/renders"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"]
        .to_string();
    assert!(body.contains("#/components/schemas/Composition"), "{body}");

    // `{}` is not a composition, for the document (scenes required) and for the service.
    let (st, e) = call("POST", &url("/v1/renders"), Some("{}"), &[]);
    assert_eq!(
        (st, e["error"]["kind"].as_str()),
        (422, Some("invalid_spec")),
        "{e}"
    );

    // A title of size 0 is a 422 naming it, not a panic in the text engine.
    let zero = r##"{"output": {"width": 64, "height": 64}, "scenes": [{"duration": 1, "layers": [
        {"type": "title", "title": "x", "title_style": {"size": 0}}]}]}"##;
    let (st, e) = call("POST", &url("/v1/renders"), Some(zero), &[]);
    assert_eq!(st, 422, "{e}");
    assert!(
        e.to_string()
            .contains("scenes[0].layers[0].title_style.size"),
        "{e}"
    );

    // Cleanup: an age is given or left out, never null, never past 100 years.
    for bad in [
        r#"{"older_than": null}"#,
        r#"{"older_than": "100000000000000000000"}"#,
        r#"{"older_than": 1e300}"#,
        r#"{"older_than": -1}"#,
        r#"{"older_than": "1e3"}"#,
        r#"{"older_than": "6h", "other": 1}"#,
    ] {
        let (st, e) = call("POST", &url("/v1/cleanup"), Some(bad), &[]);
        assert_eq!(
            (st, e["error"]["kind"].as_str()),
            (400, Some("bad_request")),
            "{bad}: {e}"
        );
    }
    let (st, r) = call(
        "POST",
        &url("/v1/cleanup"),
        Some(r#"{"older_than": "6h"}"#),
        &[],
    );
    assert_eq!(
        (st, r["older_than_s"].as_f64()),
        (200, Some(21600.0)),
        "{r}"
    );

    // The list's parameters: out of range or malformed is a JSON 400, never a 500.
    for q in [
        "offset=18446744073709551615",
        "offset=9223372036854775808",
        "limit=0",
        "limit=101",
        "limit=-1",
        "state=",
        "state=done&state=done",
    ] {
        let (st, e) = call("GET", &url(&format!("/v1/renders?{q}")), None, &[]);
        assert_eq!(
            (st, e["error"]["kind"].as_str()),
            (400, Some("bad_request")),
            "{q}: {e}"
        );
    }
    let (st, page) = call(
        "GET",
        &url("/v1/renders?limit=100&offset=9223372036854775807"),
        None,
        &[],
    );
    assert_eq!(
        (st, page["renders"].as_array().map(Vec::len)),
        (200, Some(0)),
        "{page}"
    );

    // An Idempotency-Key is visible ASCII.
    let spec = r##"{"output": {"width": 64, "height": 64, "fps": 10},
        "scenes": [{"duration": 0.2}]}"##;
    let (st, e) = call(
        "POST",
        &url("/v1/renders"),
        Some(spec),
        &[("Idempotency-Key", "a b")],
    );
    assert_eq!(st, 400, "{e}");

    // A long upload name is cut, not a 500 with the server's path in it.
    let long = "n".repeat(300);
    let (st, up) = {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = agent
            .post(url(&format!("/v1/assets?name={long}.png")))
            .header("Content-Type", "application/octet-stream")
            .send(&b"bytes"[..])
            .expect("upload");
        let st = r.status().as_u16();
        (
            st,
            serde_json::from_str::<Value>(&r.body_mut().read_to_string().expect("body"))
                .expect("JSON"),
        )
    };
    assert_eq!(st, 201, "{up}");
    let name = up["path"].as_str().expect("path");
    assert!(
        name.starts_with("assets/uploads/") && name.len() < 140,
        "{name}"
    );

    assert!(server.0.try_wait().expect("service state").is_none());
}
