//! A plan rendered by ranges: planned once, written to JSON, read back by "another process"
//! that never sees the spec, rendered one range at a time into segment files, the audio on
//! its own, and joined: the same pictures and sound as the one-call render.

mod common;

use std::path::{Path, PathBuf};

use common::{decode_strict, mean_abs_diff, Sandbox};
use reelsmith::{Plan, RenderOptions};
use serde_json::json;

/// Three scenes of 1.5 s at 160x96 (a crossfade and a fade between them), a picture, a
/// progress bar, a spec font and a music track.
fn spec(photo: &Path, music: &Path) -> serde_json::Value {
    let fonts = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fonts");
    json!({
        "output": { "width": 160, "height": 96, "fps": 20, "quality": "fast" },
        "fonts": [fonts.to_str().unwrap()],
        "scenes": [
            { "duration": 1.5, "background": { "type": "solid", "color": "#203A43" },
              "layers": [ { "type": "text", "text": "Title", "size": 24, "font": "Fixture Serif",
                            "fade_in": 0.3 } ] },
            { "duration": 1.5, "transition": { "type": "crossfade", "duration": 0.3 },
              "background": { "type": "image", "src": photo.to_str().unwrap(),
                              "motion": "zoom_in" },
              "layers": [ { "type": "progress_bar", "color": "#FFC83D" } ] },
            { "duration": 1.5, "transition": { "type": "fade", "duration": 0.3 },
              "background": { "type": "solid", "color": "#F0F0F0" },
              "layers": [ { "type": "text", "text": "The end", "size": 20, "color": "#102030" } ] }
        ],
        "audio": { "tracks": [ { "src": music.to_str().unwrap(), "fade_out": 0.5 } ] }
    })
}

fn setup() -> (Sandbox, PathBuf, RenderOptions) {
    let sb = Sandbox::new();
    let photo = sb.png("photo.png", 320, 192, |x, y| {
        [
            (x % 256) as u8,
            (y % 256) as u8,
            ((x + y) / 2 % 256) as u8,
            255,
        ]
    });
    let music = sb.tone_wav("music.wav", 44_100, 5.0, 440.0, 0.3);
    let spec_path = sb.path("spec.json");
    std::fs::write(&spec_path, spec(&photo, &music).to_string()).expect("write spec");
    let opts = sb
        .options()
        .with_scene_cache(false)
        .with_audio_cache(false)
        .with_threads(2)
        .with_output(sb.path("whole.mp4"));
    (sb, spec_path, opts)
}

fn audio(path: &Path) -> Vec<f32> {
    reelsmith::media::probe::decode_audio(path)
        .unwrap_or_else(|e| panic!("decode audio: {e}"))
        .samples
}

