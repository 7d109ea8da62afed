//! The audio mix measured on real renders: scene narration, declared ducking, pan, trim.

mod common;

use common::Sandbox;
use reelsmith::audio::mix::rms_dbfs;
use serde_json::json;

fn out() -> serde_json::Value {
    json!({ "width": 64, "height": 64, "fps": 25, "quality": "fast" })
}

/// Decoded output samples between two times, one channel (0 = left) or both (None).
fn window(sb: &Sandbox, from: f64, to: f64, channel: Option<usize>) -> Vec<f32> {
    let a = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode");
    let at = |s: f64| (s * 48_000.0) as usize * 2;
    let w = &a.samples[at(from)..at(to)];
    match channel {
        None => w.to_vec(),
        Some(c) => w.iter().skip(c).step_by(2).copied().collect(),
    }
}

#[test]
fn music_is_ducked_by_the_declared_amount_while_narration_plays() {
    let sb = Sandbox::new();
    sb.tone_wav("music.wav", 48_000, 1.0, 440.0, 0.5);
    sb.tone_wav("voice.wav", 48_000, 1.0, 1000.0, 0.5);
    sb.render(json!({
        "output": out(),
        "scenes": [
            { "duration": 2 },
            // The narration starts 0.5 s into the second scene (2.5 s) and is nearly silent,
            // so the window measures the music alone.
            { "duration": 2, "narration": { "src": "voice.wav", "start": 0.5, "volume_db": -60 } }
        ],
        "audio": { "normalize": false, "tracks": [
            { "src": "music.wav", "loop": true, "duck": { "by_db": 10, "attack": 0.2, "release": 0.3 } }
        ] }
    }));
    let open = rms_dbfs(&window(&sb, 1.0, 2.2, None));
    let ducked = rms_dbfs(&window(&sb, 2.6, 3.4, None));
    let after = rms_dbfs(&window(&sb, 3.9, 3.98, None));
    assert!((open + 9.03).abs() < 0.5, "music alone {open:.2}");
    assert!(
        (open - ducked - 10.0).abs() < 0.5,
        "ducked by {:.2} dB",
        open - ducked
    );
    assert!(after > ducked + 5.0, "released: {after:.2} vs {ducked:.2}");
}

#[test]
fn scene_narration_starts_relative_to_its_scene() {
    let sb = Sandbox::new();
    sb.tone_wav("voice.wav", 22_050, 0.5, 1000.0, 0.5);
    sb.render(json!({
        "output": out(),
        "scenes": [
            { "duration": 1.2 },
            { "duration": 1.2, "narration": { "src": "voice.wav", "start": 0.3 } }
        ]
    }));
    let a = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode");
    let onset = a
        .samples
        .chunks(2)
        .position(|s| s[0].abs() > 0.05)
        .expect("voice");
    let onset_s = onset as f64 / 48_000.0;
    assert!(
        (onset_s - 1.5).abs() < 0.01,
        "voice starts at {onset_s:.4} s, want 1.5"
    );
}

#[test]
fn pan_and_trim() {
    let sb = Sandbox::new();
    // 0.5 s of silence, then the tone: trim 0.5 s must start the track on the tone.
    sb.wav(
        "late.wav",
        48_000,
        (0..96_000u64).map(|i| {
            if i < 24_000 {
                0.0
            } else {
                common::sine(i, 48_000, 440.0) * 0.5
            }
        }),
    );
    sb.render(json!({
        "output": out(),
        "scenes": [{ "duration": 1.5 }],
        "audio": { "normalize": false, "tracks": [{ "src": "late.wav", "trim": 0.5, "pan": -1 }] }
    }));
    // Hard left, constant power: +3 dB on the left, silence on the right.
    let left = rms_dbfs(&window(&sb, 0.1, 0.9, Some(0)));
    let right = rms_dbfs(&window(&sb, 0.1, 0.9, Some(1)));
    assert!((left - (-9.03 + 3.01)).abs() < 0.5, "left {left:.2}");
    assert!(right < -60.0, "right {right:.2}");
}

#[test]
fn narration_start_past_its_scene_is_a_spec_error() {
    let comp = common::comp(json!({
        "output": out(),
        "scenes": [{ "duration": 1, "narration": { "src": "x.wav", "start": 2 } }]
    }));
    let err = reelsmith::pipeline::plan(&comp, &Sandbox::new().options()).expect_err("invalid");
    let paths: Vec<String> = err.issues().into_iter().map(|i| i.path).collect();
    assert!(
        paths.contains(&"scenes[0].narration.start".to_string()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"scenes[0].narration.src".to_string()),
        "{paths:?}"
    );
}

