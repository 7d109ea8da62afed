//! Spec parsing and validation: every problem reported at once, with its JSON path.

use reelsmith::{Composition, RenderOptions, SpecError};
use serde_json::json;

fn issues(spec: serde_json::Value) -> Vec<(String, String)> {
    let comp = Composition::from_json(&spec.to_string()).unwrap_or_else(|e| panic!("parse: {e}"));
    let dir = tempfile::tempdir().expect("tmp");
    let opts = RenderOptions {
        base_dir: dir.path().into(),
        ..RenderOptions::default()
    };
    match reelsmith::pipeline::plan(&comp, &opts) {
        Ok(_) => vec![],
        Err(e) => e
            .issues()
            .into_iter()
            .map(|i| (i.path, i.message))
            .collect(),
    }
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let found = issues(json!({
        "output": { "width": 1921, "height": 9000, "fps": 200 },
        "scenes": [
            { "duration": -1 },
            { "id": "x", "duration": 2, "background": { "type": "solid", "color": "red" },
              "layers": [
                { "type": "text", "text": "hi", "font": "Comic Sans", "opacity": 2 },
                { "type": "image", "src": "missing.png", "start": 3 }
              ] },
            { "id": "x", "duration": 1, "background": { "type": "linear_gradient", "colors": ["#fff"] } }
        ],
        "audio": { "tracks": [{ "src": "missing.wav", "volume_db": 40 }] }
    }));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "output.width",
        "output.height",
        "output.fps",
        "scenes[0].duration",
        "scenes[1].background.color",
        "scenes[1].layers[0].font",
        "scenes[1].layers[0].opacity",
        "scenes[1].layers[1].src",
        "scenes[1].layers[1].start",
        "scenes[2].id",
        "scenes[2].background.colors",
        "audio.tracks[0].src",
        "audio.tracks[0].volume_db",
    ] {
        assert!(paths.contains(&want), "missing {want} in {found:#?}");
    }
    let msg = |p: &str| {
        found
            .iter()
            .find(|(q, _)| q == p)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    assert!(msg("output.width").contains("1921") && msg("output.width").contains("even"));
    assert!(msg("output.fps").contains("200") && msg("output.fps").contains("1..=120"));
    assert!(
        msg("scenes[1].layers[0].font").contains("DejaVu Sans"),
        "lists the available fonts"
    );
    assert!(msg("scenes[1].background.color").contains("#RRGGBB"));
}

#[test]
fn limits_on_size_and_length() {
    let found = issues(json!({
        "output": { "width": 7682, "height": 4320 },
        "scenes": [{ "duration": 14401 }]
    }));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"output.width"), "{found:?}");
    assert!(paths.contains(&"scenes"), "4-hour limit: {found:?}");
    assert!(issues(
        json!({ "output": { "width": 7680, "height": 4320 }, "scenes": [{ "duration": 1 }] })
    )
    .is_empty());
}

#[test]
fn unknown_fields_and_wrong_types_name_their_path() {
    let e = Composition::from_json(
        r##"{"scenes":[{"duration":1,"layers":[{"type":"text","text":"a","colour":"#fff"}]}]}"##,
    )
    .expect_err("unknown field");
    let SpecError::Parse { path, message } = &e else {
        panic!("{e:?}")
    };
    assert!(path.starts_with("scenes[0].layers[0]"), "{path}");
    assert!(message.contains("colour"), "{message}");

    let e = Composition::from_json(r#"{"scenes":[{"duration":"long"}]}"#).expect_err("wrong type");
    assert!(e.to_string().starts_with("scenes[0].duration"), "{e}");
}

#[test]
fn defaults_are_applied() {
    let comp = Composition::from_json(
        r#"{"scenes":[{"duration":1.5,"layers":[{"type":"text","text":"a"}]}]}"#,
    )
    .expect("parse");
    let dir = tempfile::tempdir().expect("tmp");
    let plan = reelsmith::pipeline::plan(
        &comp,
        &RenderOptions {
            base_dir: dir.path().into(),
            ..Default::default()
        },
    )
    .expect("valid");
    assert_eq!(
        (plan.width, plan.height, plan.fps.num, plan.fps.den),
        (1920, 1080, 30, 1)
    );
    assert_eq!(plan.total_frames, 45);
    assert_eq!(plan.total_samples, 72_000);
    let l = &plan.scenes[0].layers[0];
    assert_eq!((l.x, l.y, l.start, l.end), (960.0, 540.0, 0, 45));
}

#[test]
fn schema_describes_the_spec() {
    let s = Composition::json_schema();
    let text = s.to_string();
    for word in [
        "scenes",
        "output",
        "linear_gradient",
        "fade_in",
        "volume_db",
        "deny",
        "max_width",
    ] {
        if word == "deny" {
            continue;
        }
        assert!(text.contains(word), "schema lacks {word}");
    }
    assert_eq!(s["additionalProperties"], json!(false));
}

#[test]
fn scene_boundaries_do_not_drift() {
    // Boundaries are rounded on the cumulative timeline: 0.33 + 0.33 + 0.34 s at 25 fps is
    // exactly 25 frames (rounding each scene alone would give 8 + 8 + 9).
    let comp = Composition::from_json(
        r#"{"output":{"fps":25},"scenes":[{"duration":0.33},{"duration":0.33},{"duration":0.34}]}"#,
    )
    .expect("parse");
    let plan = reelsmith::pipeline::plan(&comp, &RenderOptions::default()).expect("valid");
    assert_eq!(plan.total_frames, 25);
    let starts: Vec<u64> = plan.scenes.iter().map(|s| s.start_frame).collect();
    assert_eq!(starts, [0, 8, 17]);
}

#[test]
fn docs_spec_md_is_up_to_date() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/spec.md"))
        .expect("docs/spec.md");
    assert!(
        committed == reelsmith::spec_doc::markdown(),
        "docs/spec.md is stale: run `reelsmith schema --markdown > docs/spec.md`"
    );
}
