//! Where the farm's files live: a folder every machine mounts (NFS and the like) or
//! S3-compatible object storage, through `object_store`. Everything in it is written once
//! under a name made of its content's hash (`PutMode::Create`), so two workers that render
//! the same unit write the same object and the second write is a no-op:
//!
//! - `assets/<sha256><.ext>`: a file a plan reads (pictures, clips, audio, fonts);
//! - `plans/<sha256>.json`: a plan;
//! - `segments/<key>.seg`: the H.264 packets of a range (the scene cache's format and key);
//! - `audio/<key>.aac`: the AAC packets of a whole timeline (the audio cache's).

use std::path::Path;
use std::sync::Arc;

use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload};

use super::FarmError;

/// A store opened from its address.
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    prefix: Key,
    runtime: tokio::runtime::Runtime,
    /// The address as given, for messages.
    pub address: String,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.address)
    }
}

impl Store {
    /// Opens the store at `address`: a folder (a path, or `file:///path`; created if
    /// missing), or `s3://bucket/prefix` with `options` such as `aws_endpoint`,
    /// `aws_access_key_id`, `aws_secret_access_key`, `aws_region`, `aws_allow_http` (the
    /// command line passes the `AWS_*` environment variables).
    ///
    /// # Errors
    /// [`FarmError::Address`] for an address that is neither, [`FarmError::Store`] if the
    /// store cannot be set up.
    pub fn open(
        address: &str,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Store, FarmError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| FarmError::Address(format!("cannot start the store's runtime: {e}")))?;
        let folder = address
            .strip_prefix("file://")
            .or_else(|| (!address.contains("://")).then_some(address));
        let (inner, prefix): (Arc<dyn ObjectStore>, Key) = if let Some(folder) = folder {
            std::fs::create_dir_all(folder)
                .map_err(FarmError::io("create the store folder", Path::new(folder)))?;
            let fs = object_store::local::LocalFileSystem::new_with_prefix(folder).map_err(
                |source| FarmError::Store {
                    op: "open",
                    key: folder.into(),
                    source,
                },
            )?;
            (Arc::new(fs), Key::default())
        } else {
            let url = url::Url::parse(address)
                .map_err(|e| FarmError::Address(format!("store address {address}: {e}")))?;
            if url.scheme() != "s3" {
                return Err(FarmError::Address(format!(
                    "store address {address}: expected a folder or s3://bucket/prefix"
                )));
            }
            let (store, prefix) =
                object_store::parse_url_opts(&url, options).map_err(|source| FarmError::Store {
                    op: "open",
                    key: address.into(),
                    source,
                })?;
            (Arc::from(store), prefix)
        };
        Ok(Store {
            inner,
            prefix,
            runtime,
            address: address.to_string(),
        })
    }

    fn key(&self, key: &str) -> Key {
        let mut k = self.prefix.clone();
        for part in key.split('/') {
            k = k.clone().join(part);
        }
        k
    }

    /// Whether `key` holds an object.
    ///
    /// # Errors
    /// [`FarmError::Store`].
    pub fn exists(&self, key: &str) -> Result<bool, FarmError> {
        let k = self.key(key);
        match self.runtime.block_on(self.inner.head(&k)) {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(FarmError::Store {
                op: "look up",
                key: key.into(),
                source,
            }),
        }
    }

    /// Writes `bytes` at `key` unless an object is there already (then nothing is written:
    /// objects are named by their content). Returns whether it wrote. A store that cannot
    /// refuse a second write (`PutMode::Create` unsupported) is asked first.
    ///
    /// # Errors
    /// [`FarmError::Store`].
    pub fn put_once(&self, key: &str, bytes: Vec<u8>) -> Result<bool, FarmError> {
        let k = self.key(key);
        let payload = PutPayload::from(bytes);
        let create = PutOptions::from(PutMode::Create);
        let err = |source| FarmError::Store {
            op: "write",
            key: key.into(),
            source,
        };
        match self
            .runtime
            .block_on(self.inner.put_opts(&k, payload.clone(), create))
        {
            Ok(_) => Ok(true),
            Err(
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
            ) => Ok(false),
            Err(object_store::Error::NotImplemented { .. }) => {
                if self.exists(key)? {
                    return Ok(false);
                }
                self.runtime
                    .block_on(self.inner.put(&k, payload))
                    .map_err(err)?;
                Ok(true)
            }
            Err(e) => Err(err(e)),
        }
    }

    /// [`Store::put_once`] of a file's bytes.
    ///
    /// # Errors
    /// [`FarmError::Store`], or reading the file.
    pub fn put_file_once(&self, key: &str, file: &Path) -> Result<bool, FarmError> {
        let bytes = std::fs::read(file).map_err(FarmError::io("read", file))?;
        self.put_once(key, bytes)
    }

    /// The object at `key`.
    ///
    /// # Errors
    /// [`FarmError::Store`] (also when there is none).
    pub fn get(&self, key: &str) -> Result<Vec<u8>, FarmError> {
        let k = self.key(key);
        self.runtime
            .block_on(async { self.inner.get(&k).await?.bytes().await })
            .map(|b| b.to_vec())
            .map_err(|source| FarmError::Store {
                op: "read",
                key: key.into(),
                source,
            })
    }

    /// The bytes `range` of the object at `key`.
    ///
    /// # Errors
    /// [`FarmError::Store`] (also when there is none, or it is shorter).
    pub fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> Result<Vec<u8>, FarmError> {
        let k = self.key(key);
        self.runtime
            .block_on(self.inner.get_range(&k, range))
            .map(|b| b.to_vec())
            .map_err(|source| FarmError::Store {
                op: "read",
                key: key.into(),
                source,
            })
    }

    /// Copies the object at `key` to the file `dest`, which appears complete or not at all
    /// (written beside it first, then renamed).
    ///
    /// # Errors
    /// [`FarmError::Store`], or writing the file.
    pub fn get_to_file(&self, key: &str, dest: &Path) -> Result<(), FarmError> {
        let bytes = self.get(key)?;
        let part = part_path(dest);
        std::fs::write(&part, bytes).map_err(FarmError::io("write", &part))?;
        std::fs::rename(&part, dest).map_err(|e| {
            let _ = std::fs::remove_file(&part);
            FarmError::io("rename into place", dest)(e)
        })
    }
}

/// `<dest>.part-<pid>`: where a file is written before it is renamed to `dest` (one per
/// process, so that two workers on one machine never write the same one).
pub(super) fn part_path(dest: &Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!("{}.part-{}", dest.display(), std::process::id()))
}
