//! Streaming, UTF-8-checked reading of one-text-per-line corpus files.

use crate::TokenizerError;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

/// Iterates over the lines of several files in turn, without loading them whole.
///
/// Yields one `Result` per line (trailing `\r\n`/`\n` removed); after the first error the
/// iterator is exhausted.
pub struct LineReader {
    pending: std::vec::IntoIter<PathBuf>,
    current: Option<(PathBuf, BufReader<File>, usize)>,
    buf: Vec<u8>,
    failed: bool,
}

impl LineReader {
    /// Opens nothing yet: each file is opened when the previous one is exhausted.
    pub fn new<P: AsRef<Path>>(paths: &[P]) -> Self {
        Self {
            pending: paths
                .iter()
                .map(|p| p.as_ref().to_path_buf())
                .collect::<Vec<_>>()
                .into_iter(),
            current: None,
            buf: Vec::new(),
            failed: false,
        }
    }

    fn next_line(&mut self) -> Option<Result<String, TokenizerError>> {
        loop {
            if self.current.is_none() {
                let path = self.pending.next()?;
                match File::open(&path) {
                    Ok(file) => self.current = Some((path, BufReader::new(file), 0)),
                    Err(err) => return Some(Err(TokenizerError::io(path, err))),
                }
            }
            let (path, reader, line) = self.current.as_mut()?;
            self.buf.clear();
            match reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => self.current = None,
                Ok(_) => {
                    *line += 1;
                    while matches!(self.buf.last(), Some(b'\n' | b'\r')) {
                        self.buf.pop();
                    }
                    return Some(match std::str::from_utf8(&self.buf) {
                        Ok(text) => Ok(text.to_owned()),
                        Err(_) => Err(TokenizerError::InvalidUtf8 {
                            path: path.clone(),
                            line: *line,
                        }),
                    });
                }
                Err(err) => return Some(Err(TokenizerError::io(path.clone(), err))),
            }
        }
    }
}

impl Iterator for LineReader {
    type Item = Result<String, TokenizerError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let item = self.next_line();
        self.failed = matches!(item, Some(Err(_)));
        item
    }
}
