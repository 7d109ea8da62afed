//! The command line, run as a user would.

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reelsmith"))
}

#[test]
fn render_probe_validate_and_frame() {
    let dir = tempfile::tempdir().expect("tmp");
    let spec = dir.path().join("tiny.json");
    std::fs::write(
        &spec,
        r##"{"output":{"width":160,"height":90,"fps":25,"quality":"fast"},
            "scenes":[{"duration":1,"background":{"type":"solid","color":"#00FF00"},
                       "layers":[{"type":"text","text":"CLI","size":30}]}]}"##,
    )
    .expect("write");
    let out = dir.path().join("tiny.mp4");
    let report = dir.path().join("report.json");
    let r = bin()
        .args(["render", "-q"])
        .arg(&spec)
        .arg("-o")
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .arg("--media-root")
        .arg(dir.path().join("media"))
        .output()
        .expect("run");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stdout = String::from_utf8_lossy(&r.stdout);
    assert!(
        stdout.contains("compose") && stdout.contains("wrote"),
        "{stdout}"
    );
    let rep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).expect("report")).expect("json");
    assert_eq!(rep["frames"], 25);
    assert_eq!(rep["stages"].as_array().map(Vec::len), Some(6));

    let p = bin().arg("probe").arg(&out).output().expect("probe");
    let text = String::from_utf8_lossy(&p.stdout);
    assert!(p.status.success());
    assert!(
        text.contains("h264 (High) 160x90 yuv420p") && text.contains("25 frames"),
        "{text}"
    );
    assert!(
        text.contains("aac (LC) 48000 Hz, 2 ch")
            && text.contains("faststart (moov before mdat): yes"),
        "{text}"
    );

    let v = bin().arg("validate").arg(&spec).output().expect("validate");
    assert!(v.status.success());
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("ok: 1 scenes, 25 frames"));

    let png = dir.path().join("f.png");
    let f = bin()
        .arg("frame")
        .arg(&out)
        .args(["--at", "0.5", "-o"])
        .arg(&png)
        .output()
        .expect("frame");
    assert!(f.status.success(), "{}", String::from_utf8_lossy(&f.stderr));
    let img = image::open(&png).expect("png").into_rgb8();
    let p = img.get_pixel(5, 5).0;
    assert!(
        p[1] > 240 && p[0] < 15 && p[2] < 15,
        "green background, got {p:?}"
    );
}

#[test]
fn invalid_spec_exits_3_and_names_each_problem() {
    let dir = tempfile::tempdir().expect("tmp");
    let spec = dir.path().join("bad.json");
    std::fs::write(
        &spec,
        r#"{"output":{"width":99},"scenes":[{"duration":0}]}"#,
    )
    .expect("write");
    let r = bin().arg("validate").arg(&spec).output().expect("run");
    assert_eq!(r.status.code(), Some(3));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("output.width: width 99 is odd"), "{err}");
    assert!(err.contains("scenes[0].duration"), "{err}");
    let r = bin()
        .arg("render")
        .arg(&spec)
        .arg("-q")
        .output()
        .expect("run");
    assert_eq!(r.status.code(), Some(3));
}

#[test]
fn schema_prints_json() {
    let r = bin().arg("schema").output().expect("run");
    assert!(r.status.success());
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).expect("json");
    assert!(v["properties"]["scenes"].is_object(), "{v}");
}

#[test]
fn missing_spec_file_exits_3() {
    let r = bin()
        .args(["render", "/nonexistent/spec.json", "-q"])
        .output()
        .expect("run");
    assert_eq!(r.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&r.stderr).contains("/nonexistent/spec.json"));
}

#[test]
fn bench_prints_per_stage_medians() {
    let dir = tempfile::tempdir().expect("tmp");
    let spec = dir.path().join("b.json");
    std::fs::write(&spec, r#"{"output":{"width":64,"height":64,"fps":10,"quality":"fast"},"scenes":[{"duration":1}]}"#)
        .expect("write");
    let r = bin()
        .args(["bench", "--runs", "2", "--media-root"])
        .arg(dir.path().join("media"))
        .arg(&spec)
        .output()
        .expect("run");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = String::from_utf8_lossy(&r.stdout);
    for word in [
        "run 1",
        "run 2",
        "median",
        "compose",
        "encode",
        "frames/s",
        "x realtime",
        "peak MB",
    ] {
        assert!(text.contains(word), "{word} missing in:\n{text}");
    }
    assert!(text.contains("10 frames"), "{text}");
}

#[test]
fn cache_shows_what_renders_kept_and_clear_removes_only_entries() {
    let dir = tempfile::tempdir().expect("tmp");
    let media = dir.path().join("media");
    let spec = dir.path().join("two.json");
    std::fs::write(
        &spec,
        r##"{"output":{"width":160,"height":90,"fps":25,"quality":"fast"},
            "scenes":[{"duration":1.2,"background":{"type":"solid","color":"#003366"},
                       "layers":[{"type":"text","text":"One","size":30}]},
                      {"duration":1.2,"background":{"type":"solid","color":"#663300"},
                       "layers":[{"type":"text","text":"Two","size":30}]}]}"##,
    )
    .expect("write");
    let r = bin()
        .args(["render", "-q"])
        .arg(&spec)
        .arg("-o")
        .arg(dir.path().join("two.mp4"))
        .arg("--media-root")
        .arg(&media)
        .output()
        .expect("run");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let cache = |extra: &[&str]| -> serde_json::Value {
        let out = bin()
            .args(["cache", "--json", "--media-root"])
            .arg(&media)
            .args(extra)
            .output()
            .expect("cache");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let by_name = |v: &serde_json::Value, name: &str| -> (u64, u64) {
        let c = v
            .as_array()
            .and_then(|a| a.iter().find(|c| c["name"] == name))
            .unwrap_or_else(|| panic!("no {name} in {v}"));
        (
            c["entries"].as_u64().expect("entries"),
            c["bytes"].as_u64().expect("bytes"),
        )
    };
    // By default a render keeps both scenes and its audio.
    let before = cache(&[]);
    let (scenes, scene_bytes) = by_name(&before, "scenes");
    assert_eq!(scenes, 2, "{before}");
    assert!(scene_bytes > 0);
    assert_eq!(by_name(&before, "audio").0, 1, "{before}");

    // A file of the user's in a cache folder is not an entry: it stays.
    let mine = media.join("assets/video/segments/notes.txt");
    std::fs::write(&mine, "mine").expect("write");
    let removed = cache(&["--clear"]);
    assert_eq!(by_name(&removed, "scenes"), (2, scene_bytes), "{removed}");
    let after = cache(&[]);
    for name in ["scenes", "audio", "speech"] {
        assert_eq!(by_name(&after, name), (0, 0), "{after}");
    }
    assert!(mine.is_file());

    // The table names every cache.
    let t = bin()
        .args(["cache", "--media-root"])
        .arg(&media)
        .output()
        .expect("cache");
    let text = String::from_utf8_lossy(&t.stdout);
    assert!(
        text.contains("scenes") && text.contains("audio") && text.contains("speech"),
        "{text}"
    );
}
