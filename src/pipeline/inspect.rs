//! Looking at a spec or a video without rendering: the captions a spec makes, the fonts it may
//! name, a media file's streams, one decoded frame. What `reelsmith captions`, `fonts`,
//! `probe` and `frame` print.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::media::probe::ProbeInfo;
use crate::pipeline::options::RenderOptions;
use crate::spec::{Composition, SpecError};

/// A spec's closed captions as WebVTT (the same cues a render stores) and how many there are.
///
/// # Errors
/// [`Error::Spec`]: the spec is invalid (planning it speaks its text narrations, through the
/// speech cache under `opts.media_root`).
pub fn captions_vtt(comp: &Composition, opts: &RenderOptions) -> Result<(String, usize), Error> {
    let plan = crate::pipeline::plan(comp, opts)?;
    let cues = &plan.captions.cues;
    Ok((crate::encode::subtitles::to_vtt(cues), cues.len()))
}

/// Writes `bytes` to `path` whole or not at all: to a temporary file beside it, then renamed
/// over it.
///
/// # Errors
/// [`Error::Io`] with `op`, naming `path`.
pub fn write_atomically(path: &Path, bytes: &[u8], op: &'static str) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::NamedTempFile::new_in(dir)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.persist(path).map_err(|e| e.error)?;
            Ok(())
        })
        .map_err(Error::io(op, path))
}

/// The font families specs may name: the bundled ones, plus those `comp`'s `fonts` entries
/// bring (looked up as `opts` says) when given.
///
/// # Errors
/// [`Error::Spec`] listing the `fonts` entries that could not be loaded.
pub fn font_families(spec: Option<(&Composition, &RenderOptions)>) -> Result<Vec<String>, Error> {
    let Some((comp, opts)) = spec else {
        return Ok(crate::text::font_families());
    };
    let (fonts, issues) = crate::resolve::fonts::load(&comp.fonts, &opts.file_access());
    if !issues.is_empty() {
        return Err(Error::Spec(SpecError::Invalid(issues)));
    }
    Ok(crate::text::font_families_with(&fonts))
}

/// `reelsmith probe`'s text: the container (`file` names it), faststart and interleaving,
/// then one line per stream.
pub fn describe(file: &Path, info: &ProbeInfo) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} ({:.3} s, {} bytes, {} bit/s)",
        file.display(),
        info.format,
        info.duration_s,
        info.size_bytes,
        info.bit_rate
    );
    if let Some(fs) = info.faststart {
        let _ = writeln!(
            s,
            "  faststart (moov before mdat): {}",
            if fs { "yes" } else { "no" }
        );
    }
    if let Some(gap) = info.interleave_s {
        let _ = writeln!(
            s,
            "  interleaving (largest time gap between streams along the file): {gap:.2} s"
        );
    }
    if !info.chapters.is_empty() {
        let _ = writeln!(s, "  {} chapters:", info.chapters.len());
        for c in &info.chapters {
            let _ = writeln!(s, "    {:9.3} s  {}", c.start_s, c.title);
        }
    }
    for st in &info.streams {
        let profile = st.profile.as_deref().unwrap_or("-");
        let _ = match st.kind.as_str() {
            "video" => writeln!(
                s,
                "  #{} video: {} ({profile}) {}x{} {} {:.3} fps, {} frames, start {:.3} s, {:.3} s, colour {}",
                st.index,
                st.codec,
                st.width.unwrap_or(0),
                st.height.unwrap_or(0),
                st.pix_fmt.as_deref().unwrap_or("?"),
                st.fps.unwrap_or(0.0),
                st.packets,
                st.start_s,
                st.duration_s,
                st.color_space.as_deref().unwrap_or("?")
            ),
            "audio" => writeln!(
                s,
                "  #{} audio: {} ({profile}) {} Hz, {} ch, {} packets, start {:.3} s, {:.3} s",
                st.index,
                st.codec,
                st.sample_rate.unwrap_or(0),
                st.channels.unwrap_or(0),
                st.packets,
                st.start_s,
                st.duration_s
            ),
            other => writeln!(
                s,
                "  #{} {other}: {}{}, {} packets, start {:.3} s, {:.3} s",
                st.index,
                st.codec,
                st.language
                    .as_deref()
                    .map_or_else(String::new, |l| format!(" ({l})")),
                st.packets,
                st.start_s,
                st.duration_s
            ),
        };
    }
    s
}

/// Which frame of a video: by number, or the one showing at a time.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FrameAt {
    /// Frame number, 0-based.
    Index(u64),
    /// Seconds from the start (the video stream's frame rate turns it into a number; 30 fps
    /// when it has none).
    Time(f64),
}

/// Saves one decoded frame of the video `file` as PNG at `output`. Returns its number.
///
/// # Errors
/// [`Error::Probe`] if the video cannot be read; [`Error::Io`] if the PNG cannot be written
/// (`write`) or the frame is past the end (`read frame`).
pub fn save_frame(file: &Path, at: FrameAt, output: &Path) -> Result<u64, Error> {
    let target = match at {
        FrameAt::Index(i) => i,
        FrameAt::Time(t) => {
            let info = crate::media::probe::probe(file)?;
            let fps = info.stream("video").and_then(|s| s.fps).unwrap_or(30.0);
            (t.max(0.0) * fps).floor() as u64
        }
    };
    let mut saved = None;
    let n = crate::media::probe::decode_video(file, |i, rgb| {
        if i == target {
            saved = Some(rgb.save(output).map_err(|e| e.to_string()));
            return false;
        }
        true
    })?;
    match saved {
        Some(Ok(())) => Ok(target),
        Some(Err(e)) => Err(Error::Io {
            op: "write",
            path: output.into(),
            source: std::io::Error::other(e),
        }),
        None => Err(Error::Io {
            op: "read frame",
            path: PathBuf::from(file),
            source: std::io::Error::other(format!("frame {target} is past the end ({n} frames)")),
        }),
    }
}
