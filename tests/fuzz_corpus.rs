//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`: seeds from the examples and
//! fixtures, and every input a fuzzing run found to crash, minimised) through the same
//! `reelsmith::fuzzing` functions the `cargo fuzz` targets call, as ordinary tests: no input
//! may panic (on any thread, the clip decoder's included) and the harness itself must never
//! fail. Seeds named `ok-*` are valid files and must be accepted.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

use reelsmith::fuzzing::{self, Outcome, Refusal};

/// Panics outside this file's own assertions, on any thread of this test binary (the clip
/// decoder's included): (thread, message).
static PANICS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

fn record_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info
                .location()
                .is_some_and(|l| l.file().ends_with("fuzz_corpus.rs"))
            {
                default(info);
                return;
            }
            let thread = std::thread::current().name().unwrap_or("?").to_string();
            PANICS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((thread, info.to_string()));
            default(info);
        }));
    });
}

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")).path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every corpus file of `target` through `run`; returns the outcomes by file name.
fn replay(target: &str, run: fn(&[u8]) -> Outcome) -> Vec<(String, Outcome)> {
    record_panics();
    let files = corpus(target);
    assert!(
        files.len() >= 4,
        "{target}: {} corpus files, expected the seeds",
        files.len()
    );
    let mut outcomes = Vec::new();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let out = std::panic::catch_unwind(|| run(&bytes))
            .unwrap_or_else(|_| panic!("{target}/{name} panicked"));
        if let Err(Refusal::Harness(e)) = &out {
            panic!("{target}/{name}: the harness failed: {e}");
        }
        if name.starts_with("ok-") {
            assert!(out.is_ok(), "{target}/{name} was refused: {out:?}");
        }
        if let Err(e) = &out {
            assert!(
                !e.to_string().trim().is_empty(),
                "{target}/{name}: empty error"
            );
        }
        outcomes.push((name, out));
    }
    let panics = PANICS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert!(panics.is_empty(), "panics while replaying: {panics:?}");
    outcomes
}

fn outcome<'a>(outcomes: &'a [(String, Outcome)], name: &str) -> &'a Outcome {
    &outcomes
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no corpus file {name}"))
        .1
}

#[test]
fn spec_corpus_plans_or_is_refused_with_a_spec_path() {
    let outcomes = replay("spec", fuzzing::spec);
    let tiny = outcome(&outcomes, "ok-tiny.json")
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        tiny.starts_with("2 scenes, 81 frames, 54 spans, 2 segments"),
        "{tiny}"
    );
    // The examples name pictures and sounds the harness's empty folder does not hold: the
    // resolver says so, by spec path.
    match outcome(&outcomes, "hello.json") {
        Err(Refusal::Input { stage, message }) => {
            assert_eq!(*stage, "plan");
            assert!(message.contains("scenes[0].layers[0].src"), "{message}");
        }
        other => panic!("hello.json: {other:?}"),
    }
}

#[test]
fn image_corpus_decodes_or_is_refused() {
    let outcomes = replay("image", fuzzing::image);
    let logo = outcome(&outcomes, "ok-logo-alpha.png")
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(logo, "48x48 picture");
}

#[test]
fn audio_corpus_decodes_or_is_refused() {
    let outcomes = replay("audio", fuzzing::audio);
    for (name, out) in &outcomes {
        let Ok(what) = out else { continue };
        // "{seconds} s, {n} levels, {frames} frames at 48 kHz": the planner's length and the
        // mixer's agree, and there is a level every 10 ms.
        let nums: Vec<f64> = what
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter_map(|w| w.parse().ok())
            .collect();
        let [seconds, levels, frames, ..] = nums[..] else {
            panic!("{name}: {what}");
        };
        assert!((seconds - frames / 48_000.0).abs() < 0.01, "{name}: {what}");
        assert!((seconds * 100.0 - levels).abs() <= 1.0, "{name}: {what}");
    }
}

#[test]
fn clip_corpus_decodes_or_is_refused() {
    let outcomes = replay("clip", fuzzing::clip);
    let clip = outcome(&outcomes, "ok-h264-aac.mp4")
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(clip.starts_with("64x36 h264 clip, 4 frames"), "{clip}");
    assert!(!clip.ends_with(" 0 samples"), "{clip}");
}

#[test]
fn mp4_corpus_reads_back_or_is_refused() {
    let outcomes = replay("mp4", fuzzing::mp4);
    let seg = outcome(&outcomes, "ok-scene-fast-a.seg")
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(seg.contains("entry: accepted as is, 45 packets"), "{seg}");
    // One payload byte changed: refused as it is; with the digest made right, every packet is
    // read back and spliced.
    let damaged = outcome(&outcomes, "damaged-payload.seg")
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(damaged.contains("entry: accepted resealed, "), "{damaged}");
    let mp4 = outcome(&outcomes, "ok-render.mp4")
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(mp4.starts_with("probe: 2 streams"), "{mp4}");
}
