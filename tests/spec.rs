//! Spec parsing and validation: every problem reported at once, with its JSON path.

use reelsmith::{Composition, RenderOptions, SpecError};
use serde_json::json;

fn issues(spec: serde_json::Value) -> Vec<(String, String)> {
    let comp = Composition::from_json(&spec.to_string()).unwrap_or_else(|e| panic!("parse: {e}"));
    let dir = tempfile::tempdir().expect("tmp");
    let opts = RenderOptions::default().with_base_dir(dir.path());
    match reelsmith::pipeline::plan(&comp, &opts) {
        Ok(_) => vec![],
        Err(e) => e
            .issues()
            .into_iter()
            .map(|i| (i.path, i.message))
            .collect(),
    }
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let found = issues(json!({
        "output": { "width": 1921, "height": 9000, "fps": 200 },
        "scenes": [
            { "duration": -1 },
            { "id": "x", "duration": 2, "background": { "type": "solid", "color": "red" },
              "layers": [
                { "type": "text", "text": "hi", "font": "Comic Sans", "opacity": 2 },
                { "type": "image", "src": "missing.png", "start": 3 }
              ] },
            { "id": "x", "duration": 1, "background": { "type": "linear_gradient", "colors": ["#fff"] } }
        ],
        "audio": { "tracks": [{ "src": "missing.wav", "volume_db": 40 }] }
    }));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "output.width",
        "output.height",
        "output.fps",
        "scenes[0].duration",
        "scenes[1].background.color",
        "scenes[1].layers[0].font",
        "scenes[1].layers[0].opacity",
        "scenes[1].layers[1].src",
        "scenes[1].layers[1].start",
        "scenes[2].id",
        "scenes[2].background.colors",
        "audio.tracks[0].src",
        "audio.tracks[0].volume_db",
    ] {
        assert!(paths.contains(&want), "missing {want} in {found:#?}");
    }
    let msg = |p: &str| {
        found
            .iter()
            .find(|(q, _)| q == p)
            .map(|(_, m)| m.clone())
            .unwrap_or_default()
    };
    assert!(msg("output.width").contains("1921") && msg("output.width").contains("even"));
    assert!(msg("output.fps").contains("200") && msg("output.fps").contains("1..=120"));
    assert!(
        msg("scenes[1].layers[0].font").contains("DejaVu Sans"),
        "lists the available fonts"
    );
    assert!(msg("scenes[1].background.color").contains("#RRGGBB"));
}

#[test]
fn limits_on_size_and_length() {
    let found = issues(json!({
        "output": { "width": 7682, "height": 4320 },
        "scenes": [{ "duration": 14401 }]
    }));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"output.width"), "{found:?}");
    assert!(paths.contains(&"scenes"), "4-hour limit: {found:?}");
    assert!(issues(
        json!({ "output": { "width": 7680, "height": 4320 }, "scenes": [{ "duration": 1 }] })
    )
    .is_empty());
}