/// Integrated loudness and true peak of the decoded output, measured with EBU R128.
fn measured(sb: &Sandbox) -> (f64, f64) {
    let a = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode");
    let mut m = ebur128::EbuR128::new(2, a.rate, ebur128::Mode::I | ebur128::Mode::TRUE_PEAK)
        .expect("meter");
    m.add_frames_f32(&a.samples).expect("frames");
    let tp = (0..2)
        .map(|c| m.true_peak(c).expect("tp"))
        .fold(0.0f64, f64::max);
    (m.loudness_global().expect("lufs"), 20.0 * tp.log10())
}

#[test]
fn quiet_mix_is_normalised_to_the_target() {
    let sb = Sandbox::new();
    sb.tone_wav("quiet.wav", 48_000, 4.0, 440.0, 0.05);
    let r = sb.render(json!({
        "output": out(),
        "scenes": [{ "duration": 4 }],
        "audio": { "tracks": [{ "src": "quiet.wav" }] }
    }));
    let (lufs, tp) = measured(&sb);
    assert!((lufs + 16.0).abs() < 0.5, "output {lufs:.2} LUFS, want -16");
    assert!(tp <= -1.0, "true peak {tp:.2} dBTP");
    let a = r.audio;
    assert!(a.input_lufs.expect("input") < -25.0, "{a:?}");
    assert!((a.output_lufs.expect("output") + 16.0).abs() < 0.2, "{a:?}");
    assert!(a.gain_db > 9.0, "{a:?}");
    // Range and true peak are metered on the delivery itself (before AAC).
    assert!(a.range_lu.is_some(), "{a:?}");
    assert!(a.true_peak_dbtp.is_some_and(|t| t <= -1.0), "{a:?}");
}

#[test]
fn loud_peaks_are_limited_under_the_ceiling_without_missing_the_target() {
    let sb = Sandbox::new();
    // A tone with full-scale clicks every 0.25 s: reaching -12 LUFS needs gain the clicks
    // cannot take, so the limiter must catch them.
    sb.wav(
        "clicks.wav",
        48_000,
        (0..4 * 48_000u64).map(|i| {
            if i % 12_000 < 48 {
                0.99
            } else {
                common::sine(i, 48_000, 220.0) * 0.2
            }
        }),
    );
    let r = sb.render(json!({
        "output": out(),
        "scenes": [{ "duration": 4 }],
        "audio": { "target_lufs": -12, "true_peak_db": -1, "tracks": [{ "src": "clicks.wav" }] }
    }));
    assert!(
        r.audio.limited_samples > 0,
        "the limiter had nothing to do: {:?}",
        r.audio
    );
    let (lufs, tp) = measured(&sb);
    assert!((lufs + 12.0).abs() < 0.5, "output {lufs:.2} LUFS, want -12");
    assert!(tp <= -1.0, "true peak {tp:.2} dBTP over the -1 ceiling");
}

#[test]
fn a_click_at_five_seconds_lands_on_the_frame_that_shows_the_marker() {
    let sb = Sandbox::new();
    sb.png("marker.png", 8, 8, |_, _| [255, 255, 255, 255]);
    // A 10 ms click at 5.000 s; a white full-frame marker from 5.000 s.
    sb.wav(
        "click.wav",
        44_100,
        (0..441u64).map(|i| common::sine(i, 44_100, 1000.0) * 0.8),
    );
    sb.render(json!({
        "output": { "width": 64, "height": 64, "fps": 30, "quality": "fast" },
        "scenes": [{ "duration": 6, "layers": [
            { "type": "image", "src": "marker.png", "width": "100%", "height": "100%",
              "fit": "stretch", "start": 5.0 }
        ] }],
        "audio": { "normalize": false, "tracks": [{ "src": "click.wav", "start": 5.0, "role": "effect" }] }
    }));
    let mut first_white = None;
    reelsmith::media::probe::decode_video(&sb.path("out.mp4"), |i, f| {
        if f.get_pixel(32, 32).0[0] > 128 {
            first_white = Some(i);
            return false;
        }
        true
    })
    .expect("decode");
    let video_s = first_white.expect("marker shown") as f64 / 30.0;
    let a = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode");
    let onset = a
        .samples
        .chunks(2)
        .position(|s| s[0].abs() > 0.1)
        .expect("click");
    let audio_s = onset as f64 / 48_000.0;
    assert!((video_s - 5.0).abs() < 1e-9, "marker at {video_s}");
    assert!(
        (audio_s - video_s).abs() <= 1.0 / 30.0,
        "click at {audio_s:.4} s, marker at {video_s:.4} s"
    );
}

