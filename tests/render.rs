//! End-to-end renders, probed and decoded back in-process.

mod common;

use common::{assert_close, frames, luma, px, Sandbox};
use serde_json::json;

fn small_output() -> serde_json::Value {
    json!({ "width": 320, "height": 180, "fps": 30, "quality": "fast" })
}

#[test]
fn streams_codecs_duration_and_background_colours() {
    let sb = Sandbox::new();
    let report = sb.render(json!({
        "output": small_output(),
        "scenes": [
            { "duration": 1, "background": { "type": "solid", "color": "#C83232" } },
            { "duration": 1, "background": { "type": "solid", "color": "#2040C0" } }
        ]
    }));
    assert_eq!(report.frames, 60);
    assert_eq!(
        report.unique_frames, 2,
        "two static scenes need two pictures"
    );
    let out = sb.path("out.mp4");
    assert_eq!(report.output, out);

    let info = reelsmith::media::probe::probe(&out).expect("probe");
    assert_eq!(info.faststart, Some(true), "moov must come first");
    let v = info.stream("video").expect("video stream");
    assert_eq!(v.codec, "h264");
    assert_eq!(v.profile.as_deref(), Some("High"));
    assert_eq!(v.pix_fmt.as_deref(), Some("yuv420p"));
    assert_eq!((v.width, v.height), (Some(320), Some(180)));
    assert_eq!(v.packets, 60);
    assert!(
        (v.duration_s - 2.0).abs() <= 1.0 / 30.0,
        "video {} s",
        v.duration_s
    );
    assert!((v.fps.unwrap_or(0.0) - 30.0).abs() < 0.01);
    assert_eq!(v.color_space.as_deref(), Some("BT709"));
    let a = info.stream("audio").expect("audio stream");
    assert_eq!(a.codec, "aac");
    assert_eq!(a.profile.as_deref(), Some("LC"));
    assert_eq!((a.sample_rate, a.channels), (Some(48_000), Some(2)));
    assert!(
        (a.duration_s - 2.0).abs() <= 1.0 / 30.0,
        "audio {} s",
        a.duration_s
    );
    assert!((info.duration_s - 2.0).abs() <= 1.0 / 30.0);

    let f = frames(&out);
    assert_eq!(f.len(), 60);
    assert_close(px(&f[10], 160, 90), [200, 50, 50], 6, "scene 1 colour");
    assert_close(px(&f[45], 160, 90), [32, 64, 192], 6, "scene 2 colour");
    assert_close(px(&f[29], 5, 5), [200, 50, 50], 6, "last frame of scene 1");
    assert_close(px(&f[30], 5, 5), [32, 64, 192], 6, "first frame of scene 2");
}

#[test]
fn text_is_drawn_where_placed_and_not_before_its_start() {
    let sb = Sandbox::new();
    sb.render(json!({
        "output": small_output(),
        "scenes": [{
            "duration": 2,
            "background": { "type": "solid", "color": "#000000" },
            "layers": [{ "type": "text", "text": "HELLO", "size": 40, "weight": "bold",
                         "x": 80, "y": 60, "anchor": "top-left", "start": 1.0 }]
        }]
    }));
    let f = frames(&sb.path("out.mp4"));
    assert_eq!(f.len(), 60);
    let bright = |fr: &image::RgbImage| {
        let mut n = 0;
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for (x, y, p) in fr.enumerate_pixels() {
            if luma(p.0) > 128.0 {
                n += 1;
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x);
                y1 = y1.max(y);
            }
        }
        (n, x0, y0, x1, y1)
    };
    assert_eq!(bright(&f[29]).0, 0, "text visible before its start");
    let (n, x0, y0, x1, y1) = bright(&f[30]);
    assert!(n > 300, "too little text drawn: {n} px");
    // The box's top-left is (80, 60); glyph ink starts a little inside it.
    assert!((80..=90).contains(&x0), "left edge at {x0}");
    assert!((60..=82).contains(&y0), "top edge at {y0}");
    assert!(x1 > 180 && x1 < 260, "right edge at {x1}");
    assert!(y1 > 80 && y1 < 110, "bottom edge at {y1}");
}

#[test]
fn image_layer_colours_where_placed_over_gradient() {
    let sb = Sandbox::new();
    sb.png("two.png", 40, 20, |x, _| {
        if x < 20 {
            [255, 0, 0, 255]
        } else {
            [0, 255, 0, 255]
        }
    });
    sb.render(json!({
        "output": small_output(),
        "scenes": [{
            "duration": 0.5,
            "background": { "type": "linear_gradient", "angle": 90, "colors": ["#000000", "#FFFFFF"] },
            "layers": [{ "type": "image", "src": "two.png", "x": 100, "y": 50, "anchor": "top-left" }]
        }]
    }));
    let f = frames(&sb.path("out.mp4"));
    assert_eq!(f.len(), 15);
    assert_close(px(&f[7], 108, 60), [255, 0, 0], 12, "left half red");
    assert_close(px(&f[7], 132, 60), [0, 255, 0], 12, "right half green");
    // Gradient: left edge near black, right edge near white, middle grey.
    assert!(luma(px(&f[7], 2, 150)) < 12.0);
    assert!(luma(px(&f[7], 317, 150)) > 243.0);
    assert!((luma(px(&f[7], 160, 150)) - 128.0).abs() < 10.0);
}

