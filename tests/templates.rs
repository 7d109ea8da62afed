//! Templates, batches and languages (issue 25): a spec with variables rendered from the
//! library and the command line, a batch with a failing row and a re-run, a right-to-left
//! module. Real renders, decoded.

mod common;

use std::process::Command;

use common::{frames, px, Sandbox};
use reelsmith::batch::{self, BatchOptions, RowStatus};
use reelsmith::media::probe::probe;
use reelsmith::spec::Values;
use reelsmith::{Composition, SpecError};
use serde_json::json;

/// A 64x64, 1 s template: the background colour and the chapter title are variables.
fn template() -> serde_json::Value {
    json!({
        "variables": {
            "id": { "default": "preview" },
            "colour": { "default": "#FF0000" },
            "title": {},
            "seconds": { "type": "number", "default": 1 }
        },
        "output": { "width": 64, "height": 64, "fps": 25, "quality": "fast" },
        "scenes": [
            { "id": "a", "chapter": "{{title}}", "duration": "{{seconds}}",
              "background": { "type": "solid", "color": "{{colour}}" } },
            { "id": "b", "duration": 0.4, "background": { "type": "solid", "color": "#000000" } }
        ]
    })
}

fn values(v: serde_json::Value) -> Values {
    serde_json::from_value(v).expect("values")
}

fn issues(e: SpecError) -> Vec<(String, String)> {
    e.issues()
        .into_iter()
        .map(|i| (i.path, i.message))
        .collect()
}

#[test]
fn a_template_renders_from_the_library_with_values_in_place() {
    let sb = Sandbox::new();
    let text = template().to_string();
    let comp = Composition::from_template(
        &text,
        &values(json!({ "title": "Blue one", "colour": "#0000FF", "seconds": "2" })),
    )
    .expect("template");
    reelsmith::render(&comp, &sb.options()).expect("render");
    let f = frames(&sb.path("out.mp4"));
    // 2 s + 0.4 s at 25 fps: the number variable set the scene's length.
    assert_eq!(f.len(), 60);
    common::assert_close(px(&f[10], 32, 32), [0, 0, 255], 12, "the colour variable");
    let info = probe(&sb.path("out.mp4")).expect("probe");
    assert_eq!(info.chapters[0].title, "Blue one");
}

#[test]
fn missing_unknown_and_bad_values_are_reported_where_they_land() {
    let text = template().to_string();
    // No title (no default), a value for an undeclared variable, a number that is not one.
    let e = Composition::from_template(
        &text,
        &values(json!({ "colour": "#00FF00", "sz": 3, "seconds": "long" })),
    )
    .expect_err("invalid");
    let got = issues(e);
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["variables.seconds", "variables.sz", "scenes[0].chapter"],
        "{got:?}"
    );
    assert!(got[2].1.contains("\"title\" has no value"), "{got:?}");
    // A value that breaks its field is reported at the field, as if written there.
    let sb = Sandbox::new();
    let comp = Composition::from_template(
        &text,
        &values(json!({ "title": "t", "colour": "not-a-colour" })),
    )
    .expect("parses");
    let e = reelsmith::render(&comp, &sb.options()).expect_err("bad colour");
    let msg = e.to_string();
    assert!(
        msg.contains("scenes[0].background.color") && msg.contains("not-a-colour"),
        "{msg}"
    );
    assert!(!sb.path("out.mp4").exists());
    // A placeholder nobody declared.
    let e = Composition::from_json(
        &json!({ "scenes": [{ "duration": 1, "layers": [{ "type": "text", "text": "{{who}}" }] }] })
            .to_string(),
    )
    .expect_err("undeclared");
    assert_eq!(issues(e)[0].0, "scenes[0].layers[0].text");
}

