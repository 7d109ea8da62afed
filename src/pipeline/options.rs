//! How to render ([`RenderOptions`]) and the faults tests inject.

use std::path::{Path, PathBuf};

use crate::resolve::files::FileAccess;
use crate::spec::Quality;

/// How to render. Plain data; every field has a default ([`RenderOptions::default`]) and a
/// consuming setter (`with_*`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Output file. Wins over the spec's `output.path`. Default: none (spec path, else
    /// `<media_root>/videos/<output_name>.mp4`).
    pub output: Option<PathBuf>,
    /// File stem used for the default output path. Default: `"composition"`.
    pub output_name: String,
    /// Folder that relative asset paths in the spec are resolved against. Default: `.`.
    pub base_dir: PathBuf,
    /// Storage root: temp files go to `<media_root>/assets/temp/`, default outputs to
    /// `<media_root>/videos/`. Default: `media`.
    pub media_root: PathBuf,
    /// Overrides the spec's `output.quality`. Default: none.
    pub quality: Option<Quality>,
    /// Keep the render's temp folder after it ends (for debugging). Default: false.
    pub keep_temp: bool,
    /// Worker threads for preparing and composing, and x264's threads; 0 = one compose worker
    /// per core and x264's own choice (1.5 per core). Default: 0.
    pub threads: usize,
    /// Write each repeated picture (a static span) as an all-skip P picture instead of
    /// encoding it again; x264 then runs without B-pyramid. Default: true.
    pub skip_repeats: bool,
    /// Write a picture that differs from the last reference in a few macroblocks of one row
    /// (a progress bar's step during a static span) as that reference with only those
    /// macroblocks coded, instead of a full x264 pass. Needs `skip_repeats`. Default: true.
    pub patches: bool,
    /// Encode losslessly (x264 QP 0 on the same YUV frames): a reference for quality checks,
    /// large files. Wins over the quality. Default: false.
    pub lossless: bool,
    /// Extra libx264 settings, `key=value:key=value` as in x264's CLI (e.g. `subme=1`),
    /// applied after reelsmith's. For experiments; a setting that breaks splicing (B-pyramid)
    /// makes the render fail. Default: none.
    pub x264_params: Option<String>,
    /// Copy the audio of an earlier render whose audio was exactly the same (same tracks,
    /// source bytes, loudness settings and bitrate) from `<media_root>/assets/audio/encoded`,
    /// and keep this render's encoded audio there for later ones. Default: true.
    pub audio_cache: bool,
    /// Encode each scene as a segment of its own: x264 is flushed and opened again at every
    /// scene's first frame (see [`Plan::segment_starts`]), so that no picture refers to one of
    /// another scene, and every scene starts with a keyframe. Needs `skip_repeats`. Default:
    /// true (measured: 1.03-1.05x the wall time of one x264 for the whole video at 1080p, no
    /// slower at 720p). False: one x264 for the whole video, and no scene cache.
    pub segments: bool,
    /// Keep each segment's packets in `<media_root>/assets/video/segments`; a segment an
    /// earlier render encoded from exactly the same pictures is copied from there instead of
    /// being composed and encoded (see [`crate::cache::scenes`]). A re-render after changing
    /// some scenes then costs only what changed, and a render that failed or was cancelled
    /// copies the scenes it had finished. Needs `segments` and `skip_repeats`; not used for
    /// lossless renders (references for measurements, too large to keep). Default: true.
    pub scene_cache: bool,
    /// When set, the spec may read only files under these folders (after following symbolic
    /// links; never under `<media_root>/assets/temp`), relative names are looked up in
    /// `base_dir` alone, and problems name files as written, never the folders: for specs that
    /// are not the user's own (the service). Default: none (any file the process can read;
    /// relative names are looked up in `base_dir`, then `media_root`).
    pub asset_roots: Option<Vec<PathBuf>>,
    /// Where [`crate::pipeline::validate`] puts the unnamed temporary files of long decoded
    /// audio (a render uses its own folder under the temp root). The command line gives the
    /// system's temporary folder. Default: none (the temp root when it exists, else memory).
    /// A folder given that cannot be written makes the validation fail as the machine's
    /// problem ([`crate::error::EnvError`]).
    pub spill_dir: Option<PathBuf>,
    /// While splicing, how many frames x264 is told a picture followed by copies lasts at most
    /// (see [`crate::encode::HOLD_FRAMES`]): for measuring that choice (BENCHMARKS.md); the
    /// command line takes it from `REELSMITH_SPLICE_HOLD`. Default: 1
    /// ([`crate::encode::HOLD_FRAMES`]).
    pub splice_hold: u64,
    /// Cut segments longer than this many seconds into chunks of this length (from each
    /// segment's first frame; see [`crate::plan::PlanEncoding::chunk_frames`]), each encoded
    /// on its own, and the AAC stream in chunks of this length too
    /// ([`crate::plan::PlanEncoding::audio_chunk_samples`]): what lets a render farm spread
    /// one long scene, and the audio, over many workers. A local render with the same value
    /// makes the same pictures and audio stream as the farm. 0: not cut. Default: 0.
    pub chunk_s: f64,
    /// What one spec may cost, checked before anything is decoded or spoken (and the frame
    /// and pixel budgets again once the plan is made). Default: none (only the engine's own
    /// limits: see the crate's documentation).
    pub limits: Option<crate::resolve::limits::Limits>,
    /// Fault injection for tests of the failure paths (only with the `fault-injection`
    /// feature). Default: none.
    #[cfg(feature = "fault-injection")]
    #[doc(hidden)]
    pub fault: Option<Fault>,
}

