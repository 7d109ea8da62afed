//! Files of encoded packets: a closed run of H.264 packets (a segment) or a whole AAC stream,
//! with a footer saying what they are. The scene and audio caches ([`crate::cache`]) keep such
//! files by content; a range rendered on its own is one.
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
pub const HEAD: usize = 29;

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

/// An entry being written.
#[derive(Debug)]
pub struct Store {
    out: BufWriter<File>,
    temp: PathBuf,
    dest: PathBuf,
    layout: &'static Layout,
    packets: u64,
    digest: Sha256,
    /// Keep `dest`'s folder under the layout's size (a cache folder).
    prune: bool,
}

impl Store {
    /// Starts a packet file at `temp` (inside the render's temporary folder) that
    /// [`Store::finish`] moves to `dest`, keeping `dest`'s folder under the layout's size.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(temp: PathBuf, dest: PathBuf, layout: &'static Layout) -> std::io::Result<Store> {
        let mut out = BufWriter::new(File::create(&temp)?);
        out.write_all(layout.magic)?;
        Ok(Store {
            out,
            temp,
            dest,
            layout,
            packets: 0,
            digest: Sha256::new(),
            prune: true,
        })
    }

    /// Starts a packet file at `temp` that [`Store::finish`] moves to `dest`, a file of its
    /// own outside any cache (nothing beside it is removed).
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn file(temp: PathBuf, dest: PathBuf, layout: &'static Layout) -> std::io::Result<Store> {
        let mut store = Store::create(temp, dest, layout)?;
        store.prune = false;
        Ok(store)
    }

    /// Where [`Store::finish`] puts the file.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Appends a packet.
    ///
    /// # Errors
    /// Writing failed, or the packet is larger than the layout allows (the entry is then
    /// abandoned by the caller).
    pub fn add(&mut self, p: &StoredPacket) -> std::io::Result<()> {
        let size = u32::try_from(p.data.len())
            .ok()
            .filter(|&n| n <= self.layout.max_packet)
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
        let dir = self.dest.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        std::fs::rename(&self.temp, &self.dest)?;
        if !self.prune {
            return Ok(self.dest);
        }
        crate::base::lru::prune_lru(
            crate::base::lru::entries(dir, self.layout.ext),
            self.layout.limit_bytes,
            None,
        );
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

/// Why a kept packet file cannot be used (the caches remove it and make it again).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Reading it failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// Another layout or version.
    #[error("not an entry of this version")]
    Version,
    /// Shorter than the smallest entry.
    #[error("truncated")]
    Truncated,
    /// No footer: the writer did not finish.
    #[error("incomplete (no footer)")]
    NoFooter,
    /// The footer's length is impossible.
    #[error("bad footer length")]
    FooterLength,
    /// The footer's tag is wrong.
    #[error("bad footer")]
    Footer,
    /// The footer is not the JSON expected.
    #[error("{0}")]
    FooterJson(serde_json::Error),
    /// A record's tag is wrong (`at`: its byte, when checked on opening).
    #[error("bad record tag {tag}{}", .at.map_or_else(String::new, |a| format!(" at byte {a}")))]
    RecordTag {
        /// The tag found.
        tag: u8,
        /// Its byte offset.
        at: Option<u64>,
    },
    /// A packet larger than the layout allows or than the file holds.
    #[error("{}", .at.map_or_else(|| format!("packet of {size} bytes"), |a| format!("a packet of {size} bytes at byte {a}")))]
    PacketSize {
        /// Its size, bytes.
        size: u32,
        /// Its byte offset, when checked on opening.
        at: Option<u64>,
    },
    /// The records do not number what the footer says.
    #[error("{n} packets where the footer says {footer}")]
    Count {
        /// Records found.
        n: u64,
        /// Packets the footer states.
        footer: u64,
    },
    /// The digest does not match.
    #[error("damaged (its packets do not match its digest)")]
    Digest,
}