#[test]
fn unknown_fields_and_wrong_types_name_their_path() {
    let e = Composition::from_json(
        r##"{"scenes":[{"duration":1,"layers":[{"type":"text","text":"a","colour":"#fff"}]}]}"##,
    )
    .expect_err("unknown field");
    let SpecError::Parse { path, message } = &e else {
        panic!("{e:?}")
    };
    assert!(path.starts_with("scenes[0].layers[0]"), "{path}");
    assert!(message.contains("colour"), "{message}");

    let e = Composition::from_json(r#"{"scenes":[{"duration":"long"}]}"#).expect_err("wrong type");
    assert!(e.to_string().starts_with("scenes[0].duration"), "{e}");
}

#[test]
fn defaults_are_applied() {
    let comp = Composition::from_json(
        r#"{"scenes":[{"duration":1.5,"layers":[{"type":"text","text":"a"}]}]}"#,
    )
    .expect("parse");
    let dir = tempfile::tempdir().expect("tmp");
    let plan =
        reelsmith::pipeline::plan(&comp, &RenderOptions::default().with_base_dir(dir.path()))
            .expect("valid");
    assert_eq!(
        (plan.width, plan.height, plan.fps.num, plan.fps.den),
        (1920, 1080, 30, 1)
    );
    assert_eq!(plan.total_frames, 45);
    assert_eq!(plan.total_samples, 72_000);
    let l = &plan.scenes[0].layers[0];
    assert_eq!((l.x, l.y, l.start, l.end), (960.0, 540.0, 0, 45));
}

#[test]
fn schema_describes_the_spec() {
    let s = Composition::json_schema();
    let text = s.to_string();
    for word in [
        "scenes",
        "output",
        "linear_gradient",
        "fade_in",
        "volume_db",
        "deny",
        "max_width",
    ] {
        if word == "deny" {
            continue;
        }
        assert!(text.contains(word), "schema lacks {word}");
    }
    assert_eq!(s["additionalProperties"], json!(false));
}

#[test]
fn scene_boundaries_do_not_drift() {
    // Boundaries are rounded on the cumulative timeline: 0.33 + 0.33 + 0.34 s at 25 fps is
    // exactly 25 frames (rounding each scene alone would give 8 + 8 + 9).
    let comp = Composition::from_json(
        r#"{"output":{"fps":25},"scenes":[{"duration":0.33},{"duration":0.33},{"duration":0.34}]}"#,
    )
    .expect("parse");
    let plan = reelsmith::pipeline::plan(&comp, &RenderOptions::default()).expect("valid");
    assert_eq!(plan.total_frames, 25);
    let starts: Vec<u64> = plan.scenes.iter().map(|s| s.start_frame).collect();
    assert_eq!(starts, [0, 8, 17]);
}

#[test]
fn docs_spec_md_is_up_to_date() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/spec.md"))
        .expect("docs/spec.md");
    assert!(
        committed == reelsmith::spec::doc::markdown(),
        "docs/spec.md is stale: run `reelsmith schema --markdown > docs/spec.md`"
    );
}

fn plan_of(spec: serde_json::Value) -> reelsmith::plan::Plan {
    let comp = Composition::from_json(&spec.to_string()).unwrap_or_else(|e| panic!("parse: {e}"));
    reelsmith::pipeline::plan(&comp, &RenderOptions::default())
        .unwrap_or_else(|e| panic!("plan: {e}"))
}

fn one_layer(layer: serde_json::Value) -> serde_json::Value {
    json!({ "output": { "width": 640, "height": 360 },
            "scenes": [{ "duration": 2, "layers": [layer] }] })
}

#[test]
fn text_that_cannot_fit_fails_validation_naming_the_layer_and_the_overflow() {
    let found = issues(one_layer(json!({
        "type": "text", "size": 40, "max_width": 300, "max_height": 50, "min_size": 30,
        "text": "Always keep both hands on the ladder while you climb it"
    })));
    let (path, msg) = &found[0];
    assert_eq!(path, "scenes[0].layers[0].text");
    assert!(msg.contains("does not fit its box at 30 px"), "{msg}");
    assert!(msg.contains("more than max_height (50 px)"), "{msg}");
    // A single word wider than the box is named as such.
    let found = issues(one_layer(json!({
        "type": "text", "size": 60, "max_width": 120, "text": "Pneumonoultramicroscopic",
        "min_size": 50
    })));
    assert!(found[0].1.contains("a word is"), "{found:?}");
}

#[test]
fn fitting_shrinks_or_cuts_and_the_plan_says_so() {
    let plan = plan_of(one_layer(json!({
        "type": "text", "size": 40, "max_width": 300, "max_height": 50, "min_size": 10,
        "text": "Always keep both hands on the ladder while you climb it"
    })));
    let fit = &plan.text_fits[0];
    assert_eq!(fit.path, "scenes[0].layers[0]");
    assert!(fit.fitted_size < 40.0 && fit.fitted_size >= 10.0, "{fit:?}");
    assert_eq!(fit.kept_chars, None);

    let plan = plan_of(one_layer(json!({
        "type": "text", "size": 30, "max_width": 300, "max_height": 40, "overflow": "ellipsis",
        "text": "Always keep both hands on the ladder while you climb it, and never carry tools"
    })));
    let fit = &plan.text_fits[0];
    let kept = fit.kept_chars.expect("cut");
    assert!(kept > 5 && kept < fit.chars, "{fit:?}");
    let reelsmith::plan::PlanLayerKind::Text(t) = &plan.scenes[0].layers[0].kind else {
        panic!("text layer")
    };
    assert!(t.text.ends_with('…'), "{}", t.text);
    // Cut at a word boundary: the next character of the original is a space.
    let original = "Always keep both hands on the ladder while you climb it, and never carry tools";
    assert!(
        original.chars().nth(kept).is_some_and(char::is_whitespace),
        "{}",
        t.text
    );
}