#[test]
fn fade_in_is_half_way_at_its_midpoint() {
    let sb = Sandbox::new();
    sb.png("white.png", 8, 8, |_, _| [255, 255, 255, 255]);
    let report = sb.render(json!({
        "output": small_output(),
        "scenes": [{
            "duration": 2,
            "layers": [{ "type": "image", "src": "white.png", "width": "100%", "height": "100%",
                         "fit": "stretch", "fade_in": 1.0 }]
        }]
    }));
    // 30 frames of fade then one static picture.
    assert_eq!(report.unique_frames, 31);
    let f = frames(&sb.path("out.mp4"));
    let l = |i: usize| luma(px(&f[i], 160, 90));
    assert!(l(0) < 20.0, "first frame {}", l(0));
    assert!((l(15) - 128.0).abs() < 12.0, "midpoint {}", l(15));
    assert!(l(31) > 250.0, "after fade {}", l(31));
    for i in 1..31 {
        assert!(l(i) >= l(i - 1), "fade not monotonic at {i}");
    }
}

#[test]
fn audio_tone_level_and_timing_survive_mix_resample_and_aac() {
    let sb = Sandbox::new();
    // 1 kHz at amplitude 0.5 = -9.03 dBFS RMS; at 44.1 kHz, so it is resampled.
    sb.tone_wav("tone.wav", 44_100, 1.5, 1000.0, 0.5);
    sb.render(json!({
        "output": small_output(),
        "scenes": [{ "duration": 3 }],
        "audio": { "normalize": false, "tracks": [{ "src": "tone.wav", "start": 0.5, "volume_db": -6 }] }
    }));
    let a = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode audio");
    assert_eq!((a.rate, a.channels), (48_000, 2));
    assert!(
        a.start_s.abs() < 1.0 / 30.0,
        "audio starts at {}",
        a.start_s
    );
    let at = |s: f64| (s * 48_000.0) as usize * 2;
    // Level in the steady middle of the tone: -9.03 - 6 = -15.05 dBFS.
    let db = reelsmith::audio::mix::rms_dbfs(&a.samples[at(0.8)..at(1.7)]);
    assert!((db + 15.05).abs() < 0.5, "tone RMS {db:.2} dBFS");
    // Silence before the track starts and after it ends.
    assert!(reelsmith::audio::mix::rms_dbfs(&a.samples[at(0.05)..at(0.45)]) < -60.0);
    assert!(reelsmith::audio::mix::rms_dbfs(&a.samples[at(2.1)..at(2.9)]) < -60.0);
    // Onset within 10 ms of 0.5 s: audio and video timelines are aligned.
    let onset = a
        .samples
        .chunks(2)
        .position(|s| s[0].abs() > 0.05)
        .expect("tone present");
    let onset_s = onset as f64 / 48_000.0;
    assert!(
        (onset_s - 0.5).abs() < 0.01,
        "tone starts at {onset_s:.4} s"
    );
    let info = reelsmith::media::probe::probe(&sb.path("out.mp4")).expect("probe");
    let (v, au) = (
        info.stream("video").expect("v"),
        info.stream("audio").expect("a"),
    );
    assert!(
        (v.start_s - au.start_s).abs() < 1.0 / 30.0,
        "A/V start {} vs {}",
        v.start_s,
        au.start_s
    );
}

#[test]
fn audio_and_video_stay_interleaved_when_the_audio_lags() {
    // 20 s of one still picture is written almost at once, while the audio thread is still
    // measuring loudness: the muxer must hold the video back until its audio is there, not
    // write long stretches of one stream alone (which makes a browser read ahead).
    let sb = Sandbox::new();
    sb.tone_wav("tone.wav", 48_000, 20.0, 440.0, 0.3);
    let report = sb.render(json!({
        "output": { "width": 64, "height": 64, "fps": 30, "quality": "fast" },
        "scenes": [{ "duration": 20 }],
        "audio": { "tracks": [{ "src": "tone.wav" }] }
    }));
    assert_eq!(report.frames, 600);
    let info = reelsmith::media::probe::probe(&sb.path("out.mp4")).expect("probe");
    let gap = info.interleave_s.expect("two streams");
    assert!(gap <= 1.0, "streams drift {gap:.2} s apart along the file");
    let a = info.stream("audio").expect("audio");
    assert!(
        (a.duration_s - 20.0).abs() < 0.05,
        "audio {} s",
        a.duration_s
    );
}

