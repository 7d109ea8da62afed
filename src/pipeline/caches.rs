//! The caches a render keeps under the media root: what they hold, emptying them, and the
//! table `reelsmith cache` prints.

use std::path::PathBuf;

use crate::error::Error;
use crate::pipeline::options::RenderOptions;

/// One of the caches a render keeps under the media root (see [`caches`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheInfo {
    /// `scenes`, `audio` or `speech`.
    pub name: &'static str,
    /// What it keeps.
    pub what: &'static str,
    /// Its folder.
    pub dir: PathBuf,
    /// Entries in it.
    pub entries: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The size it is kept under (least recently used entries go first).
    pub limit_bytes: u64,
}

/// The caches under the media root.
#[derive(Debug, Clone, Copy)]
enum CacheKind {
    Scenes,
    Audio,
    Speech,
}

impl CacheKind {
    const ALL: [CacheKind; 3] = [CacheKind::Scenes, CacheKind::Audio, CacheKind::Speech];

    /// Its entries and bytes (`clear`: after removing every entry, what was removed).
    fn info(self, opts: &RenderOptions, clear: bool) -> Result<CacheInfo, Error> {
        let packets = |cache: crate::cache::PacketCache| {
            let limit = cache.limit_bytes();
            let usage = if clear {
                cache.clear()
            } else {
                Ok(cache.usage())
            };
            usage.map(|u| (u, limit))
        };
        let (name, what, dir) = match self {
            CacheKind::Scenes => ("scenes", "H.264 of encoded scenes", opts.scene_cache_dir()),
            CacheKind::Audio => ("audio", "AAC of mastered audio", opts.audio_cache_dir()),
            CacheKind::Speech => ("speech", "WAV of spoken narrations", opts.tts_cache()),
        };
        let result = match self {
            CacheKind::Scenes => packets(crate::cache::scenes::cache(dir.clone())),
            CacheKind::Audio => packets(crate::cache::audio::cache(dir.clone())),
            CacheKind::Speech if clear => crate::media::tts::clear_cache(&dir)
                .map(|u| (u, crate::media::tts::CACHE_LIMIT_BYTES)),
            CacheKind::Speech => Ok((
                crate::media::tts::cache_usage(&dir),
                crate::media::tts::CACHE_LIMIT_BYTES,
            )),
        };
        let (usage, limit_bytes) = result.map_err(|source| Error::Io {
            op: "clear cache",
            path: dir.clone(),
            source,
        })?;
        Ok(CacheInfo {
            name,
            what,
            dir,
            entries: usage.entries,
            bytes: usage.bytes,
            limit_bytes,
        })
    }
}

/// The caches under `opts.media_root`: encoded scenes, encoded audio and spoken narrations,
/// with what each holds.
///
/// # Errors
/// None in practice (a missing or unreadable folder counts as empty); the `Result` is
/// shared with [`clear_caches`].
pub fn caches(opts: &RenderOptions) -> Result<Vec<CacheInfo>, Error> {
    CacheKind::ALL.iter().map(|k| k.info(opts, false)).collect()
}

/// Empties the caches under `opts.media_root` (only their entries: other files in those
/// folders stay). Renders then make everything again the first time. Returns what was
/// removed from each.
///
/// # Errors
/// [`Error::Io`] naming the folder of the first entry that could not be removed.
pub fn clear_caches(opts: &RenderOptions) -> Result<Vec<CacheInfo>, Error> {
    CacheKind::ALL.iter().map(|k| k.info(opts, true)).collect()
}

/// The `reelsmith cache` table: a header and one line per cache (`cleared`: the columns say
/// what was removed and freed).
pub fn table(caches: &[CacheInfo], cleared: bool) -> String {
    let mb = |b: u64| {
        if b >= 1 << 30 {
            format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30))
        } else {
            format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20))
        }
    };
    let mut out = format!(
        "{:<8} {:>8} {:>10} {:>10}  {}\n",
        "cache",
        if cleared { "removed" } else { "entries" },
        if cleared { "freed" } else { "size" },
        "limit",
        "folder"
    );
    for c in caches {
        out += &format!(
            "{:<8} {:>8} {:>10} {:>10}  {}  ({})\n",
            c.name,
            c.entries,
            mb(c.bytes),
            mb(c.limit_bytes),
            c.dir.display(),
            c.what
        );
    }
    out
}
