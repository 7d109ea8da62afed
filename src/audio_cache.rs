//! Encoded audio kept between renders, by content.
//!
//! Mixing, mastering (loudness passes, limiter) and AAC-encoding a 3-minute timeline costs
//! about 15 s of CPU, the same at any picture size: an eighth of a 1080p render, a fifth of a
//! 720p one. A render whose audio is exactly what an earlier render encoded (the same tracks
//! at the same places, the same source files byte for byte, the same loudness settings and
//! bitrate, the same reelsmith and libavcodec) copies that render's AAC packets instead. That
//! is the common case when a training module is re-rendered after a change to its slides.
//!
//! An entry is one file, `<media_root>/assets/audio/encoded/<key>.aac`, named by the SHA-256
//! of everything the packets depend on ([`key`]). It is written inside the render's temporary
//! folder while the audio is encoded and renamed into place when the whole timeline is done,
//! so a cache file is always complete; a file that fails any check is removed and the audio
//! is encoded again. The folder is kept under [`LIMIT_BYTES`] (least recently used first).
//!
//! File layout: [`MAGIC`], then one record per packet (`b'P'`, pts, dts, duration as i64 LE,
//! a key-frame byte, the size as u32 LE, the bytes), then `b'E'`, a JSON [`Footer`], its length
//! as u64 LE and `b"END!"`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::master::LoudnessReport;
use crate::timeline::{Plan, SAMPLE_RATE};

/// First bytes of an entry; the number is the layout's version.
pub const MAGIC: &[u8; 14] = b"reelsmith-aac\x01";
const TAIL: &[u8; 4] = b"END!";
/// Largest packet an entry may hold (an AAC frame is at most 6144 bits per channel).
const MAX_PACKET: u32 = 1 << 16;
/// Size the cache folder is kept under: ~90 three-minute modules at 128 kbit/s.
pub const LIMIT_BYTES: u64 = 256 << 20;

/// What an entry says about itself, after its packets.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Footer {
    /// Samples per channel encoded.
    pub samples: u64,
    /// Packets before the footer.
    pub packets: u64,
    /// The AAC encoder's extradata (AudioSpecificConfig) the packets belong to.
    pub extradata: Vec<u8>,
    /// The loudness of the delivered audio, as its render measured it.
    pub loudness: LoudnessReport,
}

/// One stored AAC packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPacket {
    /// Presentation time, in samples.
    pub pts: i64,
    /// Decode time, in samples.
    pub dts: i64,
    /// Duration, in samples.
    pub duration: i64,
    /// A key (independently decodable) packet.
    pub key: bool,
    /// The payload.
    pub data: Vec<u8>,
}

