//! Encoded packets kept between renders, by content: the scene cache ([`scenes`]) and the
//! audio cache ([`audio`]), each a folder of packet files ([`crate::encode::packets`]).
//!
//! An entry is one file, `<dir>/<key>.<ext>`, named by the SHA-256 of everything its packets
//! depend on (each cache makes its own key). It is written inside the render's temporary
//! folder and renamed into place when complete, so a cache file is always whole; a file that
//! fails any check when opened (layout, record structure, packet count, footer) is removed
//! and its packets are made again. A folder is kept under its [`Layout::limit_bytes`] (least
//! recently used entries go first; opening an entry marks it used).

use std::fs::File;
use std::path::{Path, PathBuf};

pub mod audio;
pub mod scenes;

pub use crate::base::lru::{prune_lru, remove_all, Usage};
pub use crate::encode::packets::{Entry, Layout, Store, StoredPacket};

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
        Store::create(temp, self.path(key), self.layout)
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
        crate::base::lru::entries(&self.dir, self.layout.ext)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::packets::HEAD;

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