#[test]
fn a_plan_rendered_by_ranges_matches_the_one_call_render() {
    let (sb, spec_path, opts) = setup();
    let (comp, _) = reelsmith::load_spec(&spec_path).expect("spec");
    let whole = reelsmith::render(&comp, &opts).unwrap_or_else(|e| panic!("{e}"));

    // Planned once; the plan goes out as JSON and the spec is gone.
    let plan = reelsmith::pipeline::plan(&comp, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.output, sb.path("whole.mp4"));
    assert_eq!(plan.fonts.files.len(), 1);
    assert!(
        plan.input_files()
            .iter()
            .all(|p| plan.inputs.contains_key(*p)),
        "every input has its hash: {:?}",
        plan.inputs
    );
    let text = serde_json::to_string(&plan).expect("serialise");
    assert!(
        !text.contains("\"bytes\""),
        "font bytes stay out of the plan"
    );
    std::fs::remove_file(&spec_path).expect("remove spec");
    drop(comp);
    let read: Plan = serde_json::from_str(&text).expect("deserialise");
    assert!(!read.fonts.loaded());
    assert_eq!(
        serde_json::to_string(&read).expect("again"),
        text,
        "round trip"
    );
    // Exactly the same values (Debug prints every number exactly), the fonts aside.
    let mut loaded = read.clone();
    reelsmith::resolve::fonts::load_plan(&mut loaded).expect("fonts");
    assert_eq!(format!("{loaded:?}"), format!("{plan:?}"), "the same plan");

    // Each range in a call of its own, from the plan read back.
    let ranges = read.ranges();
    assert_eq!(ranges.len(), 3, "one range per scene: {ranges:?}");
    assert_eq!(ranges.last().map(|r| r.end), Some(read.total_frames));
    let mut segments = Vec::new();
    for (i, r) in ranges.iter().enumerate() {
        let again: Plan = serde_json::from_str(&text).expect("deserialise");
        let seg = sb.path(&format!("range-{i}.h264seg"));
        let stats = reelsmith::pipeline::render_range(&again, r.clone(), &seg, &opts)
            .unwrap_or_else(|e| panic!("range {r:?}: {e}"));
        assert_eq!(stats.frames, r.end - r.start);
        segments.push(seg);
    }
    // A range that does not start at a segment start is refused.
    let bad = reelsmith::pipeline::render_range(&read, 1..ranges[0].end, &sb.path("bad"), &opts)
        .expect_err("not a range start");
    assert!(matches!(bad, reelsmith::Error::Range(_)), "{bad}");

    let aac = sb.path("audio.aacpk");
    reelsmith::pipeline::render_audio(&read, &aac, &opts).unwrap_or_else(|e| panic!("audio: {e}"));
    let joined = sb.path("joined.mp4");
    let stats =
        reelsmith::pipeline::join(&read, &segments, std::slice::from_ref(&aac), &joined, &opts)
            .unwrap_or_else(|e| panic!("join: {e}"));
    assert_eq!(stats.frames, whole.frames);
    assert_eq!(stats.segments_reused, 3);
    // Nothing is left behind: the join's temporary folder went with it, beside no partial file.
    let temp_root = opts.temp_root();
    let left: Vec<_> = std::fs::read_dir(&temp_root)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left in {}: {left:?}", temp_root.display());
    assert!(!std::fs::read_dir(sb.path(""))
        .expect("sandbox")
        .flatten()
        .any(|e| e.file_name().to_string_lossy().ends_with(".partial")));

    // The same chapters, one per scene (three scenes: on by default).
    let chapters = |p: &Path| {
        let info = reelsmith::media::probe::probe(p).expect("probe");
        info.chapters
            .iter()
            .map(|c| format!("{} {:.3}..{:.3}", c.title, c.start_s, c.end_s))
            .collect::<Vec<_>>()
    };
    assert_eq!(chapters(&sb.path("whole.mp4")).len(), 3);
    assert_eq!(chapters(&joined), chapters(&sb.path("whole.mp4")));

    // The same pictures (a keyframe at each range's start) and the same sound.
    let (a, _) = decode_strict(&sb.path("whole.mp4"));
    let (b, keys) = decode_strict(&joined);
    assert_eq!(a.len() as u64, whole.frames);
    assert_eq!(a.len(), b.len());
    for (i, (fa, fb)) in a.iter().zip(&b).enumerate() {
        let d = mean_abs_diff(fa, fb);
        assert!(d < 1.0, "frame {i} differs by {d:.2} on average");
    }
    let at_20fps: Vec<i64> = ranges.iter().map(|r| (r.start as i64 * 30) / 20).collect();
    for k in at_20fps {
        assert!(
            keys.contains(&k),
            "keyframe at {k} (30 fps units): {keys:?}"
        );
    }
    assert_eq!(audio(&sb.path("whole.mp4")), audio(&joined), "same audio");

    // A picture changed since planning: the ranges that show it are refused, not rendered
    // with other pictures; the others still render.
    sb.png("photo.png", 320, 192, |_, _| [9, 9, 9, 255]);
    let changed = reelsmith::pipeline::render_range(&read, ranges[1].clone(), &segments[1], &opts)
        .expect_err("the photo changed");
    assert!(
        matches!(changed, reelsmith::Error::Input { .. }),
        "{changed}"
    );
    reelsmith::pipeline::render_range(&read, ranges[0].clone(), &segments[0], &opts)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_plan_read_back_renders_like_the_spec() {
    let (sb, spec_path, opts) = setup();
    let (comp, _) = reelsmith::load_spec(&spec_path).expect("spec");
    let plan = reelsmith::pipeline::plan(&comp, &opts).unwrap_or_else(|e| panic!("{e}"));
    let mut read: Plan =
        serde_json::from_str(&serde_json::to_string(&plan).expect("json")).expect("plan");
    reelsmith::render(&comp, &opts).unwrap_or_else(|e| panic!("{e}"));
    read.output = sb.path("again.mp4");
    let report = reelsmith::pipeline::render_plan(&read, &opts, &mut reelsmith::NoProgress)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.output, sb.path("again.mp4"));
    let (a, _) = decode_strict(&sb.path("whole.mp4"));
    let (b, _) = decode_strict(&sb.path("again.mp4"));
    assert_eq!(a.len(), b.len());
    for (i, (fa, fb)) in a.iter().zip(&b).enumerate() {
        let d = mean_abs_diff(fa, fb);
        assert!(d < 1.0, "frame {i} differs by {d:.2} on average");
    }
    assert_eq!(audio(&sb.path("whole.mp4")), audio(&sb.path("again.mp4")));
}

