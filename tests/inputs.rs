//! Untrusted media inputs: libav opens them confined (no playlist or concat list reaches
//! another file), broken files fail validation with their spec path and what is wrong, and a
//! full, read-only or misplaced folder is reported as the machine's problem (exit 5), naming
//! the folder, never as a problem of the assets.
//!
//! The environment tests mount small tmpfs file systems. Where the tests run as root (CI,
//! this sandbox) a failed mount fails the test; elsewhere those tests say they were not run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Sandbox;
use ffmpeg_next as ff;
use reelsmith::error::AssetError;
use reelsmith::{Error, SpecError, SpecIssue};
use serde_json::json;

fn stock(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("media/stock")
        .join(rel)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_reelsmith"))
}

/// Validates `spec` against the sandbox (relative paths resolve in it).
fn validate(sb: &Sandbox, spec: serde_json::Value) -> Result<(), Error> {
    reelsmith::validate(&common::comp(spec), &sb.options()).map(|_| ())
}

/// The problems of a failed validation: spec problems (exit 3) or asset problems (exit 4).
fn issues(e: &Error) -> Vec<SpecIssue> {
    match e {
        Error::Spec(SpecError::Invalid(v)) | Error::Asset(AssetError::Load(v)) => v.clone(),
        other => panic!("expected spec or asset problems, got {other:?}: {other}"),
    }
}

/// The one problem of a failed validation, which must be at `path`.
fn problem_at(result: Result<(), Error>, path: &str) -> String {
    let e = result.expect_err("validation should fail");
    let all = issues(&e);
    let hit = all
        .iter()
        .find(|i| i.path == path)
        .unwrap_or_else(|| panic!("no problem at {path}: {e}"));
    hit.message.clone()
}

fn scene_with_background(bg: serde_json::Value) -> serde_json::Value {
    json!({
        "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast" },
        "scenes": [{ "duration": 1, "background": bg }]
    })
}

fn scene_with_narration(src: &str) -> serde_json::Value {
    json!({
        "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast" },
        "scenes": [{ "duration": 1, "narration": { "src": src } }]
    })
}

fn cut(from: &Path, to: &Path, keep: usize) -> PathBuf {
    let bytes = std::fs::read(from).expect("read");
    std::fs::write(to, &bytes[..keep.min(bytes.len())]).expect("write");
    to.to_path_buf()
}

// ---------------------------------------------------------------------------------------
// 1. libav opens inputs confined.

/// A real HLS playlist and a real concat list, each naming a real media file beside them.
fn lists(sb: &Sandbox) -> (PathBuf, PathBuf) {
    sb.tone_wav("tone.wav", 22_050, 1.0, 440.0, 0.5);
    std::fs::copy(stock("video/warehouse-walk.mp4"), sb.path("clip.mp4")).expect("copy");
    let m3u8 = sb.path("list.m3u8");
    std::fs::write(
        &m3u8,
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:8\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXTINF:8.0,\nclip.mp4\n#EXT-X-ENDLIST\n",
    )
    .expect("write");
    let concat = sb.path("list.ffconcat");
    std::fs::write(
        &concat,
        "ffconcat version 1.0\nfile 'clip.mp4'\nfile 'tone.wav'\n",
    )
    .expect("write");
    (m3u8, concat)
}

#[test]
fn unconfined_libav_would_follow_a_concat_list() {
    // The control: what the whitelist stops. Plain `format::input` reads the files the list
    // names (here the clip's video through the concat demuxer).
    let sb = Sandbox::new();
    let (_, concat) = lists(&sb);
    ff::init().expect("libav");
    let ictx = ff::format::input(&concat).expect("libav opens a concat list unconfined");
    assert_eq!(ictx.format().name(), "concat");
    assert!(ictx.streams().best(ff::media::Type::Video).is_some());
    // Confined, the same file is refused.
    match reelsmith::media::probe::open_input(&concat, None) {
        Ok(_) => panic!("the confined open read a concat list"),
        Err(e) => assert!(reelsmith::media::probe::is_refused(&e), "{e}"),
    }
}