impl RenderOptions {
    /// Where the spec's files are looked up and which may be read: see [`Self::asset_roots`].
    pub fn file_access(&self) -> FileAccess {
        match &self.asset_roots {
            None => FileAccess::open(&self.base_dir, &self.media_root),
            Some(roots) => FileAccess::confined(
                &self.base_dir,
                roots,
                &[self.media_root.join("assets").join("temp")],
            ),
        }
    }
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            output: None,
            output_name: "composition".into(),
            base_dir: PathBuf::from("."),
            media_root: PathBuf::from("media"),
            quality: None,
            keep_temp: false,
            threads: 0,
            skip_repeats: true,
            patches: true,
            lossless: false,
            x264_params: None,
            audio_cache: true,
            segments: true,
            scene_cache: true,
            asset_roots: None,
            spill_dir: None,
            splice_hold: crate::encode::HOLD_FRAMES,
            chunk_s: 0.0,
            limits: None,
            #[cfg(feature = "fault-injection")]
            fault: None,
        }
    }
}

impl RenderOptions {
    /// Options for the spec file at `path`: relative asset paths looked up from its folder
    /// ([`Self::base_dir`], as [`crate::pipeline::load_spec`] returns it) and the default
    /// output named after the file ([`Self::output_name`]: `<media_root>/videos/<stem>.mp4`).
    pub fn for_spec_file(path: &Path) -> RenderOptions {
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let output_name = path.file_stem().map_or_else(
            || "output".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        RenderOptions::default()
            .with_base_dir(base_dir)
            .with_output_name(output_name)
    }
}

/// Consuming setters, for building options outside this crate (the struct is
/// `#[non_exhaustive]`): `RenderOptions::default().with_base_dir(dir).with_threads(2)`.
impl RenderOptions {
    /// Sets [`Self::output`].
    #[must_use]
    pub fn with_output(mut self, output: impl Into<PathBuf>) -> Self {
        self.output = Some(output.into());
        self
    }

    /// Sets [`Self::output_name`].
    #[must_use]
    pub fn with_output_name(mut self, output_name: impl Into<String>) -> Self {
        self.output_name = output_name.into();
        self
    }

    /// Sets [`Self::base_dir`].
    #[must_use]
    pub fn with_base_dir(mut self, base_dir: impl Into<PathBuf>) -> Self {
        self.base_dir = base_dir.into();
        self
    }

    /// Sets [`Self::media_root`].
    #[must_use]
    pub fn with_media_root(mut self, media_root: impl Into<PathBuf>) -> Self {
        self.media_root = media_root.into();
        self
    }

    /// Sets [`Self::quality`].
    #[must_use]
    pub fn with_quality(mut self, quality: Quality) -> Self {
        self.quality = Some(quality);
        self
    }

    /// Sets [`Self::keep_temp`].
    #[must_use]
    pub fn with_keep_temp(mut self, keep_temp: bool) -> Self {
        self.keep_temp = keep_temp;
        self
    }

    /// Sets [`Self::threads`].
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Sets [`Self::skip_repeats`].
    #[must_use]
    pub fn with_skip_repeats(mut self, skip_repeats: bool) -> Self {
        self.skip_repeats = skip_repeats;
        self
    }

    /// Sets [`Self::patches`].
    #[must_use]
    pub fn with_patches(mut self, patches: bool) -> Self {
        self.patches = patches;
        self
    }