/// The identity of a render's encoded audio: the SHA-256 (hex) of the layout version,
/// reelsmith's and libavcodec's versions, the bitrate, the timeline's length, the loudness
/// settings, every track as planned and the bytes of every source file.
///
/// # Errors
/// A source file that cannot be read (the render reports it when it loads the audio).
pub fn key(plan: &Plan, bitrate: usize) -> std::io::Result<String> {
    let mut h = Sha256::new();
    h.update(MAGIC);
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update(ffmpeg_next::codec::version().to_le_bytes());
    h.update((bitrate as u64).to_le_bytes());
    h.update(u64::from(SAMPLE_RATE).to_le_bytes());
    h.update(plan.total_samples.to_le_bytes());
    h.update(format!("{:?}", plan.loudness).as_bytes());
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

/// The cache folder.
#[derive(Debug, Clone)]
pub struct AudioCache {
    dir: PathBuf,
}

impl AudioCache {
    /// The cache in `dir` (created when the first entry is stored).
    pub fn new(dir: PathBuf) -> AudioCache {
        AudioCache { dir }
    }

    /// Where the entry of `key` lives.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.aac"))
    }

    /// The entry of `key`, checked (layout, footer), if there is one. A file that fails a
    /// check is removed. Opening marks the entry as recently used.
    pub fn open(&self, key: &str) -> Option<Entry> {
        let path = self.path(key);
        if !path.is_file() {
            return None;
        }
        match Entry::open(&path) {
            Ok(e) => {
                if let Ok(f) = File::options().write(true).open(&path) {
                    let _ = f.set_modified(std::time::SystemTime::now());
                }
                Some(e)
            }
            Err(why) => {
                tracing::warn!(
                    "audio cache entry {} is unusable ({why}); removed",
                    path.display()
                );
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Starts an entry for `key`, written at `temp` (inside the render's temporary folder)
    /// until [`Store::finish`] moves it into the cache.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn store(&self, key: &str, temp: PathBuf) -> std::io::Result<Store> {
        let mut out = BufWriter::new(File::create(&temp)?);
        out.write_all(MAGIC)?;
        Ok(Store {
            out,
            temp,
            dest: self.path(key),
            dir: self.dir.clone(),
            packets: 0,
        })
    }

    /// Removes the least recently used entries until the folder holds at most `limit` bytes.
    pub fn prune(&self, limit: u64) {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = rd
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "aac"))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= limit {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// An entry being written.
#[derive(Debug)]
pub struct Store {
    out: BufWriter<File>,
    temp: PathBuf,
    dest: PathBuf,
    dir: PathBuf,
    packets: u64,
}

impl Store {
    /// Appends a packet.
    ///
    /// # Errors
    /// Writing failed (the entry is then abandoned by the caller).
    pub fn add(&mut self, p: &StoredPacket) -> std::io::Result<()> {
        let size = u32::try_from(p.data.len())
            .ok()
            .filter(|&n| n <= MAX_PACKET)
            .ok_or_else(|| std::io::Error::other("packet too large"))?;
        self.out.write_all(b"P")?;
        self.out.write_all(&p.pts.to_le_bytes())?;
        self.out.write_all(&p.dts.to_le_bytes())?;
        self.out.write_all(&p.duration.to_le_bytes())?;
        self.out.write_all(&[u8::from(p.key)])?;
        self.out.write_all(&size.to_le_bytes())?;
        self.out.write_all(&p.data)?;
        self.packets += 1;
        Ok(())
    }

    /// Writes the footer and moves the entry into the cache (then keeps the cache under
    /// [`LIMIT_BYTES`]).
    ///
    /// # Errors
    /// Writing or renaming failed; the temporary file goes with the render's folder.
    pub fn finish(mut self, mut footer: Footer) -> std::io::Result<PathBuf> {
        footer.packets = self.packets;
        let json = serde_json::to_vec(&footer).map_err(std::io::Error::other)?;
        self.out.write_all(b"E")?;
        self.out.write_all(&json)?;
        self.out.write_all(&(json.len() as u64).to_le_bytes())?;
        self.out.write_all(TAIL)?;
        self.out.flush()?;
        drop(self.out);
        std::fs::create_dir_all(&self.dir)?;
        std::fs::rename(&self.temp, &self.dest)?;
        AudioCache::new(self.dir).prune(LIMIT_BYTES);
        Ok(self.dest)
    }
}

/// An entry being read.
#[derive(Debug)]
pub struct Entry {
    path: PathBuf,
    input: BufReader<File>,
    /// What the entry says about itself.
    pub footer: Footer,
    read: u64,
}

impl Entry {
    fn open(path: &Path) -> Result<Entry, String> {
        let mut f = File::open(path).map_err(|e| e.to_string())?;
        let mut magic = [0u8; MAGIC.len()];
        f.read_exact(&mut magic).map_err(|e| e.to_string())?;
        if &magic != MAGIC {
            return Err("not an entry of this version".into());
        }
        let len = f.metadata().map_err(|e| e.to_string())?.len();
        let min = (MAGIC.len() + 1 + 8 + TAIL.len()) as u64;
        if len < min {
            return Err("truncated".into());
        }
        f.seek(SeekFrom::End(-12)).map_err(|e| e.to_string())?;
        let mut tail = [0u8; 12];
        f.read_exact(&mut tail).map_err(|e| e.to_string())?;
        if &tail[8..] != TAIL {
            return Err("incomplete (no footer)".into());
        }
        let json_len = u64::from_le_bytes(tail[..8].try_into().unwrap_or([0; 8]));
        if json_len + min > len {
            return Err("bad footer length".into());
        }
        let at = len - 12 - json_len;
        f.seek(SeekFrom::Start(at - 1)).map_err(|e| e.to_string())?;
        let mut json = vec![0u8; json_len as usize + 1];
        f.read_exact(&mut json).map_err(|e| e.to_string())?;
        if json[0] != b'E' {
            return Err("bad footer".into());
        }
        let footer: Footer = serde_json::from_slice(&json[1..]).map_err(|e| e.to_string())?;
        f.seek(SeekFrom::Start(MAGIC.len() as u64))
            .map_err(|e| e.to_string())?;
        Ok(Entry {
            path: path.to_path_buf(),
            input: BufReader::new(f),
            footer,
            read: 0,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The next packet, `None` after the last one.
    ///
    /// # Errors
    /// The file is damaged or cannot be read.
    pub fn next_packet(&mut self) -> Result<Option<StoredPacket>, String> {
        let mut tag = [0u8; 1];
        self.input.read_exact(&mut tag).map_err(|e| e.to_string())?;
        match tag[0] {
            b'E' if self.read == self.footer.packets => return Ok(None),
            b'E' => {
                return Err(format!(
                    "{} packets where the footer says {}",
                    self.read, self.footer.packets
                ))
            }
            b'P' => {}
            other => return Err(format!("bad record tag {other}")),
        }
        let mut head = [0u8; 29];
        self.input
            .read_exact(&mut head)
            .map_err(|e| e.to_string())?;
        let i64_at = |i: usize| i64::from_le_bytes(head[i..i + 8].try_into().unwrap_or([0; 8]));
        let size = u32::from_le_bytes(head[25..29].try_into().unwrap_or([0; 4]));
        if size > MAX_PACKET {
            return Err(format!("packet of {size} bytes"));
        }
        let mut data = vec![0u8; size as usize];
        self.input
            .read_exact(&mut data)
            .map_err(|e| e.to_string())?;
        self.read += 1;
        Ok(Some(StoredPacket {
            pts: i64_at(0),
            dts: i64_at(8),
            duration: i64_at(16),
            key: head[24] != 0,
            data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(i: i64) -> StoredPacket {
        StoredPacket {
            pts: i * 1024 - 1024,
            dts: i * 1024 - 1024,
            duration: 1024,
            key: true,
            data: (0..(i as u8 % 7 + 1) * 30).collect(),
        }
    }

    fn footer() -> Footer {
        Footer {
            samples: 48_000,
            packets: 0,
            extradata: vec![0x11, 0x90],
            loudness: LoudnessReport::default(),
        }
    }

    #[test]
    fn an_entry_reads_back_what_was_stored_and_damage_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = AudioCache::new(dir.path().join("cache"));
        let mut s = cache.store("k", dir.path().join("k.part")).expect("store");
        let stored: Vec<StoredPacket> = (0..50).map(packet).collect();
        for p in &stored {
            s.add(p).expect("add");
        }
        let path = s.finish(footer()).expect("finish");
        assert!(!dir.path().join("k.part").exists());

        let mut e = cache.open("k").expect("entry");
        assert_eq!(e.footer.packets, 50);
        assert_eq!(e.footer.extradata, vec![0x11, 0x90]);
        let mut back = Vec::new();
        while let Some(p) = e.next_packet().expect("packet") {
            back.push(p);
        }
        assert_eq!(back, stored);

        // Cut short: no footer, refused and removed.
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
        assert!(cache.open("k").is_none());
        assert!(!path.exists());
        // Something else under the name: refused.
        std::fs::write(&path, b"hello").expect("write");
        assert!(cache.open("k").is_none());
        // A packet count that does not match the footer: an error while reading.
        let mut broken = bytes.clone();
        let footer_at = bytes.len() - 12 - {
            let n: [u8; 8] = bytes[bytes.len() - 12..bytes.len() - 4]
                .try_into()
                .expect("8");
            u64::from_le_bytes(n) as usize
        };
        // Drop the last packet record (tag + 29 + its payload) before the footer.
        let last = &stored[49];
        let rec = 1 + 29 + last.data.len();
        broken.drain(footer_at - 1 - rec..footer_at - 1);
        std::fs::write(&path, &broken).expect("write");
        let mut e = cache.open("k").expect("entry");
        let err = loop {
            match e.next_packet() {
                Ok(Some(_)) => {}
                Ok(None) => panic!("a short entry read as whole"),
                Err(e) => break e,
            }
        };
        assert!(err.contains("49 packets"), "{err}");
    }

    #[test]
    fn pruning_keeps_the_most_recently_used_entries() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = AudioCache::new(dir.path().to_path_buf());
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            let mut s = cache
                .store(k, dir.path().join(format!("{k}.part")))
                .expect("store");
            for j in 0..100 {
                s.add(&packet(j)).expect("add");
            }
            s.finish(footer()).expect("finish");
            let t =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 * i as u64);
            File::options()
                .write(true)
                .open(cache.path(k))
                .and_then(|f| f.set_modified(t))
                .expect("mtime");
        }
        // Using "a" makes it the most recent.
        assert!(cache.open("a").is_some());
        let one = std::fs::metadata(cache.path("b")).expect("b").len();
        cache.prune(one * 2);
        assert!(cache.path("a").exists());
        assert!(
            !cache.path("b").exists(),
            "the least recently used goes first"
        );
        assert!(cache.path("c").exists());
    }
}