#[test]
fn playlists_and_concat_lists_are_refused_as_narration_and_as_clip() {
    let sb = Sandbox::new();
    let (m3u8, concat) = lists(&sb);
    for list in [&m3u8, &concat] {
        let name = list.file_name().and_then(|n| n.to_str()).expect("name");
        let m = problem_at(
            validate(&sb, scene_with_narration(name)),
            "scenes[0].narration.src",
        );
        assert!(m.contains("refused") && m.contains(name), "{m}");
        let m = problem_at(
            validate(
                &sb,
                scene_with_background(json!({ "type": "video", "src": name })),
            ),
            "scenes[0].background.src",
        );
        assert!(m.contains("refused") && m.contains(name), "{m}");
        let m = problem_at(
            validate(
                &sb,
                json!({
                    "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast" },
                    "scenes": [{ "duration": 1,
                                 "layers": [{ "type": "video", "src": name, "width": 160 }] }]
                }),
            ),
            "scenes[0].layers[0].src",
        );
        assert!(m.contains("refused"), "{m}");
        // Every reader refuses it: probing, decoding.
        assert!(matches!(
            reelsmith::media::probe::probe(list),
            Err(reelsmith::error::ProbeError::Refused { .. })
        ));
        assert!(reelsmith::media::clip::clip_info(list).is_err());
    }
    // The files the lists name are fine on their own.
    validate(&sb, scene_with_narration("tone.wav")).unwrap_or_else(|e| panic!("{e}"));
    validate(
        &sb,
        scene_with_background(json!({ "type": "video", "src": "clip.mp4" })),
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_container_of_the_audio_fixtures_still_opens_and_decodes_whole() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio");
    let mut seen = 0;
    for e in std::fs::read_dir(&dir).expect("fixtures").flatten() {
        let p = e.path();
        let a = reelsmith::media::probe::decode_audio(&p).unwrap_or_else(|e| panic!("{e}"));
        let secs = a.samples.len() as f64 / f64::from(a.channels) / f64::from(a.rate);
        assert!(secs > 0.5, "{}: {secs} s", p.display());
        seen += 1;
    }
    assert!(seen >= 8, "{seen} fixtures");
    for name in ["music-bed.wav", "narration-01.wav"] {
        reelsmith::media::probe::decode_audio(&stock(&format!("audio/{name}")))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let info = reelsmith::media::clip::clip_info(&stock("video/warehouse-walk.mp4"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!((info.duration_s - 8.0).abs() < 0.1, "{info:?}");
}

// ---------------------------------------------------------------------------------------
// 2. Broken inputs are errors, not pictures.

#[test]
fn a_jpeg_cut_short_fails_validation_instead_of_rendering_grey_rows() {
    let sb = Sandbox::new();
    let whole = stock("images/hills-dawn.jpg");
    cut(&whole, &sb.path("cut.jpg"), 5_000);
    // One byte short is already a cut: the end-of-image marker is missing.
    let len = std::fs::metadata(&whole).expect("stat").len() as usize;
    cut(&whole, &sb.path("minus-one.jpg"), len - 1);
    std::fs::copy(&whole, sb.path("whole.jpg")).expect("copy");
    validate(
        &sb,
        scene_with_background(json!({ "type": "image", "src": "whole.jpg" })),
    )
    .unwrap_or_else(|e| panic!("the whole photo: {e}"));
    for name in ["cut.jpg", "minus-one.jpg"] {
        let m = problem_at(
            validate(
                &sb,
                scene_with_background(json!({ "type": "image", "src": name })),
            ),
            "scenes[0].background.src",
        );
        assert!(
            m.contains(name) && m.contains("JPEG data ends before the image does"),
            "{m}"
        );
    }
}

#[test]
fn a_jpeg_cut_short_makes_the_cli_exit_4_naming_the_spec_path() {
    let sb = Sandbox::new();
    cut(
        &stock("images/skyline-dusk.jpg"),
        &sb.path("cut.jpg"),
        5_000,
    );
    let spec = sb.path("spec.json");
    std::fs::write(
        &spec,
        scene_with_background(json!({ "type": "image", "src": "cut.jpg" })).to_string(),
    )
    .expect("write");
    let out = bin()
        .current_dir(sb.dir.path())
        .arg("validate")
        .arg(&spec)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("scenes[0].background.src") && err.contains("truncated"),
        "{err}"
    );
}

#[test]
fn a_png_cut_short_fails_validation_naming_the_layer() {
    let sb = Sandbox::new();
    let logo = stock("images/logo.png");
    let len = std::fs::metadata(&logo).expect("stat").len() as usize;
    cut(&logo, &sb.path("cut.png"), len / 2);
    let m = problem_at(
        validate(
            &sb,
            json!({
                "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast" },
                "scenes": [{ "duration": 1, "layers": [{ "type": "image", "src": "cut.png" }] }]
            }),
        ),
        "scenes[0].layers[0].src",
    );
    assert!(m.contains("PNG data ends before the image does"), "{m}");
}

#[test]
fn a_wav_whose_header_promises_more_than_it_holds_fails_with_both_lengths() {
    let sb = Sandbox::new();
    let whole = sb.tone_wav("whole.wav", 22_050, 3.0, 440.0, 0.5);
    // 1 s of samples: on a sample boundary (the demuxer sees a clean end) and between two.
    cut(&whole, &sb.path("cut.wav"), 44 + 22_050 * 2);
    cut(&whole, &sb.path("cut-odd.wav"), 44 + 22_050 * 2 + 1);
    validate(&sb, scene_with_narration("whole.wav")).unwrap_or_else(|e| panic!("{e}"));
    for name in ["cut.wav", "cut-odd.wav"] {
        let m = problem_at(
            validate(&sb, scene_with_narration(name)),
            "scenes[0].narration.src",
        );
        assert!(
            m.contains(name)
                && m.contains("truncated: the header promises 3.00 s, the file holds 1.00 s"),
            "{m}"
        );
    }
    // The stock narration cut to a quarter, as a music track.
    let n = stock("audio/narration-01.wav");
    let len = std::fs::metadata(&n).expect("stat").len() as usize;
    cut(&n, &sb.path("quarter.wav"), len / 4);
    let m = problem_at(
        validate(
            &sb,
            json!({
                "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast" },
                "scenes": [{ "duration": 1 }],
                "audio": { "tracks": [{ "src": "quarter.wav" }] }
            }),
        ),
        "audio.tracks[0].src",
    );
    assert!(m.contains("the header promises 10.56 s"), "{m}");
}

