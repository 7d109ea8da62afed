//! Thumbnails and the contact sheet (`output.thumbnails`): compared with golden pictures
//! (`tests/golden/thumbnails/`, rewritten by `UPDATE_GOLDEN=1 cargo test --test thumbnails`:
//! look at them before committing), equal to the decoded video's frame at their time,
//! written with the video or not at all, refused with JSON paths when wrong, and served by
//! `reelsmith serve`.

mod common;

use std::path::{Path, PathBuf};

use common::Sandbox;
use reelsmith::spec::SpecError;
use reelsmith::{Error, Progress};
use serde_json::{json, Value};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/thumbnails")
}

fn golden_spec() -> Value {
    let text = std::fs::read_to_string(golden_dir().join("spec.json")).expect("spec.json");
    serde_json::from_str(&text).expect("spec.json parses")
}

/// Compares `actual` with the golden picture `name` (or rewrites it with `UPDATE_GOLDEN=1`):
/// a pixel differs when a channel is more than 12 off; at most 0.4 % may differ.
fn check_golden(name: &str, actual: &image::RgbImage) {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        actual.save(&path).expect("write golden picture");
        return;
    }
    let expected = image::open(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1", path.display()))
        .into_rgb8();
    assert_eq!(expected.dimensions(), actual.dimensions(), "{name}: size");
    let differing = expected
        .pixels()
        .zip(actual.pixels())
        .filter(|(e, a)| (0..3).any(|c| e[c].abs_diff(a[c]) > 12))
        .count();
    let fraction = differing as f64 / expected.pixels().len() as f64;
    if fraction > 0.004 {
        let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/golden-failures");
        std::fs::create_dir_all(&out).expect("failures folder");
        let (w, h) = actual.dimensions();
        let mut strip = image::RgbImage::new(w * 2, h);
        image::imageops::replace(&mut strip, &expected, 0, 0);
        image::imageops::replace(&mut strip, actual, i64::from(w), 0);
        let p = out.join(format!("thumbnails-{name}"));
        strip.save(&p).expect("write failure picture");
        panic!(
            "{name}: {:.3}% of the pixels differ (expected | actual in {})",
            fraction * 100.0,
            p.display()
        );
    }
}

fn open(path: &Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_rgb8()
}

#[test]
fn thumbnails_and_sheet_match_the_golden_pictures() {
    let sb = Sandbox::new();
    let report = sb.render(golden_spec());
    let t = report
        .thumbnails
        .as_ref()
        .expect("thumbnails in the report");
    assert_eq!(t.dir, sb.path("out.thumbs"));
    assert_eq!((t.width, t.height), (160, 90));
    assert_eq!(t.media_type, "image/png");
    let names: Vec<&str> = t.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(names, ["01-intro.png", "02-lifting.png", "03-scene-3.png"]);
    // Scene 1 (frames 0..10): its middle. Scene 2 (10..22, `thumbnail_at` 0.3 s): frame 13.
    // Scene 3 starts at 17 with a 5-frame crossfade and lasts 10: the middle (frame 22) is
    // after the crossfade.
    let frames: Vec<u64> = t.files.iter().map(|f| f.frame).collect();
    assert_eq!(frames, [5, 13, 22]);
    assert_eq!(t.sheet.as_deref(), Some("sheet.png"));
    let mut listed: Vec<String> = std::fs::read_dir(&t.dir)
        .expect("thumbnails folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        [
            "01-intro.png",
            "02-lifting.png",
            "03-scene-3.png",
            "sheet.png"
        ]
    );
    for f in &t.files {
        check_golden(&f.file, &open(&t.dir.join(&f.file)));
    }
    let sheet = open(&t.dir.join("sheet.png"));
    // Two columns of 160 px with 6 px gaps; two rows of 90 px pictures and 26 px labels.
    assert_eq!(sheet.dimensions(), (338, 250));
    check_golden("sheet.png", &sheet);
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

#[test]
fn a_thumbnail_is_the_video_frame_at_its_time() {
    let sb = Sandbox::new();
    let mut spec = golden_spec();
    // Full size, lossless: the picture the encoder was given.
    spec["output"]["thumbnails"] = json!({"width": 320, "format": "png", "sheet": false});
    let report = sb.render(spec);
    let t = report.thumbnails.as_ref().expect("thumbnails");
    assert!(t.sheet.is_none());
    let decoded = common::frames(&sb.path("out.mp4"));
    for f in &t.files {
        let thumb = open(&t.dir.join(&f.file));
        let video = &decoded[f.frame as usize];
        let d = common::mean_abs_diff(&thumb, video);
        assert!(
            d < 2.0,
            "{}: mean difference {d:.2} from frame {}",
            f.file,
            f.frame
        );
        // And clearly not its neighbours' scenes.
        for other in &t.files {
            if other.frame != f.frame {
                let o = common::mean_abs_diff(&thumb, &decoded[other.frame as usize]);
                assert!(
                    o > 10.0,
                    "{} looks like frame {}: {o:.2}",
                    f.file,
                    other.frame
                );
            }
        }
    }
    assert!(!sb.path("out.thumbs/sheet.png").exists());
}