#[test]
fn the_command_line_takes_var_and_vars() {
    let sb = Sandbox::new();
    let spec = sb.path("t.json");
    std::fs::write(&spec, template().to_string()).expect("write");
    std::fs::write(
        sb.path("v.json"),
        r##"{"title": "From file", "colour": "#00FF00"}"##,
    )
    .expect("write");
    let out = sb.path("cli.mp4");
    let run = Command::new(env!("CARGO_BIN_EXE_reelsmith"))
        .args(["render", "--quiet", "--media-root"])
        .arg(sb.path("media"))
        .arg(&spec)
        .arg("--vars")
        .arg(sb.path("v.json"))
        .args(["--var", "colour=#0000FF", "-o"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let f = frames(&out);
    // --var wins over --vars.
    common::assert_close(px(&f[5], 32, 32), [0, 0, 255], 12, "--var colour");
    assert_eq!(probe(&out).expect("probe").chapters[0].title, "From file");
    // Missing value: exit 3, the path named, nothing written.
    let run = Command::new(env!("CARGO_BIN_EXE_reelsmith"))
        .args(["validate"])
        .arg(&spec)
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(3));
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("scenes[0].chapter: variable \"title\" has no value"),
        "{err}"
    );
}

/// Twelve rows, only the colour and title differ; row 7's colour is not a colour.
fn table(sb: &Sandbox) -> std::path::PathBuf {
    let mut csv = String::from("id,title,colour\n");
    for i in 1..=12 {
        let colour = if i == 7 {
            "#12345G".to_string()
        } else {
            format!("#{:02X}0000", i * 20)
        };
        csv += &format!("row{i:02},\"Row {i}, the title\",{colour}\n");
    }
    let p = sb.path("rows.csv");
    std::fs::write(&p, csv).expect("write");
    p
}

#[test]
fn a_batch_renders_every_row_isolates_a_failing_one_and_skips_on_a_rerun() {
    let sb = Sandbox::new();
    let rows = batch::read_rows(&table(&sb)).expect("rows");
    let text = template().to_string();
    let opts = BatchOptions {
        output: Some(sb.path("out/{{id}}.mp4").to_string_lossy().into_owned()),
        jobs: 2,
        force: false,
    };
    let report = batch::run(&text, &rows, &sb.options(), &opts, &batch::Quiet).expect("batch");
    assert_eq!(report.rows.len(), 12);
    assert_eq!(report.count(RowStatus::Done), 11, "{}", report.table());
    let bad = &report.rows[6];
    assert_eq!((bad.row, bad.status), (7, RowStatus::Failed));
    let err = bad.error.as_deref().unwrap_or_default();
    assert!(err.contains("scenes[0].background.color"), "{err}");
    assert!(!sb.path("out/row07.mp4").exists());
    for r in report.rows.iter().filter(|r| r.status == RowStatus::Done) {
        let f = frames(&r.output);
        assert_eq!(f.len(), 35, "{}", r.output.display());
        let want = (r.row * 20) as u8;
        common::assert_close(px(&f[3], 32, 32), [want, 0, 0], 14, &r.id);
        let title = &probe(&r.output).expect("probe").chapters[0].title;
        assert_eq!(title, &format!("Row {}, the title", r.row));
    }
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
    // Again: the done rows are skipped (same inputs), the failing one fails again.
    let again = batch::run(&text, &rows, &sb.options(), &opts, &batch::Quiet).expect("batch");
    assert_eq!(again.count(RowStatus::Skipped), 11, "{}", again.table());
    assert_eq!(again.count(RowStatus::Failed), 1);
    // A changed input (the template's second scene) renders every row again.
    let mut changed = template();
    changed["scenes"][1]["duration"] = json!(0.8);
    let third = batch::run(
        &changed.to_string(),
        &rows,
        &sb.options(),
        &opts,
        &batch::Quiet,
    )
    .expect("batch");
    assert_eq!(third.count(RowStatus::Done), 11, "{}", third.table());
}

#[test]
fn a_batch_checks_its_table_before_rendering() {
    let sb = Sandbox::new();
    let p = sb.path("rows.csv");
    std::fs::write(&p, "id,titel\na,x\na,y\n").expect("write");
    let rows = batch::read_rows(&p).expect("rows");
    let opts = BatchOptions {
        output: Some(sb.path("out/{{id}}.mp4").to_string_lossy().into_owned()),
        ..BatchOptions::default()
    };
    let e = batch::run(
        &template().to_string(),
        &rows,
        &sb.options(),
        &opts,
        &batch::Quiet,
    )
    .expect_err("unknown column");
    assert!(
        e.to_string().contains("column \"titel\" is not a variable"),
        "{e}"
    );
    std::fs::write(&p, "id,title\na,x\na,y\n").expect("write");
    let rows = batch::read_rows(&p).expect("rows");
    let e = batch::run(
        &template().to_string(),
        &rows,
        &sb.options(),
        &opts,
        &batch::Quiet,
    )
    .expect_err("same output twice");
    assert!(e.to_string().contains("like row 1"), "{e}");
    assert!(!sb.path("out").exists(), "nothing rendered");
}