impl<M: serde::de::DeserializeOwned> Entry<M> {
    /// Opens the packet file at `path`, checking everything (layout, every record, footer).
    ///
    /// # Errors
    /// Why the file cannot be used.
    pub fn open(path: &Path, layout: &Layout) -> Result<Entry<M>, EntryError> {
        let err = EntryError::Io;
        let mut f = File::open(path).map_err(err)?;
        let mut magic = vec![0u8; layout.magic.len()];
        f.read_exact(&mut magic).map_err(err)?;
        if magic != layout.magic {
            return Err(EntryError::Version);
        }
        let len = f.metadata().map_err(err)?.len();
        let min = (layout.magic.len() + 1 + 8 + TAIL.len()) as u64;
        if len < min {
            return Err(EntryError::Truncated);
        }
        f.seek(SeekFrom::End(-12)).map_err(err)?;
        let mut tail = [0u8; 12];
        f.read_exact(&mut tail).map_err(err)?;
        if &tail[8..] != TAIL {
            return Err(EntryError::NoFooter);
        }
        let json_len = u64::from_le_bytes(tail[..8].try_into().unwrap_or([0; 8]));
        // `len >= min` (checked above); a length near u64::MAX must not wrap around.
        if json_len > len - min {
            return Err(EntryError::FooterLength);
        }
        let footer_at = len - 12 - json_len - 1;
        f.seek(SeekFrom::Start(footer_at)).map_err(err)?;
        let mut json = vec![0u8; json_len as usize + 1];
        f.read_exact(&mut json).map_err(err)?;
        if json[0] != b'E' {
            return Err(EntryError::Footer);
        }
        let footer: Footer<M> =
            serde_json::from_slice(&json[1..]).map_err(EntryError::FooterJson)?;
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
                return Err(EntryError::RecordTag {
                    tag: head[0],
                    at: Some(at),
                });
            }
            let size = u32::from_le_bytes(head[26..30].try_into().unwrap_or([0; 4]));
            if size > layout.max_packet || at + (1 + HEAD) as u64 + u64::from(size) > footer_at {
                return Err(EntryError::PacketSize { size, at: Some(at) });
            }
            data.resize(size as usize, 0);
            input.read_exact(&mut data).map_err(err)?;
            digest.update(head);
            digest.update(&data);
            at += (1 + HEAD) as u64 + u64::from(size);
            n += 1;
        }
        if n != footer.packets {
            return Err(EntryError::Count {
                n,
                footer: footer.packets,
            });
        }
        if hex(&digest.finalize()) != footer.digest {
            return Err(EntryError::Digest);
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
    pub fn next_packet(&mut self) -> Result<Option<StoredPacket>, EntryError> {
        if self.read == self.packets {
            return Ok(None);
        }
        let mut head = [0u8; 1 + HEAD];
        self.input.read_exact(&mut head).map_err(EntryError::Io)?;
        if head[0] != b'P' {
            return Err(EntryError::RecordTag {
                tag: head[0],
                at: None,
            });
        }
        let i64_at = |i: usize| i64::from_le_bytes(head[i..i + 8].try_into().unwrap_or([0; 8]));
        let size = u32::from_le_bytes(head[26..30].try_into().unwrap_or([0; 4]));
        if size > self.max_packet {
            return Err(EntryError::PacketSize { size, at: None });
        }
        let mut data = vec![0u8; size as usize];
        self.input.read_exact(&mut data).map_err(EntryError::Io)?;
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

/// The scene cache's files: `<key>.seg`, packets up to 64 MB, the folder kept under 1 GB
/// (about 120 three-minute 1080p modules at quality `fast`).
pub static SCENE_FILES: Layout = Layout {
    magic: b"reelsmith-seg\x01",
    ext: "seg",
    max_packet: 64 << 20,
    limit_bytes: 1 << 30,
    what: "scene",
};

/// The audio cache's files: `<key>.aac`, at most 64 KB a packet (an AAC frame is at most 6144
/// bits per channel), the folder kept under 256 MB (~90 three-minute modules at 128 kbit/s).
pub static AUDIO_FILES: Layout = Layout {
    magic: b"reelsmith-aac\x02",
    ext: "aac",
    max_packet: 1 << 16,
    limit_bytes: 256 << 20,
    what: "audio",
};

/// What a segment file says about itself.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SegmentFooter {
    /// Frames of the segment.
    pub frames: u64,
    /// The stream's extradata (`avcC`, in the splicer's form) the packets belong to.
    pub extradata: Vec<u8>,
    /// Of the frames, pictures x264 encoded.
    pub encoded_frames: u64,
    /// Of the frames, pictures written as patches.
    pub patched_frames: u64,
}

/// What an audio file says about itself, after its packets.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AudioFooter {
    /// Samples per channel encoded.
    pub samples: u64,
    /// The AAC encoder's extradata (AudioSpecificConfig) the packets belong to.
    pub extradata: Vec<u8>,
    /// The loudness of the delivered audio, as its render measured it.
    pub loudness: crate::audio::master::LoudnessReport,
}
