//! Encoded packets kept between renders, by content: the file layer under the audio cache
//! ([`crate::audio_cache`]) and the scene cache ([`crate::segment_cache`]).
//!
//! An entry is one file, `<dir>/<key>.<ext>`, named by the SHA-256 of everything its packets
//! depend on (each cache makes its own key). It is written inside the render's temporary
//! folder and renamed into place when complete, so a cache file is always whole; a file that
//! fails any check when opened (layout, record structure, packet count, footer) is removed
//! and its packets are made again. A folder is kept under its [`Layout::limit_bytes`] (least
//! recently used entries go first; opening an entry marks it used).
//!
//! File layout: the layout's magic bytes, then one record per packet (`b'P'`, pts, dts,
//! duration as i64 LE, a key-frame byte, the size as u32 LE, the bytes), then `b'E'`, a JSON
//! footer (`{"packets": N, "digest": SHA-256 of the records, "meta": …}`, the meta being the
//! cache's own), its length as u64 LE and `b"END!"`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

const TAIL: &[u8; 4] = b"END!";
/// Bytes of a record's head after its tag: pts, dts, duration, key byte, size.
const HEAD: usize = 29;

/// Identifies the running build: reelsmith's version and the running executable's size and
/// modification time. Entries made by another build (say a binary rebuilt during development,
/// whose drawing or encoding may differ) are then not reused.
pub fn build_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe()
            .and_then(std::fs::metadata)
            .ok()
            .map(|m| {
                let t = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_nanos());
                format!("{}:{t}", m.len())
            })
            .unwrap_or_default();
        format!("{} {exe}", env!("CARGO_PKG_VERSION"))
    })
}

/// What sets one cache's files apart.
#[derive(Debug)]
pub struct Layout {
    /// First bytes of an entry; ends with the layout's version.
    pub magic: &'static [u8],
    /// File name extension of entries.
    pub ext: &'static str,
    /// Largest packet an entry may hold.
    pub max_packet: u32,
    /// Size the folder is kept under.
    pub limit_bytes: u64,
    /// What the entries hold, for messages ("audio", "scene").
    pub what: &'static str,
}