#[test]
fn jpeg_thumbnails_and_default_settings() {
    let sb = Sandbox::new();
    let mut spec = golden_spec();
    spec["output"]["thumbnails"] = json!({});
    spec["scenes"][1]
        .as_object_mut()
        .map(|s| s.remove("thumbnail_at"));
    let report = sb.render(spec);
    let t = report.thumbnails.as_ref().expect("thumbnails");
    // The default width, 480, is more than the video's: its width instead.
    assert_eq!(t.media_type, "image/jpeg");
    assert_eq!(t.sheet.as_deref(), Some("sheet.jpg"));
    let frames: Vec<u64> = t.files.iter().map(|f| f.frame).collect();
    assert_eq!(frames, [5, 16, 22], "the middles, out of the crossfade");
    for f in &t.files {
        assert!(f.file.ends_with(".jpg"));
        let bytes = std::fs::read(t.dir.join(&f.file)).expect("read");
        assert_eq!(&bytes[..3], [0xFF, 0xD8, 0xFF], "a JPEG");
        assert_eq!(open(&t.dir.join(&f.file)).dimensions(), (320, 180));
    }
    let sheet = open(&t.dir.join("sheet.jpg"));
    // Three pictures in one row (4 columns asked, 3 scenes).
    assert_eq!(sheet.width(), 3 * (320 + 13) + 13);
}

fn issues(spec: Value) -> Vec<(String, String)> {
    let sb = Sandbox::new();
    match reelsmith::render(&common::comp(spec), &sb.options()) {
        Err(Error::Spec(SpecError::Invalid(issues))) => {
            issues.into_iter().map(|i| (i.path, i.message)).collect()
        }
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn wrong_settings_are_refused_with_their_paths() {
    let mut spec = golden_spec();
    spec["output"]["thumbnails"] = json!({"at": 1.5, "width": 640, "quality": 0, "columns": 17});
    spec["scenes"][1]["thumbnail_at"] = json!(5.0);
    let got = issues(spec);
    let paths: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "output.thumbnails.at",
            "output.thumbnails.width",
            "output.thumbnails.quality",
            "output.thumbnails.columns",
            "scenes[1].thumbnail_at",
        ],
        "{got:?}"
    );
    assert!(
        got[1].1.contains("640") && got[1].1.contains("16..=320"),
        "{got:?}"
    );
    assert!(got[4].1.contains("outside the scene"), "{got:?}");

    let mut spec = golden_spec();
    spec["output"]
        .as_object_mut()
        .map(|o| o.remove("thumbnails"));
    let got = issues(spec);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "scenes[1].thumbnail_at");
    assert!(got[0].1.contains("without output.thumbnails"), "{got:?}");
}

struct CancelHalfway;
impl Progress for CancelHalfway {
    fn frames(&mut self, done: u64, total: u64) -> bool {
        done < total / 2
    }
}

#[test]
fn a_failed_render_leaves_no_thumbnails_and_keeps_the_old_ones() {
    let sb = Sandbox::new();
    let comp = common::comp(golden_spec());
    // Nothing there before: a cancelled render leaves nothing.
    let err = reelsmith::render_with_progress(&comp, &sb.options(), &mut CancelHalfway)
        .expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert!(!sb.path("out.mp4").exists());
    assert!(!sb.path("out.thumbs").exists());
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());

    // An earlier render's video and thumbnails stay as they were when a new one is cancelled.
    sb.render(golden_spec());
    let before = std::fs::read(sb.path("out.thumbs/sheet.png")).expect("sheet");
    std::fs::write(sb.path("out.thumbs/mine.txt"), b"x").expect("mark");
    let video = std::fs::read(sb.path("out.mp4")).expect("video");
    let err = reelsmith::render_with_progress(&comp, &sb.options(), &mut CancelHalfway)
        .expect_err("cancelled");
    assert!(matches!(err, Error::Cancelled), "{err:?}");
    assert_eq!(std::fs::read(sb.path("out.mp4")).expect("video"), video);
    assert_eq!(
        std::fs::read(sb.path("out.thumbs/sheet.png")).expect("sheet"),
        before
    );
    assert!(sb.path("out.thumbs/mine.txt").exists());
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());

    // A render that succeeds replaces the folder whole.
    sb.render(golden_spec());
    assert!(!sb.path("out.thumbs/mine.txt").exists());
    assert!(sb.path("out.thumbs/sheet.png").exists());
}

