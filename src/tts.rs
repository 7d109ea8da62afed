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
/// is written beside its final name, synced and renamed into place, so a crash or a full
/// disk never leaves a truncated cache entry; the partial files of killed processes are
/// removed here (and by [`sweep_partials`] at each render's start).
///
/// # Errors
/// A message if espeak-ng is missing, rejects the voice, or fails, or if the file cannot be
/// written (no space, a file size limit).
pub fn synthesize(cache_dir: &Path, speech: &Speech) -> Result<PathBuf, String> {
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
    std::fs::create_dir_all(cache_dir)
        .map_err(|e| format!("cannot create {}: {e}", cache_dir.display()))?;
    sweep_partials(cache_dir);
    let tmp = cache_dir.join(format!(".tts-{key:016x}.{}.partial", std::process::id()));
    // espeak-ng writes its WAV to our pipe and we write the file: espeak-ng's own `-w` exits 0
    // with a cut WAV (its header fixed to the cut length) when the disk fills or a file size
    // limit is hit, and that cut voice would be cached for every later render.
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
            if e.kind() == std::io::ErrorKind::NotFound {
                "espeak-ng is not installed (apt-get install espeak-ng), so text cannot be spoken"
                    .to_string()
            } else {
                format!("cannot run espeak-ng: {e}")
            }
        })?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stored = std::thread::scope(|s| {
        // Fed from a thread of its own: espeak-ng may start writing before it has read all.
        s.spawn(move || {
            if let Some(mut stdin) = stdin {
                let _ = stdin.write_all(speech.text.as_bytes());
            }
        });
        let mut stdout = stdout.ok_or_else(|| "espeak-ng gave no output pipe".to_string())?;
        let mut file = std::fs::File::create(&tmp)
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        store_wav(&mut stdout, &mut file)
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))
    });
    let result = child
        .wait_with_output()
        .map_err(|e| format!("espeak-ng failed: {e}"));
    let spoke = matches!(&result, Ok(o) if o.status.success());
    if !spoke || stored.is_err() {
        let _ = std::fs::remove_file(&tmp);
        if let Err(e) = stored {
            // Our own write failed (no space, a size limit): say so, not the voice's fault.
            // (When espeak-ng itself failed it gave no WAV; its message says why.)
            if spoke || !e.contains("espeak-ng gave") {
                return Err(e);
            }
        }
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

/// Copies espeak-ng's streamed WAV from `from` into `to`, then writes the real lengths into
/// its header (a stream cannot seek back: espeak-ng leaves placeholders there) and syncs the
/// file. Returns the bytes written.
///
/// # Errors
/// Any read, write or sync error (no space, a file size limit), or a stream that is not a
/// canonical 44-byte-header WAV with samples.
fn store_wav(from: &mut impl std::io::Read, to: &mut std::fs::File) -> std::io::Result<u64> {
    use std::io::{Error, ErrorKind, Read, Seek, SeekFrom};
    let mut head = [0u8; 44];
    from.read_exact(&mut head).map_err(|e| {
        Error::new(
            ErrorKind::InvalidData,
            format!("espeak-ng gave no WAV: {e}"),
        )
    })?;
    if &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" || &head[36..40] != b"data" {
        return Err(Error::new(
            ErrorKind::InvalidData,
            "espeak-ng gave no WAV header",
        ));
    }
    to.write_all(&head)?;
    let data = std::io::copy(&mut from.take(u64::from(u32::MAX) - 44), to)?;
    if data == 0 {
        return Err(Error::new(
            ErrorKind::InvalidData,
            "espeak-ng gave no samples",
        ));
    }
    let data32 = u32::try_from(data)
        .map_err(|_| Error::new(ErrorKind::InvalidData, "speech longer than a WAV holds"))?;
    to.seek(SeekFrom::Start(4))?;
    to.write_all(&(data32 + 36).to_le_bytes())?;
    to.seek(SeekFrom::Start(40))?;
    to.write_all(&data32.to_le_bytes())?;
    to.sync_all()?;
    Ok(data + 44)
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

    /// A WAV as espeak-ng streams it to a pipe: placeholder lengths in the header.
    fn streamed_wav(samples: usize) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(b"RIFF\x24\xf0\xff\x7fWAVEfmt ");
        v.extend_from_slice(&[16, 0, 0, 0, 1, 0, 1, 0, 0x22, 0x56, 0, 0, 0x44, 0xac, 0, 0]);
        v.extend_from_slice(&[2, 0, 16, 0]);
        v.extend_from_slice(b"data\x00\xf0\xff\x7f");
        v.extend((0..samples * 2).map(|i| (i % 251) as u8));
        v
    }

    #[test]
    fn a_stored_voice_has_its_real_lengths_in_the_header() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("v.wav");
        let mut f = std::fs::File::create(&path).expect("create");
        let n = store_wav(&mut streamed_wav(1000).as_slice(), &mut f).expect("store");
        drop(f);
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(n, 2044);
        assert_eq!(bytes.len(), 2044);
        assert_eq!(&bytes[4..8], &2036u32.to_le_bytes());
        assert_eq!(&bytes[40..44], &2000u32.to_le_bytes());
        assert_eq!(&bytes[44..], &streamed_wav(1000)[44..]);
    }

    #[test]
    fn a_full_disk_is_an_error_not_a_shorter_voice() {
        // /dev/full: every write fails with ENOSPC, as on a full media root. espeak-ng's own
        // `-w FILE` exits 0 there with a cut WAV; our copy must fail instead.
        let Ok(mut full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
            return;
        };
        let err = store_wav(&mut streamed_wav(100_000).as_slice(), &mut full)
            .expect_err("a write to /dev/full succeeded");
        assert_eq!(err.raw_os_error(), Some(28), "{err}");
        // Not a WAV at all (espeak-ng failed): an error too.
        let dir = tempfile::tempdir().expect("tmp");
        let mut f = std::fs::File::create(dir.path().join("x")).expect("create");
        assert!(store_wav(&mut &b"not a wav"[..], &mut f).is_err());
        assert!(store_wav(&mut streamed_wav(0).as_slice(), &mut f).is_err());
    }

    #[test]
    fn partial_files_of_dead_processes_are_swept() {
        let dir = tempfile::tempdir().expect("tmp");
        // pid 0 is never a process of ours; our own pid is alive.
        let dead = dir.path().join(".tts-00000000000000aa.0.partial");
        let ours = dir.path().join(format!(
            ".tts-00000000000000bb.{}.partial",
            std::process::id()
        ));
        let entry = dir.path().join("tts-00000000000000cc.wav");
        for p in [&dead, &ours, &entry] {
            std::fs::write(p, b"x").expect("write");
        }
        sweep_partials(dir.path());
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists());
        }
        assert!(ours.exists() && entry.exists());
    }

    #[test]
    fn a_spoken_narration_is_a_whole_wav() {
        if Command::new("espeak-ng").arg("--version").output().is_err() {
            return; // scripts/setup.sh installs it; other machines may lack it
        }
        let dir = tempfile::tempdir().expect("tmp");
        let speech = Speech {
            text: "Keep the load close.".into(),
            voice: "en-us".into(),
            rate: 200,
            pitch: 50,
        };
        let path = synthesize(dir.path(), &speech).unwrap_or_else(|e| panic!("{e}"));
        let bytes = std::fs::read(&path).expect("read");
        let data = u32::from_le_bytes([bytes[40], bytes[41], bytes[42], bytes[43]]) as usize;
        assert!(data > 10_000, "{data} bytes of samples");
        assert_eq!(data + 44, bytes.len());
        // Nothing but the entry is left in the folder.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
