//! Renditions from one render (`output.renditions`): every file decoded back through libav,
//! at its size, in sync with the others frame for frame, with the same audio packets; layers
//! placed in percent where they belong in each size, an override moving one; spec problems
//! at their paths; a failed render leaving none of the files.

mod common;

use std::path::Path;

use common::{assert_close, comp, frames, px, Sandbox};
use ffmpeg_next as ff;
use reelsmith::media::probe::probe;
use reelsmith::Progress;
use serde_json::json;

const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0x20, 0x40, 0xC0];

/// Three scenes (the second comes in with a crossfade), a red square at (25 %, 50 %) sliding
/// in during the first scene, a tone under everything; `renditions` added to the output.
fn spec(sb: &Sandbox, renditions: serde_json::Value) -> serde_json::Value {
    sb.tone_wav("tone.wav", 48_000, 3.0, 440.0, 0.3);
    json!({
        "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast",
                    "renditions": renditions },
        "scenes": [
            { "duration": 1.2, "background": { "type": "solid", "color": "#2040C0" },
              "layers": [{ "type": "shape", "width": "10%", "height": "20%", "fill": "#FF0000",
                           "x": "25%", "y": "50%", "anchor": "center",
                           "animate_in": { "effect": "slide", "from": "left",
                                           "distance": 20, "duration": 0.4 } }] },
            { "duration": 1.0, "background": { "type": "solid", "color": "#20C040" },
              "transition": { "type": "crossfade", "duration": 0.4 } },
            { "duration": 1.0, "background": { "type": "linear_gradient", "angle": 90,
                                               "colors": ["#000000", "#FFFFFF"] } }
        ],
        "audio": { "tracks": [{ "src": "tone.wav" }] }
    })
}

/// The usual three renditions: the main 320x180, a 160x90 and a vertical 180x320 whose
/// square is moved to the right by an override.
fn three() -> serde_json::Value {
    json!([
        { "name": "small", "width": 160, "height": 90 },
        { "name": "vertical", "width": 180, "height": 320,
          "overrides": [{ "path": "/scenes/0/layers/0/x", "value": "75%" }] }
    ])
}

/// Per stream kind, each packet's (pts, dts, duration) in its stream's time base; and the
/// audio packets' bytes.
struct Packets {
    video: Vec<(i64, i64, i64)>,
    video_tb: (i32, i32),
    audio: Vec<Vec<u8>>,
    audio_times: Vec<(i64, i64)>,
}

fn packets(path: &Path) -> Packets {
    ff::init().expect("init");
    let mut ictx = ff::format::input(&path).expect("open");
    let v = ictx
        .streams()
        .best(ff::media::Type::Video)
        .expect("video")
        .index();
    let a = ictx
        .streams()
        .best(ff::media::Type::Audio)
        .expect("audio")
        .index();
    let tb = ictx.stream(v).expect("video stream").time_base();
    let mut out = Packets {
        video: Vec::new(),
        video_tb: (tb.numerator(), tb.denominator()),
        audio: Vec::new(),
        audio_times: Vec::new(),
    };
    for (s, p) in ictx.packets() {
        if s.index() == v {
            out.video
                .push((p.pts().unwrap_or(-1), p.dts().unwrap_or(-1), p.duration()));
        } else if s.index() == a {
            out.audio
                .push(p.data().map(<[u8]>::to_vec).unwrap_or_default());
            out.audio_times.push((p.pts().unwrap_or(-1), p.duration()));
        }
    }
    out
}

