//! Fuzzing entry points: one function per `cargo fuzz` target (`fuzz/fuzz_targets/`), each
//! taking arbitrary bytes through the same code a render uses for that kind of input. The fuzz
//! targets are one-line calls of these, and `tests/fuzz_corpus.rs` replays the committed
//! corpus (`fuzz/corpus/<target>/`) through them as ordinary tests.
//!
//! Every function must return, never panic or abort, whatever the bytes: an input the stage
//! refuses is an `Err` ([`Refusal::Input`]) naming the stage and the library's message. The
//! harness is hermetic: files go to fresh temporary folders, text-to-speech is refused, and a
//! spec naming a file outside its (empty) folder is refused before planning, so no run reads
//! the machine's own files or starts espeak.

use std::io::Write;
use std::path::{Component, Path};

use sha2::{Digest, Sha256};

use crate::plan::PlanText;
use crate::resolve::{self, ResolveContext};
use crate::spec::Composition;
use crate::text::TextMeasure;

/// Why an input was not taken (the normal answer to most fuzz inputs).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The stage refused the input: its own error message.
    #[error("{stage}: {message}")]
    Input {
        /// What refused it (`spec`, `plan`, `image`, `audio levels`, `clip frame 2`, ...).
        stage: &'static str,
        /// The library's message.
        message: String,
    },
    /// The harness could not write its temporary files (not the input's fault).
    #[error("fuzz harness: {0}")]
    Harness(#[from] std::io::Error),
}

/// What one input did: a short description of what was decoded or planned, or why not.
pub type Outcome = Result<String, Refusal>;

fn refuse(stage: &'static str) -> impl Fn(&dyn std::fmt::Display) -> Refusal {
    move |e| Refusal::Input {
        stage,
        message: e.to_string(),
    }
}

/// Plans longer than this are planned but not cut into spans (which walks every frame), so
/// that one input costs milliseconds, not minutes (30 s at 30 fps).
const MAX_SPAN_FRAMES: u64 = 900;

/// Spec JSON → parse → validate and resolve into a plan (text measured with the bundled
/// fonts, text-to-speech refused, asset paths resolved against an empty temporary folder) →
/// its spans and segment starts.
///
/// # Errors
/// [`Refusal::Input`] from `spec` (not UTF-8, not a composition), `paths` (a file outside
/// the folder) or `plan` (the resolver's issues).
pub fn spec(data: &[u8]) -> Outcome {
    let text = std::str::from_utf8(data).map_err(|e| refuse("spec")(&e))?;
    let comp = Composition::from_json(text).map_err(|e| refuse("spec")(&e))?;
    if let Some(p) = path_outside(text) {
        return Err(Refusal::Input {
            stage: "paths",
            message: format!("{p:?} would leave the spec's folder (not followed while fuzzing)"),
        });
    }
    let dir = tempfile::tempdir()?;
    // Confined to the empty folder, as the service confines specs to its roots.
    let files =
        crate::resolve::files::FileAccess::confined(dir.path(), &[dir.path().to_path_buf()], &[]);
    let (fonts, font_issues) = crate::resolve::fonts::load(&comp.fonts, &files);
    if !font_issues.is_empty() || !fonts.files.is_empty() {
        // An empty folder holds no fonts: every entry is an issue.
        return Err(Refusal::Input {
            stage: "fonts",
            message: format!("{} font entries refused", font_issues.len()),
        });
    }
    let measure = |t: &PlanText| measure_text(t).map_err(|e| e.to_string());
    let families = bundled_families();
    let plan = resolve::resolve(
        &comp,
        &ResolveContext {
            files: &files,
            font_families: families,
            audio_levels: &|p: &Path| crate::media::sound::levels(p).map_err(|e| e.to_string()),
            synthesize: &|_| {
                Err(crate::media::tts::TtsError::Speech(
                    "text-to-speech is off while fuzzing".into(),
                ))
            },
            measure: &measure,
        },
    )
    .map_err(|e| refuse("plan")(&e))?;
    let spans = if plan.total_frames <= MAX_SPAN_FRAMES {
        plan.spans().len()
    } else {
        0
    };
    let starts = plan.segment_starts();
    Ok(format!(
        "{} scenes, {} frames, {spans} spans, {} segments",
        plan.scenes.len(),
        plan.total_frames,
        starts.len() + 1
    ))
}

/// The first string value in the JSON that, as a path, is absolute or climbs (`..`): the
/// harness does not let a fuzzed spec name the machine's own files.
fn path_outside(text: &str) -> Option<String> {
    fn walk(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => Path::new(s)
                .components()
                .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
                .then(|| s.clone()),
            serde_json::Value::Array(a) => a.iter().find_map(walk),
            serde_json::Value::Object(o) => o.values().find_map(walk),
            _ => None,
        }
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| walk(&v))
}