#[test]
fn audio_and_video_end_together_over_a_long_render() {
    let sb = Sandbox::new();
    sb.tone_wav("bed.wav", 44_100, 1.0, 220.0, 0.3);
    // 10 minutes at 29.97 fps: frame and sample counts that never divide evenly.
    let r = sb.render(json!({
        "output": { "width": 16, "height": 16, "fps": 29.97, "quality": "fast" },
        "scenes": [{ "duration": 600 }],
        "audio": { "tracks": [{ "src": "bed.wav", "loop": true }] }
    }));
    let info = reelsmith::media::probe::probe(&sb.path("out.mp4")).expect("probe");
    let (v, a) = (
        info.stream("video").expect("v"),
        info.stream("audio").expect("a"),
    );
    let frame = 1001.0 / 30000.0;
    assert_eq!(v.packets, r.frames);
    assert!(
        (v.duration_s - r.duration_s).abs() <= frame,
        "video {} vs {}",
        v.duration_s,
        r.duration_s
    );
    assert!(
        (a.duration_s - v.duration_s).abs() <= frame,
        "audio {} vs video {}",
        a.duration_s,
        v.duration_s
    );
    assert!(v.start_s.abs() < 1e-9 && a.start_s.abs() < frame);
}

#[test]
fn auto_scene_duration_follows_the_narration() {
    let sb = Sandbox::new();
    sb.tone_wav("voice.wav", 22_050, 1.25, 300.0, 0.5);
    let r = sb.render(json!({
        "output": { "width": 64, "height": 64, "fps": 20, "quality": "fast" },
        "scenes": [
            // 0.5 s in, 1.25 s of voice, 0.75 s after: 2.5 s.
            { "duration": "auto", "padding": 0.75, "narration": { "src": "voice.wav", "start": 0.5 } },
            { "duration": 1 }
        ]
    }));
    assert_eq!(r.frames, 70, "2.5 s + 1 s at 20 fps");
    let comp = common::comp(json!({ "scenes": [{ "duration": "auto" }] }));
    let err = reelsmith::pipeline::plan(&comp, &sb.options()).expect_err("no narration");
    assert_eq!(err.issues()[0].path, "scenes[0].duration");
    assert!(err.issues()[0].message.contains("needs a narration"));
}

#[test]
fn narration_from_text_is_spoken_cached_and_timed() {
    let sb = Sandbox::new();
    let spec = json!({
        "output": { "width": 64, "height": 64, "fps": 25, "quality": "fast" },
        "scenes": [
            { "duration": 1 },
            { "duration": "auto", "padding": 0.5,
              "narration": { "text": "Lift with your legs.", "voice": "en-us", "rate": 170, "start": 0.2 } }
        ]
    });
    let r = sb.render(spec.clone());
    let cache = sb.path("media/assets/audio/tts");
    let cached: Vec<_> = std::fs::read_dir(&cache)
        .expect("cache")
        .flatten()
        .collect();
    assert_eq!(cached.len(), 1, "one cached utterance: {cached:?}");
    // Spoken again, the file would be a new one renamed into place: another inode.
    use std::os::unix::fs::MetadataExt;
    let first = cached[0].metadata().expect("metadata");
    // The scene is as long as the voice (from 0.2 s) plus 0.5 s; speech sounds only there.
    let voice_s = r.duration_s - 1.0 - 0.2 - 0.5;
    assert!(voice_s > 0.6 && voice_s < 3.0, "spoken for {voice_s:.2} s");
    assert!(
        rms_dbfs(&window(&sb, 0.0, 1.15, None)) < -60.0,
        "silent before the voice"
    );
    assert!(
        rms_dbfs(&window(&sb, 1.25, 1.2 + voice_s, None)) > -30.0,
        "speech present"
    );
    // A second render reuses the cached speech.
    sb.render(spec);
    let again = std::fs::read_dir(&cache).expect("cache").flatten().count();
    let second = std::fs::metadata(cached[0].path()).expect("metadata");
    assert_eq!(
        (again, second.ino()),
        (1, first.ino()),
        "the cache was not reused"
    );
    // Its use is recorded (so that pruning keeps what is in use).
    assert!(second.modified().expect("mtime") >= first.modified().expect("mtime"));
}

