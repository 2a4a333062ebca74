//! Opening corpus files, plain or gzip-compressed.

use super::DataError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

/// Whether `path` names a gzip-compressed file (its name ends in `.gz`).
pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("gz"))
}

/// Opens `path` for reading; a name ending in `.gz` is decompressed on the fly, so a
/// corpus can be shipped compressed and read as it streams (a corrupt or truncated archive
/// shows up as an I/O error on the read that reaches it).
///
/// ```
/// use std::io::Read;
///
/// let mut csv = String::new();
/// ld4lg_data::open_file("../../data/e2e/devset.csv.gz".as_ref())?
///     .read_to_string(&mut csv)
///     .unwrap();
/// assert!(csv.starts_with("mr,ref"));
/// # Ok::<(), ld4lg_data::DataError>(())
/// ```
///
/// # Errors
/// [`DataError::NotFound`] or [`DataError::Io`] when the file cannot be opened.
pub fn open_file(path: &Path) -> Result<Box<dyn Read + Send>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    Ok(if is_gzip(path) {
        // Multi-member, as `cat a.gz b.gz` and parallel compressors write.
        Box::new(MultiGzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(file)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn read_all(path: &Path) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        open_file(path).unwrap().read_to_end(&mut out).map(|_| out)
    }

    #[test]
    fn gzip_is_chosen_by_extension_only() {
        assert!(is_gzip(Path::new("data/train.csv.gz")));
        assert!(is_gzip(Path::new("TRAIN.GZ")));
        assert!(!is_gzip(Path::new("data/train.csv")));
        assert!(!is_gzip(Path::new("data/gz")));
    }

    #[test]
    fn plain_and_compressed_files_read_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let text = "first line\nsecond, with é\n".repeat(50);
        let plain = dir.path().join("a.txt");
        let packed = dir.path().join("a.txt.gz");
        std::fs::write(&plain, &text).unwrap();
        std::fs::write(&packed, gzip(text.as_bytes())).unwrap();
        assert_eq!(read_all(&plain).unwrap(), text.as_bytes());
        assert_eq!(read_all(&packed).unwrap(), text.as_bytes());
    }

    #[test]
    fn concatenated_members_are_read_through() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("two.gz");
        let mut bytes = gzip(b"one\n");
        bytes.extend(gzip(b"two\n"));
        std::fs::write(&path, bytes).unwrap();
        assert_eq!(read_all(&path).unwrap(), b"one\ntwo\n");
    }

    #[test]
    fn a_truncated_archive_is_an_io_error_not_a_short_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.gz");
        let bytes = gzip("some text that is long enough\n".repeat(20).as_bytes());
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(read_all(&path).is_err());
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let Err(err) = open_file(Path::new("/no/such/corpus.csv.gz")) else {
            panic!("opened a missing file")
        };
        assert!(matches!(err, DataError::NotFound { .. }), "{err}");
    }
}