#[test]
fn long_scenes_are_cut_into_chunks_from_their_first_frame() {
    let sb = Sandbox::new();
    // 1.5 s, 4 s and 1.5 s at 20 fps with 0.3 s transitions: scenes start at 0, 24 and 98
    // of 128 frames; a bar fills over the long one on a still background (partial pictures).
    let spec = json!({
        "output": { "width": 160, "height": 96, "fps": 20, "quality": "fast" },
        "scenes": [
            { "duration": 1.5, "background": { "type": "solid", "color": "#203A43" } },
            { "duration": 4.0, "transition": { "type": "crossfade", "duration": 0.3 },
              "background": { "type": "solid", "color": "#F0F0F0" },
              "layers": [ { "type": "progress_bar", "color": "#FFC83D" } ] },
            { "duration": 1.5, "transition": { "type": "fade", "duration": 0.3 },
              "background": { "type": "solid", "color": "#102030" } }
        ]
    });
    let comp = common::comp(spec);
    let plan = |chunk_s: f64| {
        reelsmith::pipeline::plan(&comp, &sb.options().with_chunk_s(chunk_s))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(
        plan(0.0).segment_starts(),
        vec![24, 98],
        "a segment per scene"
    );
    // Chunks of 30 frames counted from the long scene's first frame; 84 would leave a last
    // piece under a second (20 frames), so it stays in the chunk before.
    let chunked = plan(1.5);
    assert_eq!(chunked.encoding.chunk_frames, 30);
    assert_eq!(chunked.segment_starts(), vec![24, 54, 98]);
    assert_eq!(chunked.ranges().len(), 4);
    // Every range begins with a picture composed whole: nothing before it is in its range.
    let spans = chunked.spans();
    for start in chunked.range_starts() {
        let first = spans
            .iter()
            .find(|s| s.start == start)
            .unwrap_or_else(|| panic!("no span begins at {start}"));
        assert!(!first.local && !first.bars_only, "{first:?}");
    }
    // Cut only where ranges begin: the same frames, and as many spans plus at most one a cut.
    let plain = plan(0.0).spans();
    let frames = |s: &[reelsmith::plan::Span]| s.iter().map(|s| s.len).sum::<u64>();
    assert_eq!(frames(&spans), 128);
    assert_eq!(frames(&plain), 128);
    assert!(
        spans.len() <= plain.len() + 1,
        "{} vs {}",
        spans.len(),
        plain.len()
    );
}

#[test]
fn audio_chunks_encoded_apart_from_the_mastered_samples_are_the_local_stream() {
    let sb = Sandbox::new();
    // A looped, ducked music bed under two narrations, normalised and limited: every stage
    // of the mastering moves across the seams.
    sb.wav(
        "bed.wav",
        48_000,
        (0..48_000 * 2).map(|i| common::sine(i, 48_000, 220.0) * 0.6),
    );
    sb.tone_wav("voice.wav", 48_000, 2.5, 700.0, 0.7);
    let comp = common::comp(json!({
        "output": { "width": 64, "height": 64, "fps": 25, "quality": "fast" },
        "scenes": [
            { "duration": 4.0, "narration": { "src": "voice.wav", "start": 0.8 } },
            { "duration": 4.0, "narration": { "src": "voice.wav", "start": 0.5 } }
        ],
        "audio": { "tracks": [ { "src": "bed.wav", "loop": true, "volume_db": -3,
                                 "fade_in": 1.5, "fade_out": 2.0,
                                 "duck": { "by_db": 10, "attack": 0.4, "release": 0.8 } } ] }
    }));
    let opts = sb.options().with_chunk_s(1.5);
    let plan = reelsmith::pipeline::plan(&comp, &opts).expect("plan");
    let chunks = plan.audio_chunks();
    assert_eq!(chunks.len(), 6, "{chunks:?}");
    // One process: mixed, mastered and encoded chunk after chunk.
    let whole = sb.path("whole.aacpk");
    let loudness = reelsmith::pipeline::render_audio(&plan, &whole, &opts).expect("audio");
    // Many: mastered once, each chunk encoded on its own from the samples.
    let pcm = sb.path("master.f32");
    let mastered = reelsmith::pipeline::render_pcm(&plan, &pcm, &opts).expect("pcm");
    // The same gain; the meters, fed in other pieces, agree to a millionth of a LU.
    assert_eq!(loudness.gain_db, mastered.gain_db);
    let (a, b) = (
        loudness.output_lufs.expect("a"),
        mastered.output_lufs.expect("b"),
    );
    assert!((a - b).abs() < 1e-6, "{loudness:?} {mastered:?}");
    let samples = common::mastered_samples(&pcm);
    let mut parts = Vec::new();
    for (i, c) in chunks.iter().enumerate() {
        let feed = reelsmith::encode::aac::chunk_feed(c, plan.total_samples).feed;
        let part = sb.path(&format!("chunk-{i}.aacpk"));
        let fed = &samples[feed.start as usize * 2..feed.end as usize * 2];
        reelsmith::pipeline::render_audio_chunk(&plan, i, fed, mastered, &part).expect("chunk");
        parts.push(part);
    }
    // Joined, the same MP4 audio stream as the local render's.
    let render = |audio: &[PathBuf], name: &str| {
        let segments: Vec<PathBuf> = plan
            .ranges()
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let seg = sb.path(&format!("{name}-{i}.seg"));
                reelsmith::pipeline::render_range(&plan, r.clone(), &seg, &opts).expect("range");
                seg
            })
            .collect();
        let out = sb.path(&format!("{name}.mp4"));
        reelsmith::pipeline::join(&plan, &segments, audio, &out, &opts).expect("join");
        audio_of(&out)
    };
    let one = render(std::slice::from_ref(&whole), "one");
    assert_eq!(one, render(&parts, "many"), "the same audio");
}

fn audio_of(path: &Path) -> Vec<f32> {
    reelsmith::media::probe::decode_audio(path)
        .expect("decode")
        .samples
}