#[test]
fn slide_blocks_expand_into_placed_parts() {
    let plan = plan_of(json!({
        "scenes": [{ "duration": 6, "layers": [
            { "type": "bullets", "reveal": 1, "items": ["One", "Two", { "text": "Two-a", "level": 1 }] },
            { "type": "lower_third", "title": "Dana Okafor", "subtitle": "Safety lead" },
            { "type": "title", "title": "Ladders", "subtitle": "Module 2" }
        ] }]
    }));
    let layers = &plan.scenes[0].layers;
    let paths: Vec<&str> = layers.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "scenes[0].layers[0].items[0].marker",
            "scenes[0].layers[0].items[0]",
            "scenes[0].layers[0].items[1].marker",
            "scenes[0].layers[0].items[1]",
            "scenes[0].layers[0].items[2].marker",
            "scenes[0].layers[0].items[2]",
            "scenes[0].layers[1].bar",
            "scenes[0].layers[1].accent",
            "scenes[0].layers[1].title",
            "scenes[0].layers[1].subtitle",
            "scenes[0].layers[2].title",
            "scenes[0].layers[2].subtitle",
        ]
    );
    // Items are revealed a second apart, stacked downwards, the nested one indented.
    let items: Vec<_> = [1, 3, 5].iter().map(|&i| &layers[i]).collect();
    assert_eq!(
        items.iter().map(|l| l.start).collect::<Vec<_>>(),
        [0, 30, 60]
    );
    assert!(items[0].y < items[1].y && items[1].y < items[2].y);
    assert!(items[2].x > items[1].x);
    // The lower third slides in from beyond the left edge: fully off screen at its start.
    let bar = &layers[6];
    let reelsmith::plan::PlanLayerKind::Shape(shape) = &bar.kind else {
        panic!("bar is a shape")
    };
    let st = bar.state(bar.start);
    assert!(
        bar.x + st.dx + shape.width <= 0.2 * shape.width,
        "{} {} {}",
        bar.x,
        st.dx,
        shape.width
    );
}

#[test]
fn animation_and_block_mistakes_are_reported_with_paths() {
    let found = issues(json!({
        "scenes": [{ "duration": 2, "layers": [
            { "type": "text", "text": "x",
              "animate_in": { "effect": "scale", "scale": 9, "duration": 1.5 },
              "animate_out": { "effect": "slide", "duration": 1 } },
            { "type": "image", "src": "x.png", "animate_in": "typewriter" },
            { "type": "bullets", "items": [{ "text": "a", "level": 7, "at": 5 }] },
            { "type": "caption", "text": "x", "max_lines": 9 }
        ] }]
    }));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    for want in [
        "scenes[0].layers[0].animate_in.scale",
        "scenes[0].layers[1].src",
        "scenes[0].layers[2].items[0].level",
        "scenes[0].layers[2].items[0].at",
        "scenes[0].layers[3].max_lines",
    ] {
        assert!(paths.contains(&want), "missing {want} in {found:#?}");
    }
}

