//! MP4 chapters, one per scene, read back through libav (`reelsmith probe`'s reader), and
//! the WebVTT chapters beside the video.

mod common;

use common::Sandbox;
use reelsmith::media::probe::probe;
use serde_json::json;

fn out(extra: serde_json::Value) -> serde_json::Value {
    let mut o = json!({ "width": 64, "height": 64, "fps": 25, "quality": "fast" });
    o.as_object_mut()
        .expect("object")
        .extend(extra.as_object().expect("object").clone());
    o
}

/// Three scenes, the second coming in with a 0.5 s crossfade: chapters at their first frames.
fn three_scenes(output: serde_json::Value) -> serde_json::Value {
    json!({
        "output": output,
        "scenes": [
            { "id": "intro", "duration": 2.0, "chapter": "Welcome" },
            { "id": "safety", "duration": 2.0,
              "transition": { "type": "crossfade", "duration": 0.5 } },
            { "duration": 1.5 }
        ]
    })
}

#[test]
fn every_scene_is_a_chapter_in_the_mp4_and_in_webvtt() {
    let sb = Sandbox::new();
    sb.render(three_scenes(out(json!({ "chapters_vtt": true }))));
    let info = probe(&sb.path("out.mp4")).expect("probe");
    let got: Vec<(&str, f64, f64)> = info
        .chapters
        .iter()
        .map(|c| (c.title.as_str(), c.start_s, c.end_s))
        .collect();
    // Scene 2 starts at 2.0 - 0.5 s = frame 37.5, rounded to 38 (1.52 s); scene 3 at 3.52 s;
    // the video ends at 5.0 s. Titles: the `chapter`, else the id, else "Scene N".
    let want = [
        ("Welcome", 0.0, 1.52),
        ("safety", 1.52, 3.52),
        ("Scene 3", 3.52, 5.0),
    ];
    assert_eq!(got.len(), 3, "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.0, w.0);
        assert!(
            (g.1 - w.1).abs() < 1e-3 && (g.2 - w.2).abs() < 1e-3,
            "{g:?} vs {w:?}"
        );
    }
    let vtt = std::fs::read_to_string(sb.path("out.chapters.vtt")).expect("chapters.vtt");
    assert_eq!(
        vtt,
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.520\nWelcome\n\n2\n00:00:01.520 --> \
         00:00:03.520\nsafety\n\n3\n00:00:03.520 --> 00:00:05.000\nScene 3\n"
    );
    // The picture and sound streams are as without chapters.
    assert_eq!(info.streams[0].kind, "video");
    assert_eq!(info.streams[0].packets, 125);
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn chapters_can_be_turned_off_and_a_single_scene_has_none_unless_asked() {
    let sb = Sandbox::new();
    sb.render(three_scenes(out(json!({ "chapters": false }))));
    let info = probe(&sb.path("out.mp4")).expect("probe");
    assert!(info.chapters.is_empty(), "{:?}", info.chapters);
    assert_eq!(
        info.streams.len(),
        2,
        "no chapter track: {:?}",
        info.streams
    );
    assert!(!sb.path("out.chapters.vtt").exists());

    let one = |output: serde_json::Value| {
        let sb = Sandbox::new();
        sb.render(json!({ "output": output, "scenes": [{ "id": "only", "duration": 1.0 }] }));
        probe(&sb.path("out.mp4")).expect("probe").chapters
    };
    assert!(one(out(json!({}))).is_empty());
    let asked = one(out(json!({ "chapters": true })));
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].title, "only");
}

#[test]
fn an_empty_chapter_title_is_a_spec_error_with_its_path() {
    let comp = common::comp(json!({
        "output": out(json!({})),
        "scenes": [ { "duration": 1.0 }, { "duration": 1.0, "chapter": "  " } ]
    }));
    let err = reelsmith::validate(&comp, &reelsmith::RenderOptions::default())
        .expect_err("an empty title");
    let text = err.to_string();
    assert!(text.contains("scenes[1].chapter"), "{text}");
    assert!(text.contains("0 characters"), "{text}");
}
