//! Checksums of weight files: every directory that holds weights keeps a `manifest.json`
//! with the SHA-256 and size of each file, written with the file and checked when it loads.

use crate::Error;
use crate::checkpoint::atomic_write;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The name of a directory's manifest.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What was recorded of one file when it was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// SHA-256 of the file's bytes, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// The checksums of the weight files of one directory, `DIR/manifest.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// File name (inside the directory) → digest.
    pub files: BTreeMap<String, FileDigest>,
}

/// How a file fared against its directory's manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verification {
    /// The manifest lists the file and its bytes match.
    Verified,
    /// The directory has no manifest (written before manifests existed).
    NoManifest,
    /// The directory has a manifest that does not list the file.
    NotListed,
}

/// The SHA-256 of a file and its size.
pub fn digest_file(path: &Path) -> Result<FileDigest, Error> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
    }
    Ok(FileDigest {
        sha256: hex::encode(hasher.finalize()),
        bytes,
    })
}

fn split(path: &Path) -> Result<(PathBuf, String), Error> {
    let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Checkpoint(format!("{} is not a file name", path.display())))?;
    Ok((dir, name.to_string()))
}

impl Manifest {
    /// Reads `dir/manifest.json`, if the directory has one.
    pub fn load(dir: &Path) -> Result<Option<Self>, Error> {
        let path = dir.join(MANIFEST_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// Writes `dir/manifest.json` atomically.
    pub fn save(&self, dir: &Path) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::Checkpoint(e.to_string()))?;
        atomic_write(&dir.join(MANIFEST_FILE), &json)
    }

    /// Records the digest of the file at `path` in its directory's manifest (created when
    /// missing). Called by every writer of weights right after the file is in place.
    pub fn record(path: &Path) -> Result<(), Error> {
        let (dir, name) = split(path)?;
        let mut manifest = Self::load(&dir)?.unwrap_or_default();
        manifest.files.insert(name, digest_file(path)?);
        manifest.save(&dir)
    }

    /// Writes a manifest for every file of `dir` with one of `extensions` (e.g. `bpk`):
    /// for directories written before manifests existed.
    pub fn seal(dir: &Path, extensions: &[&str]) -> Result<Self, Error> {
        let mut manifest = Self::default();
        for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
            let path = entry.map_err(|e| Error::io(dir, e))?.path();
            let listed = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e));
            if listed && path.is_file() {
                let (_, name) = split(&path)?;
                manifest.files.insert(name, digest_file(&path)?);
            }
        }
        manifest.save(dir)?;
        Ok(manifest)
    }

    /// Checks the file at `path` against its directory's manifest.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the manifest lists the file with another checksum or size.
    pub fn verify(path: &Path) -> Result<Verification, Error> {
        let (dir, name) = split(path)?;
        let Some(manifest) = Self::load(&dir)? else {
            return Ok(Verification::NoManifest);
        };
        let Some(expected) = manifest.files.get(&name) else {
            return Ok(Verification::NotListed);
        };
        let found = digest_file(path)?;
        if &found != expected {
            return Err(Error::Corrupt {
                path: path.to_path_buf(),
                expected: format!("{} ({} bytes)", expected.sha256, expected.bytes),
                found: format!("{} ({} bytes)", found.sha256, found.bytes),
            });
        }
        Ok(Verification::Verified)
    }

    /// Checks every file the manifest of `dir` lists; returns how many were checked.
    pub fn verify_dir(dir: &Path) -> Result<usize, Error> {
        let manifest = Self::load(dir)?.ok_or_else(|| {
            Error::Checkpoint(format!("{} has no {MANIFEST_FILE}", dir.display()))
        })?;
        for name in manifest.files.keys() {
            Self::verify(&dir.join(name))?;
        }
        Ok(manifest.files.len())
    }
}

/// The extension of weight files, which manifests cover.
pub const WEIGHT_EXTENSION: &str = "bpk";

/// Every directory under `root` (itself included) that holds weight files, sorted: the
/// directories a manifest belongs in.
pub fn weight_directories(root: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut holds_weights = false;
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let kind = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file()
                && path.extension().and_then(|e| e.to_str()) == Some(WEIGHT_EXTENSION)
            {
                holds_weights = true;
            }
        }
        if holds_weights {
            found.push(dir);
        }
    }
    found.sort();
    Ok(found)
}

/// Checks `path` against its directory's manifest, and says so in the log when it cannot be
/// checked (no manifest, or not listed): what every loader of weights calls first.
///
/// # Errors
/// [`Error::Corrupt`] when the manifest lists the file with another checksum or size.
pub fn verify_or_warn(path: &Path) -> Result<(), Error> {
    match Manifest::verify(path)? {
        Verification::Verified => {}
        Verification::NoManifest => tracing::warn!(
            "{} has no {MANIFEST_FILE}: {} loads unverified",
            path.parent().unwrap_or(Path::new(".")).display(),
            path.display()
        ),
        Verification::NotListed => tracing::warn!(
            "{} is not listed in its directory's {MANIFEST_FILE}: it loads unverified",
            path.display()
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_matches_the_standard_test_vector() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc.bin");
        std::fs::write(&path, b"abc").unwrap();
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            digest_file(&path).unwrap().sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_changed_byte_is_caught_and_an_unlisted_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.bpk");
        std::fs::write(&path, vec![7u8; 1000]).unwrap();
        assert_eq!(Manifest::verify(&path).unwrap(), Verification::NoManifest);
        Manifest::record(&path).unwrap();
        assert_eq!(Manifest::verify(&path).unwrap(), Verification::Verified);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[500] ^= 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            Manifest::verify(&path),
            Err(Error::Corrupt { .. })
        ));
        let other = dir.path().join("other.bpk");
        std::fs::write(&other, b"x").unwrap();
        assert_eq!(Manifest::verify(&other).unwrap(), Verification::NotListed);
        let sealed = Manifest::seal(dir.path(), &["bpk"]).unwrap();
        assert_eq!(sealed.files.len(), 2);
        assert_eq!(Manifest::verify_dir(dir.path()).unwrap(), 2);
    }
}