/// Property: for many texts, sizes, widths and alignments, every drawn pixel lies inside the
/// laid-out box (plus a glyph-overhang allowance of a quarter of the size) and no line is
/// wider than the wrap width when words may break.
#[test]
fn text_is_never_drawn_outside_its_box() {
    use reelsmith::plan::PlanText;
    use reelsmith::text::TextEngine;
    let words = [
        "lift",
        "ladder",
        "harness",
        "السلامة",
        "सुरक्षा",
        "安全第一",
        "Ünïcödé",
        "👍",
        "WAVE",
        "affine",
        "ffi",
        "—",
        "3.5 m",
    ];
    let mut seed = 0x2545_f491_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut engine = TextEngine::new();
    for case in 0..60 {
        let n = 1 + next(12);
        let text: Vec<&str> = (0..n).map(|_| words[next(words.len())]).collect();
        let size = 12.0 + next(60) as f32;
        // At least two ems, so that one glyph always fits a line.
        let max_width = 2.0 * size + next(500) as f32;
        let mut t = PlanText::plain(&text.join(" "), "Noto Sans", size, [255; 4], max_width);
        t.align = [
            reelsmith::spec::TextAlign::Left,
            reelsmith::spec::TextAlign::Center,
            reelsmith::spec::TextAlign::Right,
        ][next(3)];
        let d = engine.layout(&t).expect("lays out");
        // cosmic-text can leave a mixed-direction line a few pixels over the wrap width
        // (the box grows to hold it, so nothing is drawn outside the box).
        assert!(
            d.box_width <= f64::from(max_width) * 1.05 + 0.5,
            "case {case}: {:?} is {} px wide, wrap width {max_width}",
            t.text,
            d.box_width
        );
        let r = d.render(None);
        let slack = f64::from(size) * 0.25;
        let (x0, y0) = (d.pad.0 as f64 - slack, d.pad.1 as f64 - slack);
        let (x1, y1) = (
            x0 + d.box_width + 2.0 * slack,
            y0 + d.box_height + 2.0 * slack,
        );
        for y in 0..r.height {
            for x in 0..r.width {
                if r.pixel(x, y)[3] > 8 {
                    let (fx, fy) = (f64::from(x), f64::from(y));
                    assert!(
                        fx >= x0 && fx < x1 && fy >= y0 && fy < y1,
                        "case {case}: {:?} at {size} px (wrap {max_width}) draws at ({x},{y}) \
                         outside {x0:.0}..{x1:.0} x {y0:.0}..{y1:.0}",
                        t.text
                    );
                }
            }
        }
    }
}

#[test]
fn a_spec_can_bring_its_own_fonts() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let opts = RenderOptions::default().with_base_dir(fixtures.clone());
    let spec = |fonts: serde_json::Value, font: &str| {
        Composition::from_json(
            &json!({ "fonts": fonts, "scenes": [{ "duration": 1, "layers": [
                { "type": "text", "text": "Hello", "font": font }
            ] }] })
            .to_string(),
        )
        .expect("parses")
    };
    // The folder's family becomes usable by name, and the plan carries the font.
    let plan = reelsmith::pipeline::plan(&spec(json!(["fonts"]), "Fixture Serif"), &opts)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.fonts.files.len(), 1);
    let prepared = reelsmith::compose::prepare::prepare(&plan).expect("prepares");
    assert!(prepared.scenes[0].layers[0]
        .raster
        .data
        .chunks(4)
        .any(|p| p[3] > 200));
    // Without it, the family is unknown.
    let found = reelsmith::pipeline::plan(&spec(json!([]), "Fixture Serif"), &opts)
        .expect_err("unknown font");
    assert!(
        found.issues()[0].message.contains("unknown font"),
        "{found}"
    );
    // Bad entries are reported with their paths, together with the other problems.
    let found =
        reelsmith::pipeline::plan(&spec(json!(["fonts-bad", "missing-folder"]), "Nope"), &opts)
            .expect_err("bad fonts");
    let paths: Vec<String> = found.issues().into_iter().map(|i| i.path).collect();
    assert_eq!(
        paths,
        ["fonts[0]", "fonts[1]", "scenes[0].layers[0].font"],
        "{found}"
    );
}

#[test]
fn transitions_overlap_scenes_and_the_total_is_exact() {
    let plan = plan_of(json!({
        "scenes": [
            { "duration": 4 },
            { "duration": 4, "transition": "crossfade" },
            { "duration": 4, "transition": { "type": "wipe_left", "duration": 1 } }
        ]
    }));
    // 12 s of scenes less 0.5 s and 1 s of overlap.
    assert_eq!(plan.total_frames, 315);
    let starts: Vec<u64> = plan.scenes.iter().map(|s| s.start_frame).collect();
    assert_eq!(starts, [0, 105, 195]);
    let t: Vec<u64> = plan
        .scenes
        .iter()
        .map(|s| s.transition.map_or(0, |t| t.frames))
        .collect();
    assert_eq!(t, [0, 15, 30]);
    let spans = plan.spans();
    assert_eq!(spans.iter().filter(|s| s.transition).count(), 45);
    // Every frame is covered exactly once, in order.
    let mut next = 0;
    for s in &spans {
        assert_eq!(s.start, next);
        next += s.len;
    }
    assert_eq!(next, plan.total_frames);

    let found = issues(json!({
        "scenes": [
            { "duration": 2, "transition": "fade" },
            { "duration": 1, "transition": { "type": "circle", "duration": 1.5 } }
        ]
    }));
    let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
    assert!(paths.contains(&"scenes[0].transition"), "{found:?}");
    assert!(
        paths.contains(&"scenes[1].transition.duration"),
        "{found:?}"
    );
}