#[test]
fn a_render_failing_as_it_commits_leaves_neither_video_nor_thumbnails() {
    // Every picture is written, then the thumbnails cannot be put in place (a file holds
    // their name): the render fails at its last step and nothing of it appears.
    let sb = Sandbox::new();
    std::fs::write(sb.path("out.thumbs"), b"in the way").expect("block");
    let err = reelsmith::render(&common::comp(golden_spec()), &sb.options())
        .expect_err("cannot place the thumbnails");
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("out.thumbs"), "{err}");
    assert!(!sb.path("out.mp4").exists());
    assert_eq!(
        std::fs::read(sb.path("out.thumbs")).expect("kept"),
        b"in the way"
    );
    assert!(sb.leftovers().is_empty(), "{:?}", sb.leftovers());
}

/// GET through `reelsmith serve`: (status, content type, body).
fn http_get(url: &str) -> (u16, String, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into();
    let mut r = agent.get(url).call().expect("HTTP request");
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = r.body_mut().read_to_vec().expect("body");
    (r.status().as_u16(), ct, body)
}

#[test]
fn the_service_serves_the_sheet_and_thumbnails_and_deletes_them() {
    let sb = Sandbox::new();
    let media = sb.path("media");
    std::fs::create_dir_all(&media).expect("media");
    let (mut child, base) = common::spawn_serve(&media, &[]);
    let run = || {
        let mut spec = golden_spec();
        spec["output"]["thumbnails"] = json!({"width": 160, "columns": 3});
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut r = agent
            .post(&format!("{base}/v1/renders"))
            .header("Content-Type", "application/json")
            .send(spec.to_string())
            .expect("submit");
        assert_eq!(r.status().as_u16(), 202);
        let st: Value =
            serde_json::from_slice(&r.body_mut().read_to_vec().expect("body")).expect("JSON");
        let id = st["id"].as_str().expect("id").to_string();
        let t = std::time::Instant::now();
        let st = loop {
            let (_, _, body) = http_get(&format!("{base}/v1/renders/{id}"));
            let st: Value = serde_json::from_slice(&body).expect("JSON");
            if matches!(st["state"].as_str(), Some("done" | "failed" | "canceled")) {
                break st;
            }
            assert!(t.elapsed().as_secs() < 120, "{st}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert_eq!(st["state"], "done", "{st}");
        let links = &st["links"];
        assert_eq!(links["sheet"], format!("/v1/renders/{id}/sheet"));
        assert_eq!(
            links["thumbnails"].as_array().map(Vec::len),
            Some(3),
            "{st}"
        );
        // No server path in the answer: the report names the folder from the storage root.
        let text = st.to_string();
        assert!(
            !text.contains(&media.display().to_string()),
            "a server path in {text}"
        );
        assert_eq!(
            st["report"]["thumbnails"]["dir"],
            format!("videos/{id}.thumbs")
        );

        let (status, ct, body) =
            http_get(&format!("{base}{}", links["sheet"].as_str().unwrap_or("")));
        assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
        let sheet = image::load_from_memory(&body)
            .expect("a picture")
            .into_rgb8();
        assert_eq!(sheet.dimensions(), (3 * (160 + 6) + 6, 90 + 26 + 2 * 6));
        for (i, url) in links["thumbnails"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let (status, ct, body) = http_get(&format!("{base}{}", url.as_str().unwrap_or("")));
            assert_eq!(
                (status, ct.as_str()),
                (200, "image/jpeg"),
                "thumbnail {}",
                i + 1
            );
            let pic = image::load_from_memory(&body)
                .expect("a picture")
                .into_rgb8();
            assert_eq!(pic.dimensions(), (160, 90));
        }
        for bad in ["4", "0", "x", "..%2Fsheet.jpg"] {
            let (status, _, _) = http_get(&format!("{base}/v1/renders/{id}/thumbnails/{bad}"));
            assert_eq!(status, 404, "thumbnails/{bad}");
        }
        assert!(media
            .join(format!("videos/{id}.thumbs/sheet.jpg"))
            .is_file());
        let r = agent
            .delete(&format!("{base}/v1/renders/{id}"))
            .call()
            .expect("delete");
        assert!(r.status().is_success());
        assert!(!media.join(format!("videos/{id}.thumbs")).exists());
        let (status, _, _) = http_get(&format!("{base}/v1/renders/{id}/sheet"));
        assert_eq!(status, 404);
    };
    let outcome = std::panic::catch_unwind(run);
    let _ = child.kill();
    let _ = child.wait();
    if let Err(e) = outcome {
        std::panic::resume_unwind(e);
    }
}