#[test]
fn bad_speech_settings_are_spec_errors() {
    let comp = common::comp(json!({
        "scenes": [{ "duration": 2, "narration": { "text": "hi", "voice": "en us; rm -rf", "rate": 20 } }],
        "audio": { "tracks": [{ "src": "a.wav", "text": "both" }, { "start": 1 }] }
    }));
    let err = reelsmith::pipeline::plan(&comp, &Sandbox::new().options()).expect_err("invalid");
    let paths: Vec<String> = err.issues().into_iter().map(|i| i.path).collect();
    for want in [
        "scenes[0].narration.voice",
        "scenes[0].narration.rate",
        "audio.tracks[0].text",
        "audio.tracks[1]",
    ] {
        assert!(
            paths.contains(&want.to_string()),
            "missing {want} in {paths:?}"
        );
    }
}

/// The largest jump between neighbouring samples of the left channel in a window.
fn max_step(samples: &[f32]) -> f32 {
    let left: Vec<f32> = samples.iter().step_by(2).copied().collect();
    left.windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0, f32::max)
}

#[test]
fn a_loop_crossfade_removes_the_click_at_the_loop_point() {
    // 0.25 s of 441 Hz is 110.25 cycles: played back to back, each repeat jumps.
    let render = |xf: f64| {
        let sb = Sandbox::new();
        sb.tone_wav("bed.wav", 48_000, 0.25, 441.0, 0.5);
        sb.render(json!({
            "output": out(),
            "scenes": [{ "duration": 1.2 }],
            "audio": { "normalize": false, "tracks": [{ "src": "bed.wav", "loop": true, "loop_crossfade": xf }] }
        }));
        window(&sb, 0.05, 1.15, None)
    };
    // A 441 Hz sine at 0.5 moves at most 2*pi*441/48000*0.5 = 0.029 per sample.
    let natural = 0.029f32;
    let clicky = max_step(&render(0.0));
    let smooth = max_step(&render(0.02));
    assert!(
        clicky > 4.0 * natural,
        "expected a click without a crossfade: {clicky:.3}"
    );
    assert!(
        smooth < 1.5 * natural,
        "click left with a crossfade: {smooth:.3}"
    );
}