#[test]
fn scenes_are_prepared_only_while_composed() {
    let plan = plan_of(json!({
        "output": { "width": 320, "height": 180 },
        "scenes": [
            { "duration": 1, "layers": [{ "type": "text", "text": "One" }] },
            { "duration": 1, "background": { "type": "linear_gradient", "colors": ["#102030", "#405060"] },
              "layers": [{ "type": "text", "text": "Two" }] },
            { "duration": 1, "layers": [{ "type": "shape", "width": 40, "height": 20, "fill": "#FF0000" }] }
        ]
    }));
    let whole = reelsmith::compose::prepare::prepare(&plan).expect("prepares");
    let mut p = reelsmith::compose::prepare::Prepared::empty(&plan);
    assert!(p.scenes.iter().all(|s| s.is_placeholder));
    assert!(p.window(&plan, &[0, 1]).expect("window"));
    assert!(!p.scenes[0].is_placeholder && !p.scenes[1].is_placeholder);
    assert!(p.scenes[2].is_placeholder);
    // The same pixels as a whole preparation.
    assert_eq!(
        p.scenes[1].layers[0].raster.data,
        whole.scenes[1].layers[0].raster.data
    );
    assert!(!p.window(&plan, &[0, 1]).expect("window"), "nothing new");
    // Moving on frees what is behind.
    assert!(p.window(&plan, &[2]).expect("window"));
    assert!(p.scenes[0].is_placeholder && p.scenes[1].is_placeholder);
    assert!(p.scenes[0].layers[0].raster.data.is_empty());
    assert_eq!(
        p.scenes[2].layers[0].raster.data,
        whole.scenes[2].layers[0].raster.data
    );
    // The up-front check sees every scene and keeps none.
    let checked = reelsmith::compose::prepare::check(&plan).expect("checks");
    assert!(checked.scenes.is_empty());
    assert_eq!(checked.texts_rasterized, whole.texts_rasterized);
}

/// A span that only moves progress bars is composed by redrawing the bars' rectangle over the
/// picture before: the result must be the very picture a full composition gives.
#[test]
fn bar_steps_are_composed_as_regions_and_match_full_frames() {
    let plan = plan_of(json!({
        "output": { "width": 320, "height": 180, "fps": 30 },
        "scenes": [
            { "duration": 2,
              "background": { "type": "linear_gradient", "colors": ["#102030", "#A05060"] },
              "layers": [
                { "type": "text", "text": "Steps", "fade_in": 0.3 },
                { "type": "shape", "width": 320, "height": 20, "fill": "#FFFFFF40", "y": "95%" },
                { "type": "progress_bar", "color": "#FFC83D", "track_color": "#FFFFFF33",
                  "corner_radius": 2 },
                { "type": "progress_bar", "scope": "scene", "y": "5%", "anchor": "top-left",
                  "width": "50%", "x": "25%" }
              ] },
            { "duration": 1, "background": { "type": "solid", "color": "#203040" },
              "layers": [{ "type": "progress_bar" }] }
        ]
    }));
    let spans = plan.spans();
    let bars = spans.iter().filter(|s| s.bars_only).count();
    assert!(bars > 20, "{bars} of {} spans only move bars", spans.len());
    assert!(!spans[0].bars_only);
    assert!(spans.iter().filter(|s| s.bars_only).all(|s| s.local));
    let regions = regions_match_full_frames(&plan);
    assert!(regions >= bars, "{regions} regions, {bars} bar steps");
}