/// The bundled font families (computed once: loading the font database costs milliseconds).
fn bundled_families() -> &'static [String] {
    static FAMILIES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    FAMILIES.get_or_init(crate::text::font_families)
}

/// Measures with one text engine per thread, kept between inputs (bundled fonts only).
fn measure_text(t: &PlanText) -> Result<TextMeasure, crate::text::TextError> {
    thread_local! {
        static ENGINE: std::cell::RefCell<Option<crate::text::TextEngine>> =
            const { std::cell::RefCell::new(None) };
    }
    ENGINE.with(|e| {
        e.borrow_mut()
            .get_or_insert_with(crate::text::TextEngine::new)
            .measure(t)
    })
}

/// Writes `data` to a fresh temporary file (removed when dropped).
fn temp_file(data: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    let mut f = tempfile::Builder::new()
        .prefix("reelsmith-fuzz-")
        .tempfile()?;
    f.write_all(data)?;
    f.flush()?;
    Ok(f)
}

/// Picture bytes → the assets stage's decoder (PNG or JPEG to a premultiplied raster).
///
/// # Errors
/// [`Refusal::Input`] from `image`.
pub fn image(data: &[u8]) -> Outcome {
    let f = temp_file(data)?;
    let r = crate::media::image::decode_image(f.path()).map_err(|e| refuse("image")(&e))?;
    Ok(format!("{}x{} picture", r.width, r.height))
}

/// Audio bytes → libav decoding as the planner reads narration (length and level every 10 ms,
/// [`crate::media::sound::levels`]) and as the mixer loads a source (decoded, resampled to 48 kHz,
/// long ones spilled to a temporary file, [`crate::media::sound::load_pcm`]).
///
/// # Errors
/// [`Refusal::Input`] from `audio levels` or `audio load`.
pub fn audio(data: &[u8]) -> Outcome {
    let f = temp_file(data)?;
    let levels = crate::media::sound::levels(f.path()).map_err(|e| refuse("audio levels")(&e))?;
    let spill = tempfile::tempdir()?;
    let pcm = crate::media::sound::load_pcm(f.path(), Some(spill.path()))
        .map_err(|e| refuse("audio load")(&e))?;
    Ok(format!(
        "{:.3} s, {} levels, {} frames at 48 kHz",
        levels.seconds,
        levels.db.len(),
        pcm.frames()
    ))
}

/// Output frames a [`clip`] run decodes.
const CLIP_FRAMES: u64 = 4;

/// Video bytes → the clip decoder as the assets stage uses it: the clip's facts, its first
/// few output frames at 30 fps scaled to 64x36 (decoder thread, swscale, colour conversion),
/// and half a second of its sound when it has any.
///
/// # Errors
/// [`Refusal::Input`] from `clip info`, `clip open`, `clip frame` or `clip audio`.
pub fn clip(data: &[u8]) -> Outcome {
    let f = temp_file(data)?;
    let info = crate::media::clip::clip_info(f.path()).map_err(|e| refuse("clip info")(&e))?;
    let timing = crate::media::clip::ClipTiming::default();
    let mut reader = crate::media::clip::ClipReader::open(
        f.path(),
        &timing,
        (30, 1),
        Some((64, 36)),
        CLIP_FRAMES,
    )
    .map_err(|e| refuse("clip open")(&e))?;
    for _ in 0..CLIP_FRAMES {
        reader.next_frame().map_err(|e| refuse("clip frame")(&e))?;
    }
    drop(reader);
    let sound = if info.has_audio {
        crate::media::clip_audio::clip_audio(f.path(), &timing, 0.5)
            .map_err(|e| refuse("clip audio")(&e))?
            .map_or(0, |s| s.len())
    } else {
        0
    };
    Ok(format!(
        "{}x{} {} clip, {CLIP_FRAMES} frames, {sound} samples",
        info.width, info.height, info.codec
    ))
}

/// Packets a [`mp4`] run reads from one entry at most.
const MAX_ENTRY_PACKETS: u64 = 4096;