#[test]
fn flac_and_other_wavs_cut_short_are_truncated_too() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio");
    let sb = Sandbox::new();
    // This M4A keeps its index at the end: cut, it has none and cannot be opened at all.
    let m4a = dir.join("tone.m4a");
    let len = std::fs::metadata(&m4a).expect("stat").len() as usize;
    let p = cut(&m4a, &sb.path("cut-tone.m4a"), len * 6 / 10);
    let e = reelsmith::media::probe::decode_audio(&p).expect_err("cut m4a");
    assert!(e.to_string().contains("cut-tone.m4a"), "{e}");
    for name in ["tone.flac", "tone-s24.wav", "tone-51.wav"] {
        let whole = dir.join(name);
        let len = std::fs::metadata(&whole).expect("stat").len() as usize;
        let p = cut(&whole, &sb.path(&format!("cut-{name}")), len * 6 / 10);
        let e = reelsmith::media::probe::decode_audio(&p).expect_err(name);
        let m = e.to_string();
        assert!(
            matches!(e, reelsmith::error::ProbeError::Truncated { .. }),
            "{name}: {m}"
        );
        assert!(m.contains("truncated: the header promises"), "{m}");
    }
}

#[test]
fn an_mp4_clip_cut_short_fails_validation_as_background_and_as_layer() {
    let sb = Sandbox::new();
    let whole = stock("video/warehouse-walk.mp4");
    let len = std::fs::metadata(&whole).expect("stat").len() as usize;
    cut(&whole, &sb.path("half.mp4"), len / 2);
    cut(&whole, &sb.path("nearly.mp4"), len - 3_000);
    for name in ["half.mp4", "nearly.mp4"] {
        let m = problem_at(
            validate(
                &sb,
                scene_with_background(json!({ "type": "video", "src": name })),
            ),
            "scenes[0].background.src",
        );
        assert!(
            m.contains(name) && m.contains("truncated: the container promises 8.00 s"),
            "{m}"
        );
    }
    let m = problem_at(
        validate(
            &sb,
            json!({
                "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast" },
                "scenes": [{ "duration": 1,
                             "layers": [{ "type": "video", "src": "half.mp4", "width": 160 }] }]
            }),
        ),
        "scenes[0].layers[0].src",
    );
    assert!(m.contains("truncated"), "{m}");
}