/// One stored packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPacket {
    /// Presentation time (the cache's unit).
    pub pts: i64,
    /// Decode time.
    pub dts: i64,
    /// Duration.
    pub duration: i64,
    /// A key (independently decodable) packet.
    pub key: bool,
    /// The payload.
    pub data: Vec<u8>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Footer<M> {
    packets: u64,
    /// SHA-256 (hex) of the records.
    digest: String,
    meta: M,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A cache folder.
#[derive(Debug, Clone)]
pub struct PacketCache {
    dir: PathBuf,
    layout: &'static Layout,
}

impl PacketCache {
    /// The cache in `dir` (created when the first entry is stored).
    pub fn new(dir: PathBuf, layout: &'static Layout) -> PacketCache {
        PacketCache { dir, layout }
    }

    /// Where the entry of `key` lives.
    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.{}", self.layout.ext))
    }

    /// The entry of `key`, checked (layout, every record, footer), if there is one. A file
    /// that fails a check is removed. Opening marks the entry as recently used.
    pub fn open<M: serde::de::DeserializeOwned>(&self, key: &str) -> Option<Entry<M>> {
        let path = self.path(key);
        if !path.is_file() {
            return None;
        }
        match Entry::open(&path, self.layout) {
            Ok(e) => {
                if let Ok(f) = File::options().write(true).open(&path) {
                    let _ = f.set_modified(std::time::SystemTime::now());
                }
                Some(e)
            }
            Err(why) => {
                tracing::warn!(
                    "{} cache entry {} is unusable ({why}); removed",
                    self.layout.what,
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
        out.write_all(self.layout.magic)?;
        Ok(Store {
            out,
            temp,
            dest: self.path(key),
            cache: self.clone(),
            packets: 0,
            digest: Sha256::new(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The size the folder is kept under.
    pub fn limit_bytes(&self) -> u64 {
        self.layout.limit_bytes
    }

    /// The entries in the folder: (last modified, bytes, path). Other files are not counted.
    fn entries(&self) -> Vec<(std::time::SystemTime, u64, PathBuf)> {
        let Ok(rd) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        rd.flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == self.layout.ext))
            .filter_map(|e| {
                let m = e.metadata().ok()?;
                Some((m.modified().ok()?, m.len(), e.path()))
            })
            .collect()
    }

    /// How many entries the folder holds, and their bytes.
    pub fn usage(&self) -> Usage {
        Usage::of(&self.entries())
    }

    /// Removes every entry (other files in the folder stay). A render that is using one
    /// keeps reading it (the file lives on until closed). Returns what was removed.
    ///
    /// # Errors
    /// The first entry that could not be removed.
    pub fn clear(&self) -> std::io::Result<Usage> {
        remove_all(self.entries())
    }

    /// Removes the least recently used entries until the folder holds at most `limit` bytes.
    pub fn prune(&self, limit: u64) {
        prune_lru(self.entries(), limit, None);
    }
}

/// Removes the least recently used of `files` (last used, bytes, path) until they hold at
/// most `limit` bytes, never one used at or after `keep_since`.
pub fn prune_lru(
    mut files: Vec<(std::time::SystemTime, u64, PathBuf)>,
    limit: u64,
    keep_since: Option<std::time::SystemTime>,
) {
    let mut total: u64 = files.iter().map(|e| e.1).sum();
    files.sort();
    for (used, len, path) in files {
        if total <= limit || keep_since.is_some_and(|t| used >= t) {
            break;
        }
        if std::fs::remove_file(&path).is_ok() {
            total -= len;
        }
    }
}

/// Removes cache files listed as (last used, bytes, path); one already gone (another process
/// removed it first) is skipped. Returns what was removed.
///
/// # Errors
/// The first file that could not be removed.
pub fn remove_all(
    files: impl IntoIterator<Item = (std::time::SystemTime, u64, PathBuf)>,
) -> std::io::Result<Usage> {
    let mut removed = Usage::default();
    for (_, len, path) in files {
        match std::fs::remove_file(&path) {
            Ok(()) => {
                removed.entries += 1;
                removed.bytes += len;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

/// Entries in a cache folder and their size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Usage {
    /// Entries.
    pub entries: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Usage {
    /// Of cache files listed as (last used, bytes, path).
    pub fn of(files: &[(std::time::SystemTime, u64, PathBuf)]) -> Usage {
        Usage {
            entries: files.len() as u64,
            bytes: files.iter().map(|f| f.1).sum(),
        }
    }
}

/// An entry being written.
#[derive(Debug)]
pub struct Store {
    out: BufWriter<File>,
    temp: PathBuf,
    dest: PathBuf,
    cache: PacketCache,
    packets: u64,
    digest: Sha256,
}

impl Store {
    /// Appends a packet.
    ///
    /// # Errors
    /// Writing failed, or the packet is larger than the layout allows (the entry is then
    /// abandoned by the caller).
    pub fn add(&mut self, p: &StoredPacket) -> std::io::Result<()> {
        let size = u32::try_from(p.data.len())
            .ok()
            .filter(|&n| n <= self.cache.layout.max_packet)
            .ok_or_else(|| std::io::Error::other("packet too large"))?;
        let mut head = [0u8; 1 + HEAD];
        head[0] = b'P';
        head[1..9].copy_from_slice(&p.pts.to_le_bytes());
        head[9..17].copy_from_slice(&p.dts.to_le_bytes());
        head[17..25].copy_from_slice(&p.duration.to_le_bytes());
        head[25] = u8::from(p.key);
        head[26..30].copy_from_slice(&size.to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(&p.data)?;
        self.digest.update(head);
        self.digest.update(&p.data);
        self.packets += 1;
        Ok(())
    }

    /// Packets added so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Writes the footer and moves the entry into the cache (then keeps the cache under its
    /// size limit).
    ///
    /// # Errors
    /// Writing or renaming failed; the temporary file goes with the render's folder.
    pub fn finish<M: serde::Serialize>(mut self, meta: M) -> std::io::Result<PathBuf> {
        let footer = Footer {
            packets: self.packets,
            digest: hex(&self.digest.finalize_reset()),
            meta,
        };
        let json = serde_json::to_vec(&footer).map_err(std::io::Error::other)?;
        self.out.write_all(b"E")?;
        self.out.write_all(&json)?;
        self.out.write_all(&(json.len() as u64).to_le_bytes())?;
        self.out.write_all(TAIL)?;
        self.out.flush()?;
        drop(self.out);
        std::fs::create_dir_all(&self.cache.dir)?;
        std::fs::rename(&self.temp, &self.dest)?;
        self.cache.prune(self.cache.layout.limit_bytes);
        Ok(self.dest)
    }
}

/// An entry being read.
#[derive(Debug)]
pub struct Entry<M> {
    path: PathBuf,
    input: BufReader<File>,
    max_packet: u32,
    /// What the entry says about itself (the cache's own footer).
    pub meta: M,
    packets: u64,
    read: u64,
}

impl<M: serde::de::DeserializeOwned> Entry<M> {
    fn open(path: &Path, layout: &Layout) -> Result<Entry<M>, String> {
        let err = |e: std::io::Error| e.to_string();
        let mut f = File::open(path).map_err(err)?;
        let mut magic = vec![0u8; layout.magic.len()];
        f.read_exact(&mut magic).map_err(err)?;
        if magic != layout.magic {
            return Err("not an entry of this version".into());
        }
        let len = f.metadata().map_err(err)?.len();
        let min = (layout.magic.len() + 1 + 8 + TAIL.len()) as u64;
        if len < min {
            return Err("truncated".into());
        }
        f.seek(SeekFrom::End(-12)).map_err(err)?;
        let mut tail = [0u8; 12];
        f.read_exact(&mut tail).map_err(err)?;
        if &tail[8..] != TAIL {
            return Err("incomplete (no footer)".into());
        }
        let json_len = u64::from_le_bytes(tail[..8].try_into().unwrap_or([0; 8]));
        // `len >= min` (checked above); a length near u64::MAX must not wrap around.
        if json_len > len - min {
            return Err("bad footer length".into());
        }
        let footer_at = len - 12 - json_len - 1;
        f.seek(SeekFrom::Start(footer_at)).map_err(err)?;
        let mut json = vec![0u8; json_len as usize + 1];
        f.read_exact(&mut json).map_err(err)?;
        if json[0] != b'E' {
            return Err("bad footer".into());
        }
        let footer: Footer<M> = serde_json::from_slice(&json[1..]).map_err(|e| e.to_string())?;
        // Every record, so that a damaged entry is refused before anything is used.
        let mut input = BufReader::new(f);
        let mut at = layout.magic.len() as u64;
        input.seek(SeekFrom::Start(at)).map_err(err)?;
        let mut n = 0u64;
        let mut head = [0u8; 1 + HEAD];
        let mut digest = Sha256::new();
        let mut data = Vec::new();
        while at < footer_at {
            input.read_exact(&mut head).map_err(err)?;
            if head[0] != b'P' {
                return Err(format!("bad record tag {} at byte {at}", head[0]));
            }
            let size = u32::from_le_bytes(head[26..30].try_into().unwrap_or([0; 4]));
            if size > layout.max_packet || at + (1 + HEAD) as u64 + u64::from(size) > footer_at {
                return Err(format!("a packet of {size} bytes at byte {at}"));
            }
            data.resize(size as usize, 0);
            input.read_exact(&mut data).map_err(err)?;
            digest.update(head);
            digest.update(&data);
            at += (1 + HEAD) as u64 + u64::from(size);
            n += 1;
        }
        if n != footer.packets {
            return Err(format!(
                "{n} packets where the footer says {}",
                footer.packets
            ));
        }
        if hex(&digest.finalize()) != footer.digest {
            return Err("damaged (its packets do not match its digest)".into());
        }
        input
            .seek(SeekFrom::Start(layout.magic.len() as u64))
            .map_err(err)?;
        Ok(Entry {
            path: path.to_path_buf(),
            input,
            max_packet: layout.max_packet,
            meta: footer.meta,
            packets: footer.packets,
            read: 0,
        })
    }
}

impl<M> Entry<M> {
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Packets in the entry.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// The next packet, `None` after the last one.
    ///
    /// # Errors
    /// The file changed since it was opened, or cannot be read.
    pub fn next_packet(&mut self) -> Result<Option<StoredPacket>, String> {
        if self.read == self.packets {
            return Ok(None);
        }
        let mut head = [0u8; 1 + HEAD];
        self.input
            .read_exact(&mut head)
            .map_err(|e| e.to_string())?;
        if head[0] != b'P' {
            return Err(format!("bad record tag {}", head[0]));
        }
        let i64_at = |i: usize| i64::from_le_bytes(head[i..i + 8].try_into().unwrap_or([0; 8]));
        let size = u32::from_le_bytes(head[26..30].try_into().unwrap_or([0; 4]));
        if size > self.max_packet {
            return Err(format!("packet of {size} bytes"));
        }
        let mut data = vec![0u8; size as usize];
        self.input
            .read_exact(&mut data)
            .map_err(|e| e.to_string())?;
        self.read += 1;
        Ok(Some(StoredPacket {
            pts: i64_at(1),
            dts: i64_at(9),
            duration: i64_at(17),
            key: head[25] != 0,
            data,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TEST: Layout = Layout {
        magic: b"reelsmith-test\x01",
        ext: "tst",
        max_packet: 1 << 16,
        limit_bytes: 1 << 20,
        what: "test",
    };

    fn packet(i: i64) -> StoredPacket {
        StoredPacket {
            pts: i * 1024 - 1024,
            dts: i * 1024 - 1024,
            duration: 1024,
            key: i % 3 == 0,
            data: (0..(i as u8 % 7 + 1) * 30).collect(),
        }
    }

    #[test]
    fn an_entry_reads_back_what_was_stored_and_damage_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = PacketCache::new(dir.path().join("cache"), &TEST);
        let mut s = cache.store("k", dir.path().join("k.part")).expect("store");
        let stored: Vec<StoredPacket> = (0..50).map(packet).collect();
        for p in &stored {
            s.add(p).expect("add");
        }
        let path = s.finish(vec![0x11u8, 0x90]).expect("finish");
        assert!(!dir.path().join("k.part").exists());

        let mut e = cache.open::<Vec<u8>>("k").expect("entry");
        assert_eq!(e.packets(), 50);
        assert_eq!(e.meta, vec![0x11, 0x90]);
        let mut back = Vec::new();
        while let Some(p) = e.next_packet().expect("packet") {
            back.push(p);
        }
        assert_eq!(back, stored);

        // Cut short: no footer, refused and removed.
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("write");
        assert!(cache.open::<Vec<u8>>("k").is_none());
        assert!(!path.exists());
        // Something else under the name: refused.
        std::fs::write(&path, b"hello").expect("write");
        assert!(cache.open::<Vec<u8>>("k").is_none());
        // A packet record missing before the footer: refused when opened, and removed.
        let footer_at = bytes.len() - 12 - {
            let n: [u8; 8] = bytes[bytes.len() - 12..bytes.len() - 4]
                .try_into()
                .expect("8");
            u64::from_le_bytes(n) as usize
        };
        let mut broken = bytes.clone();
        let rec = 1 + HEAD + stored[49].data.len();
        broken.drain(footer_at - 1 - rec..footer_at - 1);
        std::fs::write(&path, &broken).expect("write");
        assert!(cache.open::<Vec<u8>>("k").is_none());
        assert!(!path.exists());
        // A damaged record head (its size runs past the footer): refused.
        let mut broken = bytes.clone();
        broken[TEST.magic.len() + 26] = 0xFF;
        std::fs::write(&path, &broken).expect("write");
        assert!(cache.open::<Vec<u8>>("k").is_none());
        // One payload byte changed: refused (the digest).
        let mut broken = bytes.clone();
        broken[TEST.magic.len() + 1 + HEAD + 3] ^= 0x40;
        std::fs::write(&path, &broken).expect("write");
        assert!(cache.open::<Vec<u8>>("k").is_none());
        // The intact entry again: accepted.
        std::fs::write(&path, &bytes).expect("write");
        assert!(cache.open::<Vec<u8>>("k").is_some());
    }

    #[test]
    fn pruning_keeps_the_most_recently_used_entries() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = PacketCache::new(dir.path().to_path_buf(), &TEST);
        for (i, k) in ["a", "b", "c"].iter().enumerate() {
            let mut s = cache
                .store(k, dir.path().join(format!("{k}.part")))
                .expect("store");
            for j in 0..100 {
                s.add(&packet(j)).expect("add");
            }
            s.finish(0u8).expect("finish");
            let t =
                std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1000 * i as u64);
            File::options()
                .write(true)
                .open(cache.path(k))
                .and_then(|f| f.set_modified(t))
                .expect("mtime");
        }
        // Using "a" makes it the most recent.
        assert!(cache.open::<u8>("a").is_some());
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
