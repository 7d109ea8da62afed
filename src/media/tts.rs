//! Narration from text: synthesised locally with espeak-ng (a system package the setup
//! installs), cached by content so a text is spoken once and reused by every later render.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use crate::base::env::EnvError;

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
    crate::base::lru::prune_lru(cached(cache_dir), limit, now.checked_sub(grace));
}

/// Marks a narration as used now (its modification time), so that pruning keeps it.
fn touch(path: &Path) {
    let _ = std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(SystemTime::now()));
}

/// How many narrations `cache_dir` holds, and their bytes.
pub fn cache_usage(cache_dir: &Path) -> crate::base::lru::Usage {
    crate::base::lru::Usage::of(&cached(cache_dir))
}

/// Removes every narration kept under `cache_dir` (they are spoken again when needed).
/// Returns what was removed.
///
/// # Errors
/// The first file that could not be removed.
pub fn clear_cache(cache_dir: &Path) -> std::io::Result<crate::base::lru::Usage> {
    crate::base::lru::remove_all(cached(cache_dir))
}

/// Why a narration could not be spoken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TtsError {
    /// espeak-ng is missing, rejects the voice or fails.
    #[error("{0}")]
    Speech(String),
    /// The speech cache folder cannot be written (full, read-only, not permitted): the
    /// machine's problem, not the narration's.
    #[error(transparent)]
    Env(#[from] EnvError),
}

/// What [`speak`] was doing when the cache folder failed.
const CACHE_WRITE: &str = "storing a spoken narration in the speech cache";

/// The cached WAV for `speech` under `cache_dir`, synthesising it first if needed.
/// espeak-ng writes the WAV to a pipe and reelsmith writes the file (beside its final name,
/// renamed into place, so a crash never leaves a truncated cache entry): a full or read-only
/// folder is then seen as such. (Given a file to write, espeak-ng ignores write errors and
/// exits 0 with a WAV cut short.)
///
/// # Errors
/// [`TtsError::Speech`] if espeak-ng is missing, rejects the voice, or fails;
/// [`TtsError::Env`] naming the cache folder if it cannot be written.
pub fn speak(cache_dir: &Path, speech: &Speech) -> Result<PathBuf, TtsError> {
    let key = fnv1a(&[
        // v2: v1 entries may hold a voice cut short by a full disk (espeak-ng's own `-w`).
        b"espeak-ng v2",
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
    let env = |e: std::io::Error| TtsError::Env(EnvError::new(CACHE_WRITE, cache_dir, e));
    std::fs::create_dir_all(cache_dir).map_err(env)?;
    let mut child = Command::new("espeak-ng")
        .args([
            "-v",
            &speech.voice,
            "-s",
            &speech.rate.to_string(),
            "-p",
            &speech.pitch.to_string(),
        ])
        .arg("--stdout")
        .arg("--stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            TtsError::Speech(if e.kind() == std::io::ErrorKind::NotFound {
                "espeak-ng is not installed (apt-get install espeak-ng), so text cannot be spoken"
                    .to_string()
            } else {
                format!("cannot run espeak-ng: {e}")
            })
        })?;
    // Written from another thread: espeak-ng's output pipe must be read meanwhile.
    let stdin = child.stdin.take();
    let text = speech.text.clone();
    let feeder = std::thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            let _ = stdin.write_all(text.as_bytes());
        }
    });
    let result = child.wait_with_output();
    let _ = feeder.join();
    let output = match result {
        Ok(o) if o.status.success() && !o.stdout.is_empty() => o,
        Ok(o) => {
            return Err(TtsError::Speech(format!(
                "espeak-ng could not speak with voice {:?}: {}",
                speech.voice,
                String::from_utf8_lossy(&o.stderr).trim()
            )))
        }
        Err(e) => return Err(TtsError::Speech(format!("espeak-ng failed: {e}"))),
    };
    let (spec, samples) = piped_wav(&output.stdout)?;
    let tmp = cache_dir.join(format!(".tts-{key:016x}.{}.partial", std::process::id()));
    let written = write_wav(&tmp, spec, &samples).and_then(|()| std::fs::rename(&tmp, &out));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(env(e));
    }
    prune(cache_dir, CACHE_LIMIT_BYTES, SystemTime::now(), CACHE_GRACE);
    Ok(out)
}

/// The format and samples of the WAV espeak-ng writes to a pipe (its header states a
/// placeholder length: the samples run to the end of the data).
fn piped_wav(bytes: &[u8]) -> Result<(hound::WavSpec, Vec<i16>), TtsError> {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes))
        .map_err(|e| TtsError::Speech(format!("espeak-ng wrote no readable WAV: {e}")))?;
    let spec = reader.spec();
    if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
        return Err(TtsError::Speech(format!(
            "espeak-ng wrote {}-bit samples (expected 16-bit integers)",
            spec.bits_per_sample
        )));
    }
    // The placeholder length runs past the pipe's end: take the samples that are there.
    let samples = reader.into_samples::<i16>().map_while(Result::ok).collect();
    Ok((spec, samples))
}

/// Writes a WAV with its real length and syncs it to disk.
fn write_wav(path: &Path, spec: hound::WavSpec, samples: &[i16]) -> std::io::Result<()> {
    let io = |e: hound::Error| match e {
        hound::Error::IoError(e) => e,
        other => std::io::Error::other(other.to_string()),
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut w = hound::WavWriter::new(&mut file, spec).map_err(io)?;
    for &s in samples {
        w.write_sample(s).map_err(io)?;
    }
    w.finalize().map_err(io)?;
    file.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// Removes `.tts-<key>.<pid>.partial` files left in `cache_dir` by a process that is gone
/// (killed while speaking): nobody will rename them. Best effort; without procfs nothing is
/// removed.
pub fn sweep_partials(cache_dir: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(rd) = std::fs::read_dir(cache_dir) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(".tts-")
            .and_then(|r| r.strip_suffix(".partial"))
            .and_then(|r| r.rsplit('.').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
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
