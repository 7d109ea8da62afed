//! Closed captions from the narration: a subtitle track in the MP4 (read back with libav) and
//! a WebVTT file beside it, timed over the narration, written with the video or not at all.

mod common;

use common::Sandbox;
use ffmpeg_next as ff;
#[cfg(feature = "fault-injection")]
use reelsmith::pipeline::Fault;
use reelsmith::{Error, SpecError};
use serde_json::json;

const WORDS: &str = "Lift with your legs, not your back, and keep the load close to your \
    waist. Ask for help with anything heavy or awkward, and clear the route first.";

/// A 3 s scene with a 2 s "voice" as narration (starting 0.5 s in: 0.9 s of tone, a 0.3 s
/// pause, 0.8 s of tone) captioned with `WORDS`, then a 2 s scene whose narration has no words.
fn spec(sb: &Sandbox, captions: serde_json::Value) -> serde_json::Value {
    let rate = 48_000;
    let tone = |i: u64| common::sine(i, rate, 220.0) * 0.3;
    let voice = (0..43_200)
        .map(tone)
        .chain(std::iter::repeat_n(0.0, 14_400))
        .chain((0..38_400).map(tone));
    sb.wav("voice.wav", rate, voice);
    sb.tone_wav("hum.wav", 48_000, 1.0, 330.0, 0.3);
    json!({
        "output": { "width": 160, "height": 90, "fps": 30, "quality": "fast",
                    "captions": captions },
        "scenes": [
            { "duration": 3, "layers": [{ "type": "text", "text": "Lifting" }],
              "narration": { "src": "voice.wav", "start": 0.5, "caption": WORDS } },
            { "duration": 2, "narration": { "src": "hum.wav" } }
        ]
    })
}

/// A caption read back: start ms, end ms, text.
type Read = (i64, i64, String);

/// The subtitle track: its language, its non-empty samples, and the end of its last sample.
fn subtitle_track(path: &std::path::Path) -> Option<(String, Vec<Read>, i64)> {
    ff::init().expect("libav");
    let mut ictx = ff::format::input(&path).expect("open");
    let st = ictx.streams().best(ff::media::Type::Subtitle)?;
    assert_eq!(st.parameters().id(), ff::codec::Id::MOV_TEXT);
    let (index, tb) = (st.index(), st.time_base());
    let lang = st.metadata().get("language").unwrap_or("").to_string();
    let ms = |t: i64| (t as f64 * f64::from(tb) * 1000.0).round() as i64;
    let mut cues = Vec::new();
    let mut end = 0;
    for (s, p) in ictx.packets() {
        if s.index() != index {
            continue;
        }
        let data = p.data().unwrap_or_default();
        let len = usize::from(u16::from_be_bytes([data[0], data[1]]));
        let text = std::str::from_utf8(&data[2..2 + len])
            .expect("utf-8")
            .to_string();
        let start = ms(p.pts().expect("pts"));
        end = ms(p.pts().expect("pts") + p.duration());
        if !text.is_empty() {
            cues.push((start, end, text));
        }
    }
    Some((lang, cues, end))
}

fn vtt_ms(t: &str) -> i64 {
    let (hms, frac) = t.split_once('.').expect("ms");
    let parts: Vec<i64> = hms.split(':').map(|x| x.parse().expect("number")).collect();
    ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000 + frac.parse::<i64>().expect("ms")
}