#[test]
fn fade_curves_shape_the_fade() {
    use reelsmith::spec::FadeCurve;
    assert_eq!(FadeCurve::Linear.gain(0.5), 0.5);
    assert!((FadeCurve::EqualPower.gain(0.5) - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    assert!((FadeCurve::Exponential.gain(0.5) - 10f32.powf(-1.5)).abs() < 1e-6);
    let (a, b) = FadeCurve::EqualPower.crossfade(0.3);
    assert!(
        (a * a + b * b - 1.0).abs() < 1e-5,
        "equal power keeps the sum of powers"
    );
}

#[test]
fn level_driven_ducking_follows_an_unmarked_voice() {
    let sb = Sandbox::new();
    sb.tone_wav("music.wav", 48_000, 1.0, 440.0, 0.5);
    sb.tone_wav("voice.wav", 48_000, 1.0, 1000.0, 0.01); // -43 dBFS: quiet, but above -50
    sb.render(json!({
        "output": out(),
        "scenes": [{ "duration": 4 }],
        "audio": { "normalize": false, "tracks": [
            { "src": "music.wav", "loop": true,
              "duck": { "by_db": 8, "attack": 0.1, "release": 0.2, "source": "level", "threshold_db": -50 } },
            { "src": "voice.wav", "start": 2.0, "role": "effect" }
        ] }
    }));
    let open = rms_dbfs(&window(&sb, 0.5, 1.8, None));
    let ducked = rms_dbfs(&window(&sb, 2.2, 2.9, None));
    assert!(
        (open - ducked - 8.0).abs() < 0.5,
        "ducked by {:.2} dB",
        open - ducked
    );
    assert!(
        rms_dbfs(&window(&sb, 3.4, 3.9, None)) > ducked + 5.0,
        "released after the voice"
    );
}

/// The entries in the sandbox's audio cache.
fn cache_entries(sb: &Sandbox) -> Vec<std::path::PathBuf> {
    let dir = sb.options().audio_cache_dir();
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn spec_with_background(color: &str) -> serde_json::Value {
    json!({
        "output": out(),
        "scenes": [{ "duration": 2, "background": { "type": "solid", "color": color }, "narration": { "src": "voice.wav" } }],
        "audio": { "tracks": [{ "src": "music.wav", "loop": true, "volume_db": -12 }] }
    })
}

#[test]
fn unchanged_audio_is_copied_from_the_cache_and_changed_audio_is_encoded_again() {
    let sb = Sandbox::new();
    sb.tone_wav("voice.wav", 48_000, 1.5, 440.0, 0.4);
    sb.tone_wav("music.wav", 44_100, 1.0, 220.0, 0.4);
    let decode = || reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode");

    let first = sb.render(spec_with_background("#203040"));
    assert!(!first.audio_cached);
    assert_eq!(
        cache_entries(&sb).len(),
        1,
        "the first render stores its audio"
    );
    let audio = decode();

    // New slides, same audio: copied, sample for sample, with the first render's loudness.
    let second = sb.render(spec_with_background("#C02020"));
    assert!(second.audio_cached, "{:?}", second.stages);
    assert_eq!(decode().samples, audio.samples);
    assert_eq!(second.audio.output_lufs, first.audio.output_lufs);
    assert_eq!(second.audio.true_peak_dbtp, first.audio.true_peak_dbtp);
    let mix = second
        .stages
        .iter()
        .find(|s| s.stage == reelsmith::StageId::Mix);
    assert!(
        mix.and_then(|s| s.note.as_deref())
            .is_some_and(|n| n.contains("audio cache")),
        "{mix:?}"
    );
    // The video is the new one.
    let f = &common::frames(&sb.path("out.mp4"))[10];
    let [r, g, b] = common::px(f, 32, 32);
    assert!(r > 170 && g < 60 && b < 60, "{r} {g} {b}");

    // The same file name with other sound in it: encoded again.
    sb.tone_wav("voice.wav", 48_000, 1.5, 660.0, 0.4);
    let third = sb.render(spec_with_background("#C02020"));
    assert!(!third.audio_cached);
    assert_ne!(decode().samples, audio.samples);
    assert_eq!(cache_entries(&sb).len(), 2);

    // Switched off: neither read nor written.
    sb.tone_wav("voice.wav", 48_000, 1.5, 880.0, 0.4);
    let comp = common::comp(spec_with_background("#C02020"));
    let opts = sb.options().with_audio_cache(false);
    let off = reelsmith::render(&comp, &opts).expect("render");
    assert!(!off.audio_cached);
    assert_eq!(cache_entries(&sb).len(), 2);
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn a_damaged_cache_entry_is_thrown_away_and_the_audio_encoded_again() {
    let sb = Sandbox::new();
    sb.tone_wav("voice.wav", 48_000, 1.5, 440.0, 0.4);
    sb.tone_wav("music.wav", 48_000, 1.0, 220.0, 0.4);
    sb.render(spec_with_background("#203040"));
    let entries = cache_entries(&sb);
    assert_eq!(entries.len(), 1);
    let whole = std::fs::read(&entries[0]).expect("entry");
    let audio = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode");

    // Cut in half (as by a full disk): not used, replaced by a whole one.
    std::fs::write(&entries[0], &whole[..whole.len() / 2]).expect("write");
    let again = sb.render(spec_with_background("#203040"));
    assert!(!again.audio_cached);
    assert_eq!(std::fs::read(&entries[0]).expect("entry"), whole);
    let decoded = reelsmith::media::probe::decode_audio(&sb.path("out.mp4")).expect("decode");
    assert_eq!(decoded.samples, audio.samples);
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

/// Decoded stereo samples of `path`, from timeline sample 0.
fn decoded(path: &std::path::Path) -> Vec<f32> {
    let a = reelsmith::media::probe::decode_audio(path).expect("decode");
    assert_eq!((a.rate, a.channels), (48_000, 2));
    assert!(a.start_s.abs() < 1e-9, "starts at {}", a.start_s);
    a.samples
}

/// The largest RMS (both channels) of `err` over 256-sample windows starting in `at`.
fn worst_window(err: &[f32], at: std::ops::Range<usize>) -> f32 {
    at.step_by(64)
        .filter(|&i| (i + 256) * 2 <= err.len())
        .map(|i| {
            let w = &err[i * 2..(i + 256) * 2];
            (w.iter().map(|e| e * e).sum::<f32>() / w.len() as f32).sqrt()
        })
        .fold(0.0, f32::max)
}

#[test]
fn audio_encoded_in_chunks_has_no_click_or_gap_at_any_seam() {
    let sb = Sandbox::new();
    // A tone whose level moves: the limiter and the encoder's allocation change across the
    // seams. No normalisation: the mastered samples are the tone's.
    sb.wav(
        "bed.wav",
        48_000,
        (0..48_000 * 7).map(|i| {
            let t = i as f64 / 48_000.0;
            common::sine(i, 48_000, 440.0) * (0.3 + 0.2 * (t * 1.3).sin())
                + common::sine(i, 48_000, 3_150.0) * 0.1
        }),
    );
    let comp = common::comp(json!({
        "output": out(),
        "scenes": [{ "duration": 7.0 }],
        "audio": { "normalize": false, "tracks": [{ "src": "bed.wav" }] }
    }));
    // Chunks of 1 s (47 AAC frames: 48,128 samples): six seams.
    let opts = sb
        .options()
        .with_chunk_s(1.0)
        .with_output(sb.path("chunked.mp4"));
    let plan = reelsmith::pipeline::plan(&comp, &opts).expect("plan");
    let chunks = plan.audio_chunks();
    assert_eq!(chunks.len(), 7, "{chunks:?}");
    assert_eq!(chunks[1].start, 48_128);
    reelsmith::render(&comp, &opts).expect("chunked render");
    reelsmith::render(&comp, &sb.options().with_output(sb.path("whole.mp4"))).expect("render");
    // What the encoders were given: the mastered timeline.
    let pcm = sb.path("master.f32");
    reelsmith::pipeline::render_pcm(&plan, &pcm, &opts).expect("pcm");
    let reference = common::mastered_samples(&pcm);
    assert_eq!(reference.len() as u64, plan.total_samples * 2);

    let chunked = decoded(&sb.path("chunked.mp4"));
    let whole = decoded(&sb.path("whole.mp4"));
    let n = reference.len().min(chunked.len()).min(whole.len());
    let error = |got: &[f32]| -> Vec<f32> { (0..n).map(|i| got[i] - reference[i]).collect() };
    let (e_chunked, e_whole) = (error(&chunked), error(&whole));
    // The coding error of the stream away from the seams, and at them (±1024 samples: the
    // two packets whose windows overlap there).
    let typical = worst_window(&e_whole, 0..n / 2);
    // At each seam, the error of the chunked stream is no larger than its own a little
    // away from the seam (or than the one-piece stream's anywhere), and no sample jumps more
    // than the tone can (0.5 at 440 Hz and 0.1 at 3,150 Hz move at most 0.070 per sample).
    // Encoded naively, chunk by chunk with no overlap, the seams measured 0.12 to 0.37
    // against 0.005 to 0.012 nearby, with jumps up to 0.35.
    let clicks = |e: &[f32], got: &[f32]| -> Vec<String> {
        let mut bad = Vec::new();
        for seam in chunks.iter().skip(1).map(|c| c.start as usize) {
            let at_seam = worst_window(e, seam - 1024..seam + 1024);
            let nearby = worst_window(e, seam + 4096..seam + 24_000)
                .max(worst_window(e, seam - 24_000..seam - 4096))
                .max(typical);
            let step = max_step(&got[(seam - 1024) * 2..(seam + 1024) * 2]);
            if at_seam > 1.5 * nearby || step > 0.08 {
                bad.push(format!(
                    "seam {seam}: error {at_seam:.4} (nearby {nearby:.4}), step {step:.3}"
                ));
            }
        }
        bad
    };
    assert_eq!(clicks(&e_chunked, &chunked), Vec::<String>::new());
    // The check hears a click: one sample off by 0.2 at a seam.
    let mut clicked = chunked.clone();
    clicked[chunks[3].start as usize * 2] += 0.2;
    assert_eq!(clicks(&error(&clicked), &clicked).len(), 1);
    // And the chunks hold every sample: the stream is as long as the one-piece one.
    assert_eq!(chunked.len(), whole.len());
}