/// Composes `spans` twice, as regions where allowed and as whole frames, and checks that every
/// picture is the same; returns how many were regions.
fn regions_match_full_frames(plan: &reelsmith::plan::Plan) -> usize {
    use reelsmith::compose::frame::Picture;
    let spans = plan.spans();
    let prepared = reelsmith::compose::prepare::prepare(plan).expect("prepares");
    let mut backgrounds = reelsmith::compose::frame::Backgrounds::default();
    backgrounds.keep_only(plan, &prepared, &spans);
    let buffers = reelsmith::compose::frame::Buffers::default();
    let parts =
        reelsmith::compose::frame::compose_batch(plan, &prepared, &backgrounds, &spans, &buffers)
            .expect("composes");
    let full_spans: Vec<_> = spans
        .iter()
        .map(|s| reelsmith::plan::Span { local: false, ..*s })
        .collect();
    let full = reelsmith::compose::frame::compose_batch(
        plan,
        &prepared,
        &backgrounds,
        &full_spans,
        &buffers,
    )
    .expect("composes");
    let mut last: Option<reelsmith::compose::frame::YuvFrame> = None;
    let mut regions = 0;
    for (i, (p, f)) in parts.iter().zip(&full).enumerate() {
        let Picture::Whole(whole) = &f.picture else {
            panic!("span {i} composed whole came back in parts");
        };
        let (pic, regions_of) = match &p.picture {
            Picture::Whole(pic) => (pic.clone(), Vec::new()),
            Picture::Parts(parts) => {
                regions += 1;
                assert!(spans[i].local && !spans[i].transition);
                let mut pic = last.clone().expect("a picture before");
                for (r, part) in parts {
                    assert!(
                        r.width * r.height < plan.width * plan.height,
                        "{r:?} is less than the frame"
                    );
                    reelsmith::compose::frame::paste(&mut pic, part, *r);
                }
                (pic, parts.iter().map(|(r, _)| *r).collect())
            }
        };
        assert!(
            pic == *whole,
            "span {i} ({:?}, {regions_of:?}) differs",
            spans[i]
        );
        last = Some(pic);
    }
    regions
}

/// Over a still background, a picture in which only some layers changed (fading, sliding,
/// scaling, typing, a Ken Burns picture in a box, bars) is composed as the rectangle where they
/// were and are, pasted over the picture before: the result must be the very picture a full
/// composition gives, frame after frame, also across a transition and at the frame's edges.
#[test]
fn changed_layers_are_composed_as_regions_and_match_full_frames() {
    let plan = plan_of(json!({
        "output": { "width": 320, "height": 180, "fps": 30 },
        "scenes": [
            { "duration": 2.5,
              "background": { "type": "linear_gradient", "colors": ["#102030", "#A05060"] },
              "layers": [
                { "type": "text", "text": "Fading in", "size": 24, "y": "20%", "fade_in": 0.3,
                  "fade_out": 0.3 },
                { "type": "text", "text": "Sliding", "size": 20, "x": "30%", "y": "45%",
                  "start": 0.2, "animate_in": { "effect": "slide", "from": "left", "distance": 60,
                  "duration": 0.4 } },
                { "type": "text", "text": "Growing", "size": 20, "x": "70%", "y": "45%",
                  "start": 0.5, "animate_in": { "effect": "scale", "scale": 0.3, "duration": 0.4 } },
                { "type": "text", "text": "Typing along", "size": 18, "y": "65%", "start": 0.9,
                  "animate_in": { "effect": "typewriter", "duration": 0.5 } },
                { "type": "text", "text": "Edge", "size": 30, "x": 0, "y": 0, "anchor": "top-left",
                  "start": 1.5, "animate_in": { "effect": "slide", "from": "top", "distance": 50,
                  "duration": 0.3 } },
                { "type": "image", "src": "media/stock/images/logo.png", "width": 80, "height": 50,
                  "x": "85%", "y": "80%", "start": 1.6, "motion": "zoom_in" },
                { "type": "progress_bar", "color": "#FFC83D" }
              ] },
            { "duration": 1.5, "background": { "type": "solid", "color": "#203040" },
              "transition": { "type": "crossfade", "duration": 0.3 },
              "layers": [
                { "type": "text", "text": "After", "size": 24, "fade_in": 0.2,
                  "animate_in": { "effect": "slide", "from": "bottom", "distance": 30 } },
                { "type": "progress_bar" }
              ] }
        ]
    }));
    let spans = plan.spans();
    assert!(spans.iter().filter(|s| s.transition).all(|s| !s.local));
    let regions = regions_match_full_frames(&plan);
    let local = spans.iter().filter(|s| s.local).count();
    assert!(
        regions > 40,
        "{regions} of {local} local spans composed as regions"
    );
}