#[test]
fn the_batch_command_prints_a_summary_and_exits_6_when_a_row_failed() {
    let sb = Sandbox::new();
    let spec = sb.path("t.json");
    std::fs::write(&spec, template().to_string()).expect("write");
    let out = sb.path("cli/{{id}}.mp4");
    let run = Command::new(env!("CARGO_BIN_EXE_reelsmith"))
        .args(["batch", "--quiet", "--jobs", "2", "--media-root"])
        .arg(sb.path("media"))
        .arg(&spec)
        .arg("--rows")
        .arg(table(&sb))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run");
    assert_eq!(
        run.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let table = String::from_utf8_lossy(&run.stdout);
    assert!(
        table.contains("12 rows: 11 done, 0 skipped, 1 failed"),
        "{table}"
    );
    assert!(
        table.contains("row07") && table.contains("FAILED"),
        "{table}"
    );
    assert_eq!(std::fs::read_dir(sb.path("cli")).expect("dir").count(), 12); // 11 + manifest
}

#[test]
fn a_right_to_left_language_sets_voice_captions_and_direction() {
    let spec = |language: &str| {
        json!({
            "language": language,
            "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast",
                        "captions": { "vtt": true } },
            "scenes": [{
                "duration": "auto", "padding": 0.2,
                "background": { "type": "solid", "color": "#000000" },
                "layers": [{ "type": "bullets", "x": "50%", "y": "50%", "anchor": "center",
                             "max_width": 300, "reveal": 0,
                             "style": { "color": "#FFFFFF", "size": 20 },
                             "items": ["مرحبا بكم", "السلامة أولاً"] }],
                "narration": { "text": "مرحبا" }
            }]
        })
    };
    let (sb_ar, sb_en) = (Sandbox::new(), Sandbox::new());
    let ar = sb_ar.render(spec("ar"));
    let en = sb_en.render(spec("en"));
    // The captions' language in the MP4 and the voice (espeak-ng's Arabic, another length).
    let info = probe(&sb_ar.path("out.mp4")).expect("probe");
    let sub = info.stream("subtitle").expect("subtitle track");
    assert_eq!(sub.language.as_deref(), Some("ara"));
    let info_en = probe(&sb_en.path("out.mp4")).expect("probe");
    let sub_en = info_en.stream("subtitle").expect("subtitle track");
    assert_eq!(sub_en.language.as_deref(), Some("eng"));
    assert_ne!(
        ar.frames, en.frames,
        "a different voice speaks for a different time"
    );
    // Right to left: the list is mirrored in its box (the same box: anchored at the centre,
    // as wide as its widest item with its marker). Left to right the marker's column leaves a
    // gap at the box's left edge and the widest text reaches its right edge; right to left
    // the text starts at the left edge and the gap is on the right. So both the leftmost and
    // the rightmost lit columns move left.
    let lit = |path: &std::path::Path| {
        let f = frames(path);
        let f = &f[f.len() / 2];
        let cols: Vec<u32> = (0..320)
            .filter(|&x| (0..180).any(|y| common::luma(px(f, x, y)) > 128.0))
            .collect();
        (cols[0], *cols.last().expect("lit"))
    };
    let (l_ar, r_ar) = lit(&sb_ar.path("out.mp4"));
    let (l_en, r_en) = lit(&sb_en.path("out.mp4"));
    assert!(
        r_ar + 4 < r_en && l_ar + 4 < l_en,
        "ar {l_ar}..{r_ar}, en {l_en}..{r_en}"
    );
    // An unknown language is a spec error at `language`.
    let sb = Sandbox::new();
    let comp = common::comp(spec("xx-YY"));
    let e = reelsmith::render(&comp, &sb.options()).expect_err("unknown");
    assert!(
        e.to_string()
            .contains("language: unknown language \"xx-YY\""),
        "{e}"
    );
}