#[test]
fn three_renditions_decode_to_their_sizes_in_sync_with_the_same_audio() {
    let sb = Sandbox::new();
    let report = sb.render(spec(&sb, three()));
    let files = [
        (sb.path("out.mp4"), 320, 180),
        (sb.path("out.small.mp4"), 160, 90),
        (sb.path("out.vertical.mp4"), 180, 320),
    ];
    assert_eq!(report.renditions.len(), 3, "{:?}", report.renditions);
    for ((path, w, h), r) in files.iter().zip(&report.renditions) {
        assert_eq!(&r.output, path);
        assert_eq!((r.width, r.height), (*w, *h));
        assert_eq!(r.output_bytes, std::fs::metadata(path).expect("stat").len());
    }
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());

    // 1.2 + 1.0 + 1.0 - 0.4 s = 2.8 s = 70 frames at 25 fps, in every file.
    let main = packets(&files[0].0);
    let main_frames = frames(&files[0].0);
    assert_eq!(main_frames.len(), 70);
    for (path, w, h) in &files {
        let info = probe(path).expect("probe");
        let video = info
            .streams
            .iter()
            .find(|s| s.kind == "video")
            .expect("video");
        assert_eq!(
            (video.width, video.height),
            (Some(*w), Some(*h)),
            "{path:?}"
        );
        assert!(
            (info.duration_s - 2.8).abs() < 0.05,
            "{path:?}: {}",
            info.duration_s
        );
        assert_eq!(info.chapters.len(), 3, "{path:?}: chapters in every file");
        let decoded = frames(path);
        assert_eq!(decoded.len(), 70, "{path:?}");
        assert!(decoded.iter().all(|f| f.dimensions() == (*w, *h)));
        // Frame-accurate sync: the same presentation times, frame for frame, and the same
        // AAC packets (so the same decoded samples) at the same times.
        let p = packets(path);
        assert_eq!(p.video_tb, main.video_tb, "{path:?}");
        let pts = |v: &[(i64, i64, i64)]| {
            let mut t: Vec<i64> = v.iter().map(|x| x.0).collect();
            t.sort_unstable();
            t
        };
        assert_eq!(pts(&p.video), pts(&main.video), "{path:?}");
        assert_eq!(p.audio_times, main.audio_times, "{path:?}");
        assert!(p.audio == main.audio, "{path:?}: other audio packets");
    }
    let decoded_audio = |p: &Path| reelsmith::media::probe::decode_audio(p).expect("audio");
    let a0 = decoded_audio(&files[0].0);
    for (path, _, _) in &files[1..] {
        assert_eq!(decoded_audio(path).samples, a0.samples, "{path:?}");
    }

    // At 0.48 s (frame 12) the square has slid in: in percent of each frame, and in the
    // vertical rendition where the override put it.
    let at = |path: &Path| frames(path).swap_remove(12);
    for (path, w, h) in &files[..2] {
        let f = at(path);
        assert_close(px(&f, w / 4, h / 2), RED, 12, &format!("{path:?} square"));
        assert_close(
            px(&f, w * 3 / 4, h / 2),
            BLUE,
            12,
            &format!("{path:?} right"),
        );
    }
    let f = at(&files[2].0);
    assert_close(
        px(&f, 180 * 3 / 4, 160),
        RED,
        12,
        "vertical: square moved right",
    );
    assert_close(px(&f, 180 / 4, 160), BLUE, 12, "vertical: not where it was");
}

#[test]
fn the_main_rendition_is_the_render_without_renditions() {
    let with = Sandbox::new();
    with.render(spec(&with, three()));
    let without = Sandbox::new();
    let mut plain = spec(&without, json!([]));
    plain["output"]
        .as_object_mut()
        .expect("output")
        .remove("renditions");
    let report = without.render(plain);
    assert!(report.renditions.is_empty());
    let (a, b) = (
        frames(&with.path("out.mp4")),
        frames(&without.path("out.mp4")),
    );
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            common::mean_abs_diff(x, y) < 0.5,
            "frame {i} differs: {}",
            common::mean_abs_diff(x, y)
        );
    }
    let (pa, pb) = (
        packets(&with.path("out.mp4")),
        packets(&without.path("out.mp4")),
    );
    assert!(
        pa.audio == pb.audio,
        "the same audio as a render of one output"
    );
}

fn issues(sb: &Sandbox, renditions: serde_json::Value) -> Vec<(String, String)> {
    let c = comp(spec(sb, renditions));
    match reelsmith::pipeline::plan(&c, &sb.options()) {
        Ok(_) => Vec::new(),
        Err(e) => e
            .issues()
            .into_iter()
            .map(|i| (i.path, i.message))
            .collect(),
    }
}