/// Nothing is composed as a region over a moving background.
#[test]
fn spans_over_a_moving_background_are_never_regions() {
    let plan = plan_of(json!({
        "output": { "width": 320, "height": 180, "fps": 30 },
        "scenes": [
            { "duration": 1,
              "background": { "type": "image", "src": "media/stock/images/hills-dawn.jpg",
                              "motion": "zoom_in" },
              "layers": [{ "type": "text", "text": "Over a move", "fade_in": 0.3 }] }
        ]
    }));
    assert!(plan.spans().iter().all(|s| !s.local));
    assert_eq!(regions_match_full_frames(&plan), 0);
}

/// Every property of the JSON Schema whose name says it may name a file is marked
/// `x-reelsmith-file` (or is known not to be read), and every mark is a field that
/// `Composition::files` lists: the one list of the files a spec names cannot fall behind.
#[test]
fn the_file_list_covers_every_field_that_names_a_file() {
    fn walk(node: &serde_json::Value, marks: &mut Vec<String>, unmarked: &mut Vec<String>) {
        match node {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                    for (name, prop) in props {
                        match prop.get("x-reelsmith-file").and_then(|m| m.as_str()) {
                            Some(mark) => marks.push(mark.to_string()),
                            None => {
                                let lower = name.to_ascii_lowercase();
                                let looks = [
                                    "src", "font", "path", "file", "dir", "folder", "url",
                                    "source", "vtt",
                                ]
                                .iter()
                                .any(|w| lower.contains(w));
                                // Known not to be read: a font *family* name, the output's own
                                // path (written, never read; the service sets it), the duck's
                                // driver (an enum) and the WebVTT switches (booleans).
                                let known = ["font", "path", "source", "vtt", "chapters_vtt"]
                                    .contains(&name.as_str());
                                if looks && !known {
                                    unmarked.push(name.clone());
                                }
                            }
                        }
                    }
                }
                for v in map.values() {
                    walk(v, marks, unmarked);
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(v, marks, unmarked);
                }
            }
            _ => {}
        }
    }
    let (mut marks, mut unmarked) = (Vec::new(), Vec::new());
    walk(
        &reelsmith::Composition::json_schema(),
        &mut marks,
        &mut unmarked,
    );
    assert!(
        unmarked.is_empty(),
        "fields that may name files, not marked: {unmarked:?}"
    );
    marks.sort();
    marks.dedup();
    // A spec that uses every field that names a file.
    let comp = Composition::from_json(
        &json!({
            "fonts": ["fonts/a.ttf"],
            "scenes": [
                {"duration": 1, "background": {"type": "image", "src": "a.png"},
                 "layers": [{"type": "image", "src": "b.png"}, {"type": "video", "src": "c.mp4"}],
                 "narration": {"src": "d.wav"}},
                {"duration": 1, "background": {"type": "video", "src": "e.mp4"}}
            ],
            "audio": {"tracks": [{"src": "f.wav"}]}
        })
        .to_string(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let files = comp.files();
    let mut listed: Vec<String> = files.iter().map(|f| f.field.to_string()).collect();
    listed.sort();
    listed.dedup();
    assert_eq!(
        listed, marks,
        "Composition::files and the schema's marks differ"
    );
    let paths: Vec<(&str, &str)> = files.iter().map(|f| (f.path.as_str(), f.src)).collect();
    assert_eq!(
        paths,
        [
            ("fonts[0]", "fonts/a.ttf"),
            ("scenes[0].background.src", "a.png"),
            ("scenes[0].layers[0].src", "b.png"),
            ("scenes[0].layers[1].src", "c.mp4"),
            ("scenes[0].narration.src", "d.wav"),
            ("scenes[1].background.src", "e.mp4"),
            ("audio.tracks[0].src", "f.wav"),
        ]
    );
}
