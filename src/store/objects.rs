//! The photo store: the bytes of case photos and their thumbnails, kept apart from the database
//! (which holds their metadata and keys: [`super::Photos`]) behind the `object_store` crate's
//! abstraction.
//!
//! - **Local directory** (the embedded default): `--photo-dir DIR`, or `photos/` beside the
//!   SQLite database file (`./photos` with PostgreSQL). Objects are files under it, written to a
//!   temporary name and renamed into place.
//! - **S3-compatible storage** (production): `--photo-store s3://bucket/prefix`; endpoint,
//!   region and credentials from the standard `AWS_*` environment variables (`AWS_ENDPOINT`,
//!   `AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//!   `AWS_ALLOW_HTTP`, …).
//!
//! Calls are synchronous, for the service layer on the blocking pool: each runs the
//! `object_store` future on the Tokio runtime the store was opened on (it must not be called
//! from an async task of that runtime).

use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::path::PathBuf;
use std::sync::Arc;

/// Where photos are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoStore {
    /// A local directory (made when missing).
    Dir(PathBuf),
    /// An S3-compatible bucket: `s3://bucket/prefix`, configured from the `AWS_*` environment
    /// variables, then from `options` (`aws_endpoint`, `aws_access_key_id`, …: the keys
    /// `object_store` knows), which win.
    S3 {
        /// `s3://bucket[/prefix]`.
        url: String,
        /// Extra settings, applied after the environment's.
        options: Vec<(String, String)>,
    },
}

impl PhotoStore {
    /// A `--photo-store` value: `s3://bucket/prefix`, `file:///dir` or a directory path.
    pub fn parse(raw: &str) -> Result<PhotoStore, String> {
        if let Some(rest) = raw.strip_prefix("s3://") {
            let bucket = rest.split('/').next().unwrap_or("");
            if bucket.is_empty() {
                return Err(format!("{raw:?}: expected s3://bucket[/prefix]"));
            }
            return Ok(PhotoStore::S3 {
                url: raw.to_owned(),
                options: Vec::new(),
            });
        }
        let path = raw.strip_prefix("file://").unwrap_or(raw);
        if path.is_empty() || path.contains("://") {
            return Err(format!(
                "{raw:?}: expected s3://bucket[/prefix] or a directory"
            ));
        }
        Ok(PhotoStore::Dir(path.into()))
    }

    /// The default beside a database: `photos/` in the SQLite file's directory, or `./photos`.
    pub fn beside(database: &str) -> PhotoStore {
        match super::DatabaseUrl::parse(database) {
            Ok(super::DatabaseUrl::Sqlite(p)) => PhotoStore::Dir(
                p.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .map_or_else(|| PathBuf::from("photos"), |d| d.join("photos")),
            ),
            _ => PhotoStore::Dir(PathBuf::from("photos")),
        }
    }

    /// For messages: the directory or the URL.
    pub fn describe(&self) -> String {
        match self {
            PhotoStore::Dir(d) => d.display().to_string(),
            PhotoStore::S3 { url, .. } => url.clone(),
        }
    }
}

/// Why a photo-store call failed.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// No object with that key.
    #[error("no object {0}")]
    NotFound(String),
    /// The store cannot be opened (a bad URL or directory, no runtime).
    #[error("photo store {store}: {detail}")]
    Open {
        /// The store.
        store: String,
        /// What failed.
        detail: String,
    },
    /// Any other failure (network, permissions, disk).
    #[error("photo store: {0}")]
    Failed(String),
}

/// An open photo store.
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    runtime: tokio::runtime::Handle,
    describe: String,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Objects({})", self.describe)
    }
}

impl Objects {
    /// Opens `spec` (a directory is made when missing); its calls run on `runtime`.
    pub fn open(
        spec: &PhotoStore,
        runtime: tokio::runtime::Handle,
    ) -> Result<Objects, ObjectError> {
        let open_err = |detail: String| ObjectError::Open {
            store: spec.describe(),
            detail,
        };
        let inner: Arc<dyn ObjectStore> = match spec {
            PhotoStore::Dir(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
                Arc::new(
                    LocalFileSystem::new_with_prefix(dir)
                        .map_err(|e| open_err(e.to_string()))?
                        .with_automatic_cleanup(true),
                )
            }
            PhotoStore::S3 { url, options } => {
                let rest = url.strip_prefix("s3://").unwrap_or(url);
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
                for (k, v) in options {
                    let key: AmazonS3ConfigKey = k
                        .parse()
                        .map_err(|e: object_store::Error| open_err(e.to_string()))?;
                    b = b.with_config(key, v);
                }
                let s3 = b.build().map_err(|e| open_err(e.to_string()))?;
                let prefix = prefix.trim_matches('/');
                if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(PrefixStore::new(s3, prefix))
                }
            }
        };
        Ok(Objects {
            inner,
            runtime,
            describe: spec.describe(),
        })
    }

    /// For messages.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn path(key: &str) -> Result<ObjectPath, ObjectError> {
        ObjectPath::parse(key).map_err(|e| ObjectError::Failed(format!("key {key:?}: {e}")))
    }

    /// Writes `bytes` under `key` (whole: a reader never sees part of it).
    pub fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), ObjectError> {
        let path = Self::path(key)?;
        self.runtime
            .block_on(self.inner.put(&path, PutPayload::from(bytes)))
            .map(|_| ())
            .map_err(|e| ObjectError::Failed(format!("writing {key}: {e}")))
    }

    /// The bytes under `key`.
    pub fn get(&self, key: &str) -> Result<Vec<u8>, ObjectError> {
        let path = Self::path(key)?;
        self.runtime
            .block_on(async {
                let got = self.inner.get(&path).await?;
                got.bytes().await
            })
            .map(|b| b.to_vec())
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => ObjectError::NotFound(key.to_owned()),
                e => ObjectError::Failed(format!("reading {key}: {e}")),
            })
    }

    /// Deletes `key` (a missing object is no error).
    pub fn delete(&self, key: &str) -> Result<(), ObjectError> {
        let path = Self::path(key)?;
        match self.runtime.block_on(self.inner.delete(&path)) {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ObjectError::Failed(format!("deleting {key}: {e}"))),
        }
    }
}