#[test]
fn problems_are_reported_at_their_rendition_and_override() {
    let sb = Sandbox::new();
    let found = issues(
        &sb,
        json!([
            { "name": "a/b", "width": 160, "height": 90 },
            { "name": "odd", "width": 161, "height": 90 },
            { "name": "v", "width": 180, "height": 320, "overrides": [
                { "path": "/scenes/7/layers/0/x", "value": "75%" },
                { "path": "/scenes/0/layers/0/x", "value": true },
                { "path": "/scenes/1/duration", "value": 3 },
                { "path": "/output/width", "value": 3 }
            ] },
            { "name": "w", "width": 180, "height": 320, "overrides": [
                { "path": "/scenes/0/layers/0/y", "value": "fifty" }
            ] },
            { "name": "v", "width": 180, "height": 320 }
        ]),
    );
    let at = |path: &str| {
        found
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| panic!("no issue at {path}: {found:?}"))
    };
    assert!(at("output.renditions[0].name").contains("a/b"));
    assert!(at("output.renditions[1].width").contains("161"));
    let m = at("output.renditions[2].overrides[0]");
    assert!(
        m.contains("/scenes/7/layers/0/x") && m.contains("scenes[7].layers[0].x"),
        "{m}"
    );
    let m = at("output.renditions[2].overrides[1]");
    assert!(m.contains("scenes[0].layers[0].x"), "{m}");
    assert!(at("output.renditions[2].overrides[2].path").contains("duration"));
    assert!(at("output.renditions[2].overrides[3].path").contains("output"));
    let m = at("output.renditions[3].overrides[0]");
    assert!(
        m.contains("scenes[0].layers[0].y") && m.contains("fifty"),
        "{m}"
    );
    assert!(at("output.renditions[4].name").contains("earlier"));

    // A rendition writing over another's file.
    let sb = Sandbox::new();
    let found = issues(
        &sb,
        json!([{ "name": "x", "width": 160, "height": 90, "path": sb.path("out.mp4") }]),
    );
    assert!(
        found
            .iter()
            .any(|(p, m)| p == "output.renditions[0].path" && m.contains("main output")),
        "{found:?}"
    );
}

/// Cancels once the main rendition is done and the second is under way.
struct CancelInSecond {
    frames_per_rendition: u64,
}

impl Progress for CancelInSecond {
    fn frames(&mut self, done: u64, total: u64) -> bool {
        assert_eq!(
            total,
            3 * self.frames_per_rendition,
            "progress counts every rendition"
        );
        done < self.frames_per_rendition + 10
    }
}

#[test]
fn a_render_stopped_in_a_later_rendition_leaves_none_of_them() {
    let sb = Sandbox::new();
    std::fs::write(sb.path("out.mp4"), b"an older video").expect("write");
    let c = comp(spec(&sb, three()));
    let opts = sb.options().with_scene_cache(false).with_audio_cache(false);
    let e = reelsmith::render_with_progress(
        &c,
        &opts,
        &mut CancelInSecond {
            frames_per_rendition: 70,
        },
    )
    .expect_err("cancelled");
    assert!(matches!(e, reelsmith::Error::Cancelled), "{e}");
    assert_eq!(
        std::fs::read(sb.path("out.mp4")).expect("read"),
        b"an older video"
    );
    assert!(!sb.path("out.small.mp4").exists());
    assert!(!sb.path("out.vertical.mp4").exists());
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn renditions_reuse_the_caches_and_an_unchanged_render_copies_every_scene() {
    let sb = Sandbox::new();
    let first = sb.render(spec(&sb, three()));
    let again = sb.render(spec(&sb, three()));
    assert!(again.audio_cached);
    for (a, b) in first.renditions.iter().zip(&again.renditions) {
        // Every segment of every size copied from the scene cache: nothing composed again.
        assert_eq!(b.segments_reused, again.segments, "{}", b.name);
        assert_eq!(b.encoded_frames, 0, "{}", b.name);
        assert_eq!(a.output, b.output);
    }
}

/// The farm (`render --broker`) and the job service make one file per render: a spec with
/// renditions is refused at `output.renditions`, never rendered as one file.
#[test]
fn the_farm_and_the_service_refuse_renditions_at_their_path() {
    let sb = Sandbox::new();
    let spec_file = sb.path("spec.json");
    std::fs::write(&spec_file, spec(&sb, three()).to_string()).expect("write spec");
    std::fs::create_dir_all(sb.path("store")).expect("store");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reelsmith"))
        .arg("render")
        .arg(&spec_file)
        .arg("-o")
        .arg(sb.path("farm.mp4"))
        .arg("--media-root")
        .arg(sb.path("media"))
        .args(["--broker", "redis://127.0.0.1:9/0", "--store"])
        .arg(sb.path("store"))
        .output()
        .expect("run reelsmith");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("output.renditions"), "{stderr}");
    assert!(!sb.path("farm.mp4").exists());

    let media = sb.path("service");
    std::fs::create_dir_all(&media).expect("media");
    let (mut child, base) = common::spawn_serve(&media, &[]);
    let body = spec(&sb, three()).to_string();
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let reply = {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(host).expect("connect");
        write!(
            s,
            "POST /v1/renders HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send");
        let mut reply = String::new();
        s.read_to_string(&mut reply).expect("read");
        reply
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(reply.starts_with("HTTP/1.1 422"), "{reply}");
    assert!(reply.contains("\"output.renditions\""), "{reply}");
}