#[test]
fn looped_music_fills_the_video_and_fades_out() {
    let sb = Sandbox::new();
    sb.tone_wav("loop.wav", 48_000, 0.5, 440.0, 0.5);
    sb.render(json!({
        "output": small_output(),
        "scenes": [{ "duration": 2 }],
        "audio": { "normalize": false, "tracks": [{ "src": "loop.wav", "loop": true, "fade_out": 0.5 }] }
    }));
    let a = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode audio");
    let at = |s: f64| (s * 48_000.0) as usize * 2;
    let loud = reelsmith::audio::mix::rms_dbfs(&a.samples[at(1.0)..at(1.4)]);
    assert!((loud + 9.03).abs() < 0.5, "looped level {loud:.2}");
    let tail = reelsmith::audio::mix::rms_dbfs(&a.samples[at(1.9)..at(1.99)]);
    assert!(tail < loud - 10.0, "fade-out tail {tail:.2} vs {loud:.2}");
}

#[test]
fn ntsc_rate_gives_exact_frame_count() {
    let sb = Sandbox::new();
    let report = sb.render(json!({
        "output": { "width": 64, "height": 64, "fps": 29.97, "quality": "fast" },
        "scenes": [{ "duration": 2.002 }]
    }));
    // 2.002 s at 30000/1001 fps is exactly 60 frames.
    assert_eq!(report.frames, 60);
    let info = reelsmith::media::probe::probe(&sb.path("out.mp4")).expect("probe");
    let v = info.stream("video").expect("video");
    assert_eq!(v.packets, 60);
    assert!((v.fps.unwrap_or(0.0) - 29.97).abs() < 0.01, "{:?}", v.fps);
}

#[test]
fn report_has_every_stage_in_order() {
    let sb = Sandbox::new();
    let r = sb.render(json!({ "output": small_output(), "scenes": [{ "duration": 0.5 }] }));
    let names: Vec<&str> = r.stages.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(
        names,
        ["validate", "prepare", "mix", "compose", "encode", "finalize"]
    );
    let encode = &r.stages[4];
    assert_eq!(encode.frames, 15);
    assert!(encode.bytes > 0);
    assert_eq!(
        r.output_bytes,
        std::fs::metadata(sb.path("out.mp4"))
            .map(|m| m.len())
            .unwrap_or(0)
    );
    assert!(r.wall_s > 0.0 && r.realtime_factor > 0.0);
    let json = serde_json::to_value(&r).expect("serialize");
    assert!(json["stages"][3]["wall_s"].is_number());
    assert!(sb.leftovers().is_empty(), "leftovers: {:?}", sb.leftovers());
}

#[test]
fn every_audio_format_decodes_at_the_right_level() {
    // Fixtures: 0.6 s of 440 Hz at amplitude 0.5 (-9.03 dBFS RMS), tools/make_audio_fixtures.sh.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/audio");
    // 5.1 with the tone on FL and FR: libswresample's downmix keeps the front pair at unity
    // (centre and surrounds would join at -3 dB).
    for (file, want_db) in [
        ("tone-s24.wav", -9.03),
        ("tone-u8.wav", -9.03),
        ("tone.flac", -9.03),
        ("tone.mp3", -9.03),
        ("tone.m4a", -9.03),
        ("tone.ogg", -9.03),
        ("tone.opus", -9.03),
        ("tone-51.wav", -9.03),
    ] {
        let sb = Sandbox::new();
        sb.render(json!({
            "output": { "width": 64, "height": 64, "fps": 25, "quality": "fast" },
            "scenes": [{ "duration": 1 }],
            "audio": { "normalize": false, "tracks": [{ "src": format!("{dir}/{file}") }] }
        }));
        let a = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode");
        let at = |s: f64| (s * 48_000.0) as usize * 2;
        let mid = &a.samples[at(0.15)..at(0.45)];
        let db = reelsmith::audio::mix::rms_dbfs(mid);
        assert!(
            (db - want_db).abs() < 0.5,
            "{file}: {db:.2} dBFS, want {want_db}"
        );
        let left: Vec<f32> = mid.iter().step_by(2).copied().collect();
        let right: Vec<f32> = mid.iter().skip(1).step_by(2).copied().collect();
        let (l, r) = (
            reelsmith::audio::mix::rms_dbfs(&left),
            reelsmith::audio::mix::rms_dbfs(&right),
        );
        assert!((l - r).abs() < 0.1, "{file}: unbalanced L {l:.2} R {r:.2}");
    }
}
