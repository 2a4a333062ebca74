//! Line-by-line reading that reports bad UTF-8 per line and goes on after it.

use super::DataError;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The lines of one file: `(one-based line number, text)`, trailing `\r\n` removed.
/// A line that is not UTF-8 gives [`DataError::InvalidUtf8`] and reading continues;
/// an I/O error ends the iteration.
pub(crate) struct Lines {
    path: PathBuf,
    reader: BufReader<Box<dyn Read + Send>>,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl Lines {
    pub(crate) fn open(path: &Path) -> Result<Self, DataError> {
        let file = super::open_file(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            reader: BufReader::new(file),
            line: 0,
            buf: Vec::new(),
            done: false,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Iterator for Lines {
    type Item = Result<(u64, String), DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        self.buf.clear();
        match self.reader.read_until(b'\n', &mut self.buf) {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(_) => {
                self.line += 1;
                while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                    self.buf.pop();
                }
                Some(match String::from_utf8(std::mem::take(&mut self.buf)) {
                    Ok(text) => Ok((self.line, text)),
                    Err(_) => Err(DataError::InvalidUtf8 {
                        path: self.path.clone(),
                        line: self.line,
                    }),
                })
            }
            Err(err) => {
                self.done = true;
                Some(Err(DataError::io(&self.path, err)))
            }
        }
    }
}