// ---------------------------------------------------------------------------------------
// 3. Environment errors named as such.

/// Whether this process runs as root (then mounting must work).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// A tmpfs mounted for one test at `<a temporary folder>/media` (so that `reelsmith validate`
/// run in that folder uses it as its media root), unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs with `options` (e.g. `size=64k`, `ro`). `None` when not root (the test
    /// then cannot run); as root a failed mount fails the test.
    fn mount(options: &str) -> Option<Tmpfs> {
        if !is_root() {
            eprintln!("not root: tmpfs tests not run (ENOTDIR is still tested)");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("media");
        std::fs::create_dir(&path).expect("mkdir");
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(&path)
            .status()
            .expect("run mount");
        assert!(
            st.success(),
            "running as root but `mount -t tmpfs -o {options}` failed: the environment tests \
             need it"
        );
        Some(Tmpfs { dir, path })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Runs the CLI in `cwd` (`validate` takes `media/` there as its media root); returns (exit
/// code, stderr).
fn run_cli(cwd: &Path, args: &[&std::ffi::OsStr], envs: &[(&str, &Path)]) -> (Option<i32>, String) {
    let mut c = bin();
    c.current_dir(cwd).args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = c.output().expect("run reelsmith");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Six stock narrations of several seconds each (decoded audio: 384 KB per second).
fn six_narrations(dir: &Path) -> PathBuf {
    let scenes: Vec<serde_json::Value> = (1..=6)
        .map(|i| {
            json!({ "duration": "auto", "narration": {
                "src": stock(&format!("audio/narration-{i:02}.wav")).to_str().expect("utf-8")
            } })
        })
        .collect();
    let spec = dir.join("six.json");
    std::fs::write(
        &spec,
        json!({
            "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast" },
            "scenes": scenes
        })
        .to_string(),
    )
    .expect("write");
    spec
}

fn assert_environment(code: Option<i32>, err: &str, folder: &Path, cause: &str) {
    assert_eq!(code, Some(5), "{err}");
    assert!(
        err.contains(&folder.display().to_string()),
        "does not name {}: {err}",
        folder.display()
    );
    assert!(err.contains(cause), "does not say {cause:?}: {err}");
    assert!(
        !err.contains("narration.src") && !err.contains("failed to load"),
        "blames the assets: {err}"
    );
}

#[test]
fn a_full_temp_folder_while_decoding_narration_exits_5_naming_it() {
    let Some(full) = Tmpfs::mount("size=64k") else {
        return;
    };
    let sb = Sandbox::new();
    let spec = six_narrations(sb.dir.path());
    // `validate` decodes into the system's temporary folder.
    let (code, err) = run_cli(
        sb.dir.path(),
        &["validate".as_ref(), spec.as_os_str()],
        &[("TMPDIR", &full.path)],
    );
    assert_environment(code, &err, &full.path, "the file system is full");
    // The same spec validates with room to decode.
    let (code, err) = run_cli(sb.dir.path(), &["validate".as_ref(), spec.as_os_str()], &[]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_full_media_root_while_rendering_exits_5_naming_the_temp_folder() {
    let Some(full) = Tmpfs::mount("size=96k") else {
        return;
    };
    let sb = Sandbox::new();
    let spec = six_narrations(sb.dir.path());
    let out = sb.path("out.mp4");
    let (code, err) = run_cli(
        sb.dir.path(),
        &[
            "render".as_ref(),
            spec.as_os_str(),
            "--media-root".as_ref(),
            full.path.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
        ],
        &[],
    );
    assert_environment(
        code,
        &err,
        &full.path.join("assets/temp"),
        "the file system is full",
    );
    assert!(!out.exists());
    // Nothing is left on the full file system but empty folders.
    let mut left = Vec::new();
    let mut stack = vec![full.path.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("list").flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                left.push(e.path());
            }
        }
    }
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_read_only_or_full_output_folder_exits_5_naming_it() {
    let sb = Sandbox::new();
    let spec = sb.path("spec.json");
    std::fs::write(
        &spec,
        json!({
            "output": { "width": 320, "height": 180, "fps": 25, "quality": "fast" },
            "scenes": [{ "duration": 2, "background": { "type": "linear_gradient",
                         "angle": 135, "colors": ["#0F2027", "#2C5364"] },
                         "layers": [{ "type": "text", "text": "Hello", "size": 40 }] }],
            "audio": { "tracks": [{ "src": stock("audio/music-bed.wav") }] }
        })
        .to_string(),
    )
    .expect("write");
    for (options, cause) in [
        ("ro,size=64k", "Read-only file system"),
        ("size=8k", "No space left on device"),
    ] {
        let Some(fs) = Tmpfs::mount(options) else {
            return;
        };
        let out = fs.path.join("out.mp4");
        let (code, err) = run_cli(
            sb.dir.path(),
            &[
                "render".as_ref(),
                spec.as_os_str(),
                "--media-root".as_ref(),
                sb.path("media").as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ],
            &[],
        );
        assert_environment(code, &err, &fs.path, cause);
        assert!(err.contains("output folder"), "{err}");
        let left: Vec<_> = std::fs::read_dir(&fs.path)
            .expect("list")
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
}

#[test]
fn a_read_only_or_full_speech_cache_exits_5_naming_it() {
    let text = "Lift with your legs, not your back. Keep the load close to your body, and \
                turn with your feet instead of twisting at the waist.";
    let spec_in = |dir: &Path| {
        let spec = dir.join("speech.json");
        std::fs::write(
            &spec,
            json!({
                "output": { "width": 64, "height": 64, "fps": 10, "quality": "fast" },
                "scenes": [{ "duration": "auto", "narration": { "text": text } }]
            })
            .to_string(),
        )
        .expect("write");
        spec
    };
    let sb = Sandbox::new();
    let spec = spec_in(sb.dir.path());
    for (options, cause) in [
        ("ro,size=64k", "the file system is read-only"),
        ("size=16k", "the file system is full"),
    ] {
        let Some(root) = Tmpfs::mount(options) else {
            return;
        };
        let (code, err) = run_cli(
            root.dir.path(),
            &["validate".as_ref(), spec.as_os_str()],
            &[],
        );
        // The folder as the media root was given (`media`, in the folder the CLI ran in).
        assert_environment(code, &err, Path::new("media/assets/audio/tts"), cause);
        assert!(err.contains("speech cache"), "{err}");
    }
}

#[test]
fn a_file_where_the_media_root_should_be_exits_5_naming_it() {
    // ENOTDIR needs no mount: runs everywhere.
    let sb = Sandbox::new();
    let spec = six_narrations(sb.dir.path());
    let not_a_folder = sb.path("media-file");
    std::fs::write(&not_a_folder, b"not a folder").expect("write");
    let (code, err) = run_cli(
        sb.dir.path(),
        &["validate".as_ref(), spec.as_os_str()],
        &[("TMPDIR", &not_a_folder)],
    );
    assert_environment(code, &err, &not_a_folder, "not a folder");
}