/// Bytes → what reads encoded video back: the probe of an MP4 (box walk for `moov` before
/// `mdat`, every packet counted), and a scene cache entry (`.seg`): opened and checked by
/// [`crate::cache`] as it is, then once more with its digest made right (the fuzzer
/// cannot forge SHA-256, and a damaged entry with a valid digest is what the checks after it
/// are for), every packet read back and handed to the H.264 splicer as a replayed segment's
/// packets are (`idr_pic_id`, `with_idr_pic_id`, `rewrite`), with the splicer made from the
/// entry's own extradata when it parses and from x264's otherwise.
///
/// # Errors
/// [`Refusal::Input`] from `probe`, `scene cache` or `splice` when nothing was read.
pub fn mp4(data: &[u8]) -> Outcome {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("input.mp4");
    std::fs::write(&file, data)?;
    let probed = crate::media::probe::probe(&file).map(|p| p.streams.len());

    let cache = crate::cache::scenes::cache(dir.path().join("segments"));
    std::fs::create_dir_all(cache.dir())?;
    std::fs::write(cache.path("raw"), data)?;
    let mut entry = "refused";
    let mut replayed = None;
    if let Some(e) = cache.open::<crate::cache::scenes::Footer>("raw") {
        entry = "accepted as is";
        replayed = Some(replay(e)?);
    } else if let Some(sealed) = resealed(data) {
        std::fs::write(cache.path("sealed"), sealed)?;
        if let Some(e) = cache.open::<crate::cache::scenes::Footer>("sealed") {
            entry = "accepted resealed";
            replayed = Some(replay(e)?);
        }
    }
    match (probed, replayed) {
        (Err(e), None) => Err(refuse("probe")(&e)),
        (p, r) => Ok(format!(
            "probe: {}, entry: {entry}{}",
            p.map_or_else(|e| format!("refused ({e})"), |n| format!("{n} streams")),
            r.map_or_else(String::new, |r| format!(", {r}"))
        )),
    }
}

/// `data` with the footer's digest replaced by the digest of its records, when it has the
/// layout of an entry (magic, records, `E`, JSON footer, its length, `END!`) and the digest
/// differs.
fn resealed(data: &[u8]) -> Option<Vec<u8>> {
    let magic = crate::cache::scenes::LAYOUT.magic;
    let body = data.strip_prefix(magic)?;
    let (rest, tail) = body.split_at_checked(body.len().checked_sub(12)?)?;
    if &tail[8..] != b"END!" {
        return None;
    }
    let json_len = usize::try_from(u64::from_le_bytes(tail[..8].try_into().ok()?)).ok()?;
    let footer_at = rest.len().checked_sub(json_len)?.checked_sub(1)?;
    let (records, footer) = rest.split_at(footer_at);
    let mut json: serde_json::Value = serde_json::from_slice(footer.get(1..)?).ok()?;
    let digest: String = Sha256::digest(records)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let old = json.get_mut("digest")?;
    if old.as_str() == Some(digest.as_str()) {
        return None;
    }
    *old = serde_json::Value::String(digest);
    let json = serde_json::to_vec(&json).ok()?;
    let mut out = Vec::with_capacity(data.len() + 64);
    out.extend_from_slice(magic);
    out.extend_from_slice(records);
    out.push(b'E');
    out.extend_from_slice(&json);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(b"END!");
    Some(out)
}

/// Reads an entry's packets back and splices them as a replayed segment's.
fn replay(mut entry: crate::cache::scenes::Entry) -> Result<String, Refusal> {
    use crate::encode::h264::Splicer;
    let own = Splicer::new(&entry.meta.extradata).ok().map(|(s, _)| s);
    let mut splicer = match own {
        Some(s) => s,
        None => {
            Splicer::new(X264_EXTRADATA)
                .map_err(|e| refuse("splice")(&e))?
                .0
        }
    };
    let (mut n, mut idr) = (0u64, 0u64);
    while n < MAX_ENTRY_PACKETS {
        let Ok(Some(p)) = entry.next_packet() else {
            break;
        };
        if let Ok(Some(id)) = splicer.idr_pic_id(&p.data) {
            idr += 1;
            let _ = splicer.with_idr_pic_id(&p.data, id);
        }
        let _ = splicer.rewrite(&p.data, n);
        n += 1;
    }
    Ok(format!("{n} packets, {idr} IDR"))
}

/// The parameter sets (Annex B SPS and PPS) libx264 makes for a 64x36 stream at quality
/// `fast` with reelsmith's splicing settings: the splicer of a replay when an entry's own
/// extradata does not make one.
const X264_EXTRADATA: &[u8] = &[
    0, 0, 0, 1, 103, 100, 0, 10, 172, 211, 17, 254, 121, 168, 8, 8, 10, 0, 0, 3, 0, 2, 0, 0, 3, 0,
    120, 30, 36, 74, 112, 0, 0, 0, 1, 104, 239, 15, 203,
];
