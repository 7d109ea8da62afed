//! Narration from text: synthesised locally with espeak-ng (a system package the setup
//! installs), cached by content so a text is spoken once and reused by every later render.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

/// What to say and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Speech {
    /// The words.
    pub text: String,
    /// espeak-ng voice (`en-us`, `en-gb`, `de`, ...).
    pub voice: String,
    /// Words per minute.
    pub rate: u32,
    /// Pitch, 0..=99.
    pub pitch: u32,
}

/// FNV-1a, 64-bit: a stable content hash (unlike std's hasher, it never changes between
/// Rust releases, so cache names stay valid).
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for p in parts {
        for &b in *p {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff; // separator, so ("ab","c") and ("a","bc") differ
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Whether `voice` is a plain espeak-ng voice name (letters, digits, `-`, `+`, `_`).
pub fn valid_voice(voice: &str) -> bool {
    !voice.is_empty()
        && voice.len() <= 40
        && voice
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-+_".contains(c))
}

/// The size the speech cache is kept under: some 45 hours of espeak-ng's 22 kHz mono.
pub const CACHE_LIMIT_BYTES: u64 = 256 << 20;

/// A narration used (spoken or found) this recently is never pruned: a render that resolved
/// it reads it later, and renders of other specs may prune meanwhile.
const CACHE_GRACE: Duration = Duration::from_secs(3600);

/// The spoken narrations kept under `cache_dir` (`tts-<key>.wav`; other files are not
/// counted): (last used, bytes, path).
fn cached(cache_dir: &Path) -> Vec<(SystemTime, u64, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(cache_dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("tts-") && name.ends_with(".wav")
        })
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((m.modified().ok()?, m.len(), e.path()))
        })
        .collect()
}

/// Removes the least recently used narrations until `cache_dir` holds at most `limit` bytes,
/// never one used within `grace` of `now`.
fn prune(cache_dir: &Path, limit: u64, now: SystemTime, grace: Duration) {
    crate::packet_cache::prune_lru(cached(cache_dir), limit, now.checked_sub(grace));
}

/// Marks a narration as used now (its modification time), so that pruning keeps it.
fn touch(path: &Path) {
    let _ = std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()));
}

/// How many narrations `cache_dir` holds, and their bytes.
pub fn cache_usage(cache_dir: &Path) -> crate::packet_cache::Usage {
    crate::packet_cache::Usage::of(&cached(cache_dir))
}

/// Removes every narration kept under `cache_dir` (they are spoken again when needed).
/// Returns what was removed.
///
/// # Errors
/// The first file that could not be removed.
pub fn clear_cache(cache_dir: &Path) -> std::io::Result<crate::packet_cache::Usage> {
    crate::packet_cache::remove_all(cached(cache_dir))
}

/// The cached WAV for `speech` under `cache_dir`, synthesising it first if needed. The file
/// is written beside its final name and renamed into place, so a crash never leaves a
/// truncated cache entry.
///
/// # Errors
/// A message if espeak-ng is missing, rejects the voice, or fails.
pub fn synthesize(cache_dir: &Path, speech: &Speech) -> Result<PathBuf, String> {
    let key = fnv1a(&[
        b"espeak-ng v1",
        speech.text.as_bytes(),
        speech.voice.as_bytes(),
        &speech.rate.to_le_bytes(),
        &speech.pitch.to_le_bytes(),
    ]);
    let out = cache_dir.join(format!("tts-{key:016x}.wav"));
    if out.is_file() {
        touch(&out);
        return Ok(out);
    }
    std::fs::create_dir_all(cache_dir)
        .map_err(|e| format!("cannot create {}: {e}", cache_dir.display()))?;
    let tmp = cache_dir.join(format!(".tts-{key:016x}.{}.partial", std::process::id()));
    let mut child = Command::new("espeak-ng")
        .args([
            "-v",
            &speech.voice,
            "-s",
            &speech.rate.to_string(),
            "-p",
            &speech.pitch.to_string(),
        ])
        .arg("-w")
        .arg(&tmp)
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "espeak-ng is not installed (apt-get install espeak-ng), so text cannot be spoken"
                    .to_string()
            } else {
                format!("cannot run espeak-ng: {e}")
            }
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(speech.text.as_bytes());
    }
    let result = child
        .wait_with_output()
        .map_err(|e| format!("espeak-ng failed: {e}"));
    let ok = matches!(&result, Ok(o) if o.status.success()) && tmp.is_file();
    if !ok {
        let _ = std::fs::remove_file(&tmp);
        let why = match result {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
            Err(e) => e,
        };
        return Err(format!(
            "espeak-ng could not speak with voice {:?}: {why}",
            speech.voice
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot store {}: {e}", out.display())
    })?;
    prune(cache_dir, CACHE_LIMIT_BYTES, SystemTime::now(), CACHE_GRACE);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_are_stable_and_distinct() {
        assert_eq!(fnv1a(&[b"a"]), fnv1a(&[b"a"]));
        assert_ne!(fnv1a(&[b"ab", b"c"]), fnv1a(&[b"a", b"bc"]));
        assert!(valid_voice("en-us") && valid_voice("en+f3") && !valid_voice("en us; rm"));
    }

    #[test]
    fn pruning_removes_the_least_recently_used_but_never_a_recent_one() {
        let dir = tempfile::tempdir().expect("tmp");
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        // (name, bytes, hours since last used)
        for (name, len, age) in [
            ("tts-a.wav", 100, 50),
            ("tts-b.wav", 100, 40),
            ("tts-c.wav", 100, 30),
            ("tts-d.wav", 100, 0),
            ("tts-e.wav", 100, 0),
            ("notes.wav", 1000, 60),
        ] {
            let p = dir.path().join(name);
            std::fs::write(&p, vec![0u8; len]).expect("write");
            std::fs::File::options()
                .write(true)
                .open(&p)
                .and_then(|f| f.set_modified(now - hour * age))
                .expect("mtime");
        }
        // 500 bytes of narrations kept under 250: the oldest go until 200 are left.
        prune(dir.path(), 250, now, hour);
        let left = |n: &str| dir.path().join(n).is_file();
        assert!(!left("tts-a.wav") && !left("tts-b.wav") && !left("tts-c.wav"));
        // Used within the hour: kept even though the folder is still over the limit.
        prune(dir.path(), 0, now, hour);
        assert!(left("tts-d.wav") && left("tts-e.wav"));
        // Not a narration: never touched.
        assert!(left("notes.wav"));
        assert_eq!(cache_usage(dir.path()).entries, 2);
        // Touching marks one as used now.
        let d = dir.path().join("tts-d.wav");
        std::fs::File::options()
            .write(true)
            .open(&d)
            .and_then(|f| f.set_modified(now - hour * 5))
            .expect("mtime");
        touch(&d);
        prune(dir.path(), 0, SystemTime::now(), hour);
        assert!(left("tts-d.wav"));
    }
}