/// `(status, JSON body)` of a request to the service.
fn http(method: &str, url: &str, body: Option<&serde_json::Value>) -> (u16, serde_json::Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    let r = match body {
        Some(b) => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(b.to_string()),
        None if method == "GET" => agent.get(url).call(),
        None => agent.delete(url).call(),
    };
    let mut r = r.expect("HTTP");
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn the_service_renders_templates_and_batches_with_a_state_per_row() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let (mut child, base) = common::spawn_serve(&media, &["--workers", "2", "--threads", "1"]);
    let url = |p: &str| format!("{base}{p}");
    // A template and its values.
    let (st, r) = http(
        "POST",
        &url("/v1/renders"),
        Some(
            &json!({ "template": template(), "variables": { "title": "Served", "colour": "#00FF00" } }),
        ),
    );
    assert_eq!(st, 202, "{r}");
    let id = r["id"].as_str().expect("id").to_string();
    // A value that breaks its field: 422 at the field's path; a missing one at its use.
    let (st, r) = http(
        "POST",
        &url("/v1/renders"),
        Some(&json!({ "template": template(), "variables": { "title": "x", "colour": "nope" } })),
    );
    assert_eq!(st, 422, "{r}");
    assert_eq!(
        r["error"]["issues"][0]["path"], "scenes[0].background.color",
        "{r}"
    );
    let (st, r) = http(
        "POST",
        &url("/v1/renders"),
        Some(&json!({ "template": template() })),
    );
    assert_eq!(
        (st, r["error"]["issues"][0]["path"].as_str()),
        (422, Some("scenes[0].chapter")),
        "{r}"
    );
    // A batch of ten rows, the fourth with a colour that is not one.
    let rows: Vec<serde_json::Value> = (1..=10)
        .map(|i| {
            let colour = if i == 4 {
                "#XYZ".to_string()
            } else {
                format!("#0000{:02X}", i * 25)
            };
            json!({ "id": format!("r{i}"), "title": format!("Row {i}"), "colour": colour })
        })
        .collect();
    let (st, b) = http(
        "POST",
        &url("/v1/batches"),
        Some(&json!({ "template": template(), "rows": rows })),
    );
    assert_eq!(st, 202, "{b}");
    let batch = b["id"].as_str().expect("batch id").to_string();
    assert_eq!(b["rows"][3]["state"], "invalid", "{b}");
    assert_eq!(
        b["rows"][3]["error"]["issues"][0]["path"],
        "scenes[0].background.color"
    );
    assert_eq!(b["counts"]["invalid"], 1);
    let t0 = std::time::Instant::now();
    let done = loop {
        let (st, b) = http("GET", &url(&format!("/v1/batches/{batch}")), None);
        assert_eq!(st, 200, "{b}");
        if b["counts"]["done"] == 9 || t0.elapsed().as_secs() > 120 {
            break b;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(done["counts"]["done"], 9, "{done}");
    for row in done["rows"].as_array().expect("rows") {
        if row["state"] != "done" {
            continue;
        }
        let n = row["row"].as_u64().expect("row");
        let render = row["render"].as_str().expect("render");
        let video = media.join(format!("videos/{render}.mp4"));
        let f = frames(&video);
        common::assert_close(
            px(&f[3], 32, 32),
            [0, 0, (n * 25) as u8],
            14,
            &format!("row {n}"),
        );
        assert_eq!(
            probe(&video).expect("probe").chapters[0].title,
            format!("Row {n}")
        );
    }
    // The template render too.
    let t0 = std::time::Instant::now();
    while http("GET", &url(&format!("/v1/renders/{id}")), None).1["state"] != "done" {
        assert!(t0.elapsed().as_secs() < 60, "template render not done");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let f = frames(&media.join(format!("videos/{id}.mp4")));
    common::assert_close(px(&f[3], 32, 32), [0, 255, 0], 14, "served template");
    // No row can be queued: the batch is answered like one submission (422), nothing kept.
    let (st, r) = http(
        "POST",
        &url("/v1/batches"),
        Some(&json!({ "template": template(), "rows": [{ "title": "a", "colour": "bad" }] })),
    );
    assert_eq!(st, 422, "{r}");
    let (st, _) = http("GET", &url("/v1/batches/b_0000000000000000"), None);
    assert_eq!(st, 404);
    let _ = child.kill();
    let _ = child.wait();
}