    /// Sets [`Self::lossless`].
    #[must_use]
    pub fn with_lossless(mut self, lossless: bool) -> Self {
        self.lossless = lossless;
        self
    }

    /// Sets [`Self::x264_params`].
    #[must_use]
    pub fn with_x264_params(mut self, x264_params: impl Into<String>) -> Self {
        self.x264_params = Some(x264_params.into());
        self
    }

    /// Sets [`Self::audio_cache`].
    #[must_use]
    pub fn with_audio_cache(mut self, audio_cache: bool) -> Self {
        self.audio_cache = audio_cache;
        self
    }

    /// Sets [`Self::segments`].
    #[must_use]
    pub fn with_segments(mut self, segments: bool) -> Self {
        self.segments = segments;
        self
    }

    /// Sets [`Self::scene_cache`].
    #[must_use]
    pub fn with_scene_cache(mut self, scene_cache: bool) -> Self {
        self.scene_cache = scene_cache;
        self
    }

    /// Sets [`Self::asset_roots`].
    #[must_use]
    pub fn with_asset_roots(mut self, asset_roots: impl IntoIterator<Item = PathBuf>) -> Self {
        self.asset_roots = Some(asset_roots.into_iter().collect());
        self
    }

    /// Sets [`Self::limits`].
    #[must_use]
    pub fn with_limits(mut self, limits: crate::resolve::limits::Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// Sets [`Self::spill_dir`].
    #[must_use]
    pub fn with_spill_dir(mut self, spill_dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = Some(spill_dir.into());
        self
    }

    /// Sets [`Self::splice_hold`].
    #[must_use]
    pub fn with_splice_hold(mut self, splice_hold: u64) -> Self {
        self.splice_hold = splice_hold;
        self
    }

    /// Sets [`Self::chunk_s`].
    #[must_use]
    pub fn with_chunk_s(mut self, chunk_s: f64) -> Self {
        self.chunk_s = chunk_s;
        self
    }

    /// Sets [`Self::fault`] (only with the `fault-injection` feature).
    #[cfg(feature = "fault-injection")]
    #[doc(hidden)]
    #[must_use]
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = Some(fault);
        self
    }
}

impl RenderOptions {
    /// The frame at which the encoder fails on purpose ([`Fault::EncodeAtFrame`]); never
    /// without the `fault-injection` feature.
    #[cfg(feature = "fault-injection")]
    pub(crate) fn encode_fault(&self) -> Option<u64> {
        match self.fault {
            Some(Fault::EncodeAtFrame(n)) => Some(n),
            _ => None,
        }
    }

    /// The frame at which composition panics on purpose ([`Fault::PanicAtFrame`]); never
    /// without the `fault-injection` feature.
    pub(crate) fn panic_fault(&self) -> Option<u64> {
        #[cfg(feature = "fault-injection")]
        if let Some(Fault::PanicAtFrame(n)) = self.fault {
            return Some(n);
        }
        None
    }

    /// `<media_root>/assets/temp`.
    pub fn temp_root(&self) -> PathBuf {
        self.media_root.join("assets").join("temp")
    }

    /// Where long audio sources are decoded to when they do not stay in memory: the spill
    /// folder when one is given, else the temp root when it exists, else `None` (memory).
    pub fn spill(&self) -> Option<PathBuf> {
        match &self.spill_dir {
            Some(dir) => Some(dir.clone()),
            None => {
                let temp_root = self.temp_root();
                temp_root.is_dir().then_some(temp_root)
            }
        }
    }

    /// `<media_root>/assets/audio/encoded`: encoded audio of earlier renders, by content
    /// (see [`crate::cache::audio`]).
    pub fn audio_cache_dir(&self) -> PathBuf {
        self.media_root.join("assets").join("audio").join("encoded")
    }

    /// `<media_root>/assets/video/segments`: encoded scenes of earlier renders, by content
    /// (see [`crate::cache::scenes`]).
    pub fn scene_cache_dir(&self) -> PathBuf {
        self.media_root
            .join("assets")
            .join("video")
            .join("segments")
    }

    /// `<media_root>/assets/audio/tts`: spoken narrations, cached by content.
    pub fn tts_cache(&self) -> PathBuf {
        self.media_root.join("assets").join("audio").join("tts")
    }
}

/// Failures injected on purpose by tests (only with the `fault-injection` feature).
#[cfg(feature = "fault-injection")]
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The encoder fails when it reaches this frame.
    EncodeAtFrame(u64),
    /// Composition panics when it reaches the span starting at or after this frame.
    PanicAtFrame(u64),
}
