//! Encoded audio kept between renders, by content.
//!
//! Mixing, mastering (loudness passes, limiter) and AAC-encoding a 3-minute timeline costs
//! about 15 s of CPU, the same at any picture size: an eighth of a 1080p render, a fifth of a
//! 720p one. A render whose audio is exactly what an earlier render encoded (the same tracks
//! at the same places, the same source files byte for byte, the same loudness settings and
//! bitrate, the same reelsmith build and libavcodec) copies that render's AAC packets instead. That
//! is the common case when a training module is re-rendered after a change to its slides.
//!
//! An entry is one file, `<media_root>/assets/audio/encoded/<key>.aac`, named by the SHA-256
//! of everything the packets depend on ([`key`]). It is written inside the render's temporary
//! folder while the audio is encoded and renamed into place when the whole timeline is done,
//! so a cache file is always complete; a file that fails any check is removed and the audio
//! is encoded again. The folder is kept under 256 MB (least recently used first).
//!
//! The file layer (layout, checks, pruning) is [`crate::cache`]'s.

use std::fs::File;
use std::io::Read;

use sha2::{Digest, Sha256};

use crate::cache::PacketCache;
pub use crate::encode::packets::{AudioFooter as Footer, AUDIO_FILES as LAYOUT};
use crate::plan::{Plan, SAMPLE_RATE};

pub use crate::encode::packets::{Store, StoredPacket};

/// An entry of the audio cache.
pub type Entry = crate::cache::Entry<Footer>;

/// The audio cache in `dir`.
pub fn cache(dir: std::path::PathBuf) -> PacketCache {
    PacketCache::new(dir, &LAYOUT)
}

/// The identity of a render's encoded audio: the SHA-256 (hex) of the layout version,
/// reelsmith's build and libavcodec's version, the bitrate, the timeline's length, the loudness
/// settings, every track as planned and the bytes of every source file.
///
/// # Errors
/// A source file that cannot be read (the render reports it when it loads the audio).
pub fn key(plan: &Plan, bitrate: usize) -> std::io::Result<String> {
    let mut h = Sha256::new();
    h.update(LAYOUT.magic);
    h.update(crate::cache::build_id().as_bytes());
    h.update(ffmpeg_next::codec::version().to_le_bytes());
    h.update((bitrate as u64).to_le_bytes());
    h.update(u64::from(SAMPLE_RATE).to_le_bytes());
    h.update(plan.total_samples.to_le_bytes());
    h.update(format!("{:?}", plan.loudness).as_bytes());
    // Encoded in chunks, the stream is another (keys of streams in one piece stay as they were).
    let chunk = plan.encoding.audio_chunk_samples;
    if chunk > 0 {
        h.update(b"chunks");
        h.update(chunk.to_le_bytes());
        h.update(crate::encode::aac::PRE_ROLL_FRAMES.to_le_bytes());
        h.update(crate::encode::aac::POST_ROLL_FRAMES.to_le_bytes());
    }
    let mut buf = vec![0u8; 1 << 20];
    // Each distinct file's bytes once, as the mixer loads each once (a music bed may serve
    // several tracks); every track's plan, which names its file, still goes in.
    let mut hashed = std::collections::BTreeSet::new();
    for t in &plan.tracks {
        h.update(format!("{t:?}").as_bytes());
        if !hashed.insert(&t.src) {
            continue;
        }
        let mut f = File::open(&t.src)?;
        h.update(f.metadata()?.len().to_le_bytes());
        loop {
            let n = f.read(&mut buf)?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
    }
    Ok(h.finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>())
}
