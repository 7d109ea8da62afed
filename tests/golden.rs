//! Golden frames: each folder under `tests/golden/` holds a `spec.json`, a `case.json`
//! (`{"frames": [N, ...], "tolerance": 12, "budget": 0.004}`) and the expected frames
//! `frame-N.png`. The test renders the spec to an MP4, decodes it and compares each listed
//! frame: a pixel differs when any channel is more than `tolerance` off; at most `budget`
//! (a fraction) of the pixels may differ. On failure it writes `expected | diff | actual` to
//! `target/golden-failures/<case>-frame-N.png`.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the expected frames from the current
//! output; look at every one of them before committing.

mod common;

use std::path::{Path, PathBuf};

use common::{frames, Sandbox};

#[derive(serde::Deserialize)]
struct Case {
    frames: Vec<u64>,
    #[serde(default = "default_tolerance")]
    tolerance: u8,
    #[serde(default = "default_budget")]
    budget: f64,
}

fn default_tolerance() -> u8 {
    12
}
fn default_budget() -> f64 {
    0.004
}

fn golden_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Renders `name` and compares (or, with `UPDATE_GOLDEN=1`, rewrites) its frames.
fn check(name: &str) {
    let dir = golden_root().join(name);
    let case: Case =
        serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).expect("case.json"))
            .expect("case.json parses");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("spec.json")).expect("spec.json"))
            .expect("spec.json parses");
    let sb = Sandbox::new();
    let mut opts = sb.options();
    opts.base_dir = golden_root().join("assets");
    let comp = common::comp(spec);
    reelsmith::render(&comp, &opts).unwrap_or_else(|e| panic!("{name}: render failed: {e}"));
    let decoded = frames(&sb.path("out.mp4"));
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let mut failures = Vec::new();
    for &n in &case.frames {
        let actual = decoded
            .get(n as usize)
            .unwrap_or_else(|| panic!("{name}: frame {n} of {}", decoded.len()));
        let path = dir.join(format!("frame-{n}.png"));
        if update {
            actual.save(&path).expect("write golden frame");
            continue;
        }
        let expected = image::open(&path)
            .unwrap_or_else(|e| {
                panic!(
                    "{name}: {} is missing ({e}); run with UPDATE_GOLDEN=1 and review it",
                    path.display()
                )
            })
            .into_rgb8();
        assert_eq!(
            expected.dimensions(),
            actual.dimensions(),
            "{name}: frame {n} size"
        );
        let (w, h) = actual.dimensions();
        let mut diff = image::RgbImage::new(w, h);
        let mut differing = 0u64;
        for (x, y, e) in expected.enumerate_pixels() {
            let a = actual.get_pixel(x, y);
            let d = (0..3)
                .map(|c| (i16::from(e[c]) - i16::from(a[c])).unsigned_abs())
                .max()
                .unwrap_or(0);
            if d > u16::from(case.tolerance) {
                differing += 1;
                diff.put_pixel(x, y, image::Rgb([255, 0, 255]));
            } else {
                let g = (d * 8).min(255) as u8;
                diff.put_pixel(x, y, image::Rgb([g, g, g]));
            }
        }
        let fraction = differing as f64 / f64::from(w * h);
        if fraction > case.budget {
            let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/golden-failures");
            std::fs::create_dir_all(&out).expect("failures folder");
            let mut strip = image::RgbImage::new(w * 3, h);
            image::imageops::replace(&mut strip, &expected, 0, 0);
            image::imageops::replace(&mut strip, &diff, i64::from(w), 0);
            image::imageops::replace(&mut strip, actual, 2 * i64::from(w), 0);
            let p = out.join(format!("{name}-frame-{n}.png"));
            strip.save(&p).expect("write failure image");
            failures.push(format!(
                "frame {n}: {differing} pixels ({:.3}%) differ by more than {} (budget {:.3}%); see {}",
                fraction * 100.0,
                case.tolerance,
                case.budget * 100.0,
                p.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{name}:\n{}", failures.join("\n"));
}

macro_rules! golden {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                check(stringify!($case));
            }
        )*
    };
}

golden!(
    scripts,
    wrapping_and_fit,
    text_box_styles,
    animations,
    bullets,
    slide_blocks,
    transitions,
    ken_burns,
);

/// Every case folder has a test (a new folder without one would silently never run).
#[test]
fn every_case_folder_is_tested() {
    let known = [
        "scripts",
        "wrapping_and_fit",
        "text_box_styles",
        "animations",
        "bullets",
        "slide_blocks",
        "transitions",
        "ken_burns",
        // Thumbnails and contact sheet pictures, compared by tests/thumbnails.rs.
        "thumbnails",
    ];
    for e in std::fs::read_dir(golden_root()).expect("tests/golden") {
        let e = e.expect("entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() && name != "assets" {
            assert!(
                known.contains(&name.as_str()),
                "no test for golden case {name}"
            );
        }
    }
}

/// The same spec renders to the same pixels every time (text, boxes, shadows, animation).
#[test]
fn renders_are_pixel_identical_run_to_run() {
    let dir = golden_root().join("animations");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("spec.json")).expect("spec.json"))
            .expect("parses");
    let comp = common::comp(spec);
    let render = || {
        let sb = Sandbox::new();
        reelsmith::render(&comp, &sb.options()).expect("renders");
        frames(&sb.path("out.mp4"))
    };
    let (a, b) = (render(), render());
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(x == y, "frame {i} differs between two renders");
    }
}