#[test]
fn narration_words_become_captions_in_the_mp4_and_beside_it() {
    let sb = Sandbox::new();
    let report = sb.render(spec(
        &sb,
        json!({ "vtt": true, "language": "eng", "max_chars": 32 }),
    ));
    let out = sb.path("out.mp4");
    let (lang, cues, end) = subtitle_track(&out).expect("a subtitle track");
    assert_eq!(lang, "eng");
    assert_eq!(report.captions, cues.len());
    assert!(cues.len() >= 4, "{cues:?}");
    // Every word, in order, in lines of at most 32 characters, two lines at most.
    let words: Vec<&str> = cues.iter().flat_map(|c| c.2.split_whitespace()).collect();
    assert_eq!(words, WORDS.split_whitespace().collect::<Vec<_>>());
    for (_, _, text) in &cues {
        assert!(text.lines().count() <= 2 && text.lines().all(|l| l.chars().count() <= 32));
    }
    // From the voice's start (0.5 s) to its end (2.5 s), back to back; the second sentence
    // appears when the voice resumes after its pause (1.7 s); the second narration has no
    // words, so nothing after; the track runs to the video's end (5 s).
    assert_eq!(cues[0].0, 500);
    let second = cues
        .iter()
        .position(|c| c.2.starts_with("Ask"))
        .expect("second sentence");
    assert_eq!(cues[second].0, 1700, "{cues:?}");
    assert_eq!(cues.last().map(|c| c.1), Some(2500));
    for pair in cues.windows(2) {
        assert_eq!(pair[0].1, pair[1].0);
    }
    assert_eq!(end, 5000);
    // The same captions as WebVTT beside the video.
    let vtt_path = sb.path("out.vtt");
    assert_eq!(report.captions_file.as_deref(), Some(vtt_path.as_path()));
    let vtt = std::fs::read_to_string(&vtt_path).expect("vtt");
    assert!(vtt.starts_with("WEBVTT\n"));
    let from_vtt: Vec<Read> = vtt
        .split("\n\n")
        .skip(1)
        .map(|block| {
            let mut lines = block.lines().skip(1);
            let (a, b) = lines
                .next()
                .and_then(|l| l.split_once(" --> "))
                .expect("timing");
            (vtt_ms(a), vtt_ms(b), lines.collect::<Vec<_>>().join("\n"))
        })
        .collect();
    assert_eq!(from_vtt, cues);
    // The video and sound are as without captions: every frame decodes strictly, and the
    // audio and video still interleave.
    let (frames, _) = common::decode_strict(&out);
    assert_eq!(frames.len(), 150);
    let info = reelsmith::media::probe::probe(&out).expect("probe");
    assert!(info.faststart == Some(true));
    assert!(info.interleave_s.is_some_and(|s| s < 1.5), "{info:?}");
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn without_words_or_with_embedding_off_there_is_no_track_and_no_file() {
    let sb = Sandbox::new();
    let report = sb.render(spec(&sb, json!({ "embed": false })));
    assert_eq!(
        report.captions, 2,
        "two sentences of two lines of at most 42 characters"
    );
    assert!(subtitle_track(&sb.path("out.mp4")).is_none());
    assert!(!sb.path("out.vtt").exists());
    let mut no_words = spec(&sb, json!({ "vtt": true }));
    no_words["scenes"][0]["narration"]["caption"] = json!("");
    let report = sb.render(no_words);
    assert_eq!(report.captions, 0);
    assert!(subtitle_track(&sb.path("out.mp4")).is_none());
    assert!(!sb.path("out.vtt").exists());
}

// Needs `--features fault-injection` (scripts/test.sh passes it).
#[cfg(feature = "fault-injection")]
#[test]
fn a_failed_render_leaves_neither_video_nor_captions() {
    let sb = Sandbox::new();
    let comp = common::comp(spec(&sb, json!({ "vtt": true })));
    let mut opts = sb.options();
    opts.fault = Some(Fault::EncodeAtFrame(100));
    let err = reelsmith::render(&comp, &opts).expect_err("injected failure");
    assert!(matches!(err, Error::Encode(_)), "{err:?}");
    assert!(!sb.path("out.mp4").exists());
    assert!(!sb.path("out.vtt").exists());
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn bad_caption_settings_are_refused_by_path() {
    let sb = Sandbox::new();
    let mut s = spec(&sb, json!({ "language": "English", "max_chars": 5 }));
    s["audio"] = json!({ "tracks": [{ "src": "hum.wav", "caption": "la la" }] });
    let err = reelsmith::render(&common::comp(s), &sb.options()).expect_err("invalid");
    let Error::Spec(SpecError::Invalid(issues)) = err else {
        panic!("{err:?}")
    };
    let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    for want in [
        "output.captions.language",
        "output.captions.max_chars",
        "audio.tracks[0].caption",
    ] {
        assert!(paths.contains(&want), "{want} missing from {issues:?}");
    }
}

#[test]
fn the_captions_command_prints_what_a_render_writes_beside_the_video() {
    let sb = Sandbox::new();
    let s = spec(&sb, json!({ "vtt": true }));
    let spec_file = sb.path("lesson.json");
    std::fs::write(&spec_file, s.to_string()).expect("spec");
    sb.render(s);
    let rendered = std::fs::read_to_string(sb.path("out.vtt")).expect("vtt");
    let run = |extra: &[&str]| {
        let r = std::process::Command::new(env!("CARGO_BIN_EXE_reelsmith"))
            .arg("captions")
            .arg(&spec_file)
            .arg("--media-root")
            .arg(sb.path("media"))
            .args(extra)
            .output()
            .expect("run");
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        String::from_utf8(r.stdout).expect("utf-8")
    };
    assert_eq!(run(&[]), rendered);
    let file = sb.path("review.vtt");
    run(&["-o", file.to_str().expect("path")]);
    assert_eq!(std::fs::read_to_string(&file).expect("written"), rendered);
}
