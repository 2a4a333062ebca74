//! An independent text classifier to measure attribute control: multinomial logistic
//! regression on hashed word uni- and bigrams (the linear model of fastText), trained by SGD.
//!
//! It shares nothing with the generator (no tokenizer, no weights), so judging generated
//! text with it is not circular.
//!
//! ```
//! use ld4lg_eval::classifier::{NgramClassifier, NgramClassifierConfig};
//! let examples: Vec<(String, String)> = [
//!     ("great food , lovely staff", "positive"),
//!     ("awful service and cold food", "negative"),
//!     ("lovely place , great service", "positive"),
//!     ("cold , awful , never again", "negative"),
//! ]
//! .iter()
//! .map(|(t, l)| (t.to_string(), l.to_string()))
//! .collect();
//! let classifier = NgramClassifier::train(&NgramClassifierConfig::default(), &examples)?;
//! assert_eq!(classifier.predict("great staff"), "positive");
//! # Ok::<(), ld4lg_eval::classifier::ClassifierError>(())
//! ```

use crate::metric_tokens;
use flate2::read::MultiGzDecoder;
use flate2::{Compression, write::GzEncoder};
use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Why a classifier could not be trained, saved or loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClassifierError {
    /// A training setting is out of range.
    #[error("classifier: buckets_log2 must be in 1..=28, max_n and epochs positive")]
    InvalidSettings,
    /// The training examples have fewer than two distinct labels.
    #[error("a classifier needs at least 2 classes, got {found}")]
    TooFewClasses {
        /// Distinct labels found.
        found: usize,
    },
    /// A classifier file could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a classifier of this version, or is truncated or corrupt.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl ClassifierError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

const MAGIC: &[u8; 8] = b"LD4LGNGC";
const VERSION: u32 = 1;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Training settings of the [`NgramClassifier`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NgramClassifierConfig {
    /// log₂ of the number of hash buckets. Default: 18.
    pub buckets_log2: u32,
    /// Longest word n-gram used as a feature. Default: 2.
    pub max_n: usize,
    /// Passes over the training data. Default: 10.
    pub epochs: usize,
    /// Initial SGD step, decayed linearly to 0. Default: 0.2.
    pub learning_rate: f64,
    /// Seed of the example order. Default: 0.
    pub seed: u64,
}

impl Default for NgramClassifierConfig {
    fn default() -> Self {
        Self {
            buckets_log2: 18,
            max_n: 2,
            epochs: 10,
            learning_rate: 0.2,
            seed: 0,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    classes: Vec<String>,
    buckets: usize,
    max_n: usize,
}

/// Hashed n-gram logistic regression over a fixed set of classes.
#[derive(Debug, Clone, PartialEq)]
pub struct NgramClassifier {
    classes: Vec<String>,
    buckets: usize,
    max_n: usize,
    /// `[buckets, classes]`, row-major.
    weights: Vec<f32>,
    bias: Vec<f32>,
}

/// FNV-1a, stable across platforms and releases (unlike `DefaultHasher`).
fn fnv1a(parts: &[String]) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash ^= 0x1f;
            hash = hash.wrapping_mul(0x100_0000_01b3);
        }
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x100_0000_01b3);
        }
    }
    hash
}

impl NgramClassifier {
    /// Trains on `(text, label)` pairs; the classes are the labels, sorted.
    ///
    /// # Errors
    /// [`ClassifierError::TooFewClasses`] with fewer than two classes or [`ClassifierError::InvalidSettings`] for a setting out of range.
    pub fn train(
        config: &NgramClassifierConfig,
        examples: &[(String, String)],
    ) -> Result<Self, ClassifierError> {
        if !(1..=28).contains(&config.buckets_log2) || config.max_n == 0 || config.epochs == 0 {
            return Err(ClassifierError::InvalidSettings);
        }
        let mut classes: Vec<String> = examples.iter().map(|(_, l)| l.clone()).collect();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            return Err(ClassifierError::TooFewClasses {
                found: classes.len(),
            });
        }
        let k = classes.len();
        let mut model = Self {
            buckets: 1 << config.buckets_log2,
            max_n: config.max_n,
            weights: vec![0.0; (1usize << config.buckets_log2) * k],
            bias: vec![0.0; k],
            classes,
        };
        let data: Vec<(Vec<usize>, usize)> = examples
            .iter()
            .map(|(text, label)| {
                let class = model.classes.binary_search(label).expect("collected above");
                (model.features(text), class)
            })
            .collect();
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let total = (config.epochs * data.len()) as f64;
        let mut seen = 0usize;
        let mut probabilities = vec![0.0f32; k];
        for _ in 0..config.epochs {
            order.shuffle(&mut rng);
            for &i in &order {
                let lr = (config.learning_rate * (1.0 - seen as f64 / total)) as f32;
                seen += 1;
                let (features, class) = &data[i];
                model.probabilities_into(features, &mut probabilities);
                for (c, p) in probabilities.iter().enumerate() {
                    let gradient = p - if c == *class { 1.0 } else { 0.0 };
                    model.bias[c] -= lr * gradient;
                    for &f in features {
                        model.weights[f * k + c] -= lr * gradient;
                    }
                }
            }
        }
        Ok(model)
    }

    /// The class names, in id order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Distinct hashed n-gram buckets of a text.
    fn features(&self, text: &str) -> Vec<usize> {
        let tokens = metric_tokens(text);
        let mut features = Vec::new();
        for n in 1..=self.max_n {
            for window in tokens.windows(n) {
                features.push((fnv1a(window) % self.buckets as u64) as usize);
            }
        }
        features.sort_unstable();
        features.dedup();
        features
    }

    fn probabilities_into(&self, features: &[usize], out: &mut [f32]) {
        let k = self.classes.len();
        out.copy_from_slice(&self.bias);
        for &f in features {
            for (c, o) in out.iter_mut().enumerate() {
                *o += self.weights[f * k + c];
            }
        }
        let max = out.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for o in out.iter_mut() {
            *o = (*o - max).exp();
            sum += *o;
        }
        for o in out.iter_mut() {
            *o /= sum;
        }
    }

    /// Class probabilities of a text, in class order.
    pub fn probabilities(&self, text: &str) -> Vec<f32> {
        let mut out = vec![0.0; self.classes.len()];
        self.probabilities_into(&self.features(text), &mut out);
        out
    }

    /// The most probable class of a text.
    pub fn predict(&self, text: &str) -> &str {
        let p = self.probabilities(text);
        let best = (0..p.len())
            .max_by(|&a, &b| p[a].total_cmp(&p[b]))
            .expect("at least two classes");
        &self.classes[best]
    }

    /// Share of `(text, label)` pairs predicted correctly.
    pub fn accuracy(&self, examples: &[(String, String)]) -> f64 {
        if examples.is_empty() {
            return 0.0;
        }
        let right = examples
            .iter()
            .filter(|(text, label)| self.predict(text) == label)
            .count();
        right as f64 / examples.len() as f64
    }

    /// Writes the model (atomically), gzip-compressed: most hashed n-gram buckets stay
    /// near zero, so the file shrinks to about 40 %.
    pub fn save(&self, path: &Path) -> Result<(), ClassifierError> {
        let header = serde_json::to_vec(&Header {
            classes: self.classes.clone(),
            buckets: self.buckets,
            max_n: self.max_n,
        })
        .expect("the header serialises");
        let mut bytes = Vec::with_capacity(16 + header.len() + 4 * self.weights.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&header);
        for v in self.weights.iter().chain(&self.bias) {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let compressed = encoder
            .write_all(&bytes)
            .and_then(|()| encoder.finish())
            .map_err(|e| ClassifierError::io(path, e))?;
        // Through a temporary file in the same directory and a rename: a crash never leaves
        // a half-written classifier.
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let mut file = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))
            .map_err(|e| ClassifierError::io(path, e))?;
        file.write_all(&compressed)
            .map_err(|e| ClassifierError::io(path, e))?;
        file.persist(path)
            .map_err(|e| ClassifierError::io(path, e.error))?;
        Ok(())
    }

    /// Reads a model written by [`save`](Self::save), compressed or not (files of earlier
    /// releases were not).
    ///
    /// # Errors
    /// [`ClassifierError::Io`] when unreadable, [`ClassifierError::Corrupt`] when not a classifier file of
    /// this version, truncated or a corrupt archive.
    pub fn load(path: &Path) -> Result<Self, ClassifierError> {
        let mut bytes = std::fs::read(path).map_err(|e| ClassifierError::io(path, e))?;
        let bad = |why: &str| ClassifierError::Corrupt {
            path: path.to_path_buf(),
            reason: why.to_owned(),
        };
        if bytes.starts_with(&GZIP_MAGIC) {
            let mut raw = Vec::new();
            MultiGzDecoder::new(bytes.as_slice())
                .read_to_end(&mut raw)
                .map_err(|e| bad(&format!("corrupt compressed classifier ({e})")))?;
            bytes = raw;
        }
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err(bad("not an ld4lg n-gram classifier"));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(bad(&format!(
                "classifier format {version}, this release reads {VERSION}"
            )));
        }
        let len = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes")) as usize;
        let header: Header = bytes
            .get(16..16 + len)
            .and_then(|h| serde_json::from_slice(h).ok())
            .ok_or_else(|| bad("corrupt header"))?;
        let k = header.classes.len();
        let values: Vec<f32> = bytes[16 + len..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if k < 2 || values.len() != header.buckets * k + k || bytes[16 + len..].len() % 4 != 0 {
            return Err(bad("truncated or inconsistent weights"));
        }
        let (weights, bias) = values.split_at(header.buckets * k);
        Ok(Self {
            classes: header.classes,
            buckets: header.buckets,
            max_n: header.max_n,
            weights: weights.to_vec(),
            bias: bias.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
        rows.iter()
            .map(|(t, l)| (t.to_string(), l.to_string()))
            .collect()
    }

    #[test]
    fn fnv1a_matches_the_reference_values() {
        // FNV-1a 64 of "a" and of "foobar" (published test vectors).
        assert_eq!(fnv1a(&["a".into()]), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a(&["foobar".into()]), 0x85944171f73967e8);
    }

    #[test]
    fn learns_a_separable_problem_and_round_trips() {
        let train = pairs(&[
            ("the food was great", "pos"),
            ("great staff and great prices", "pos"),
            ("i loved it", "pos"),
            ("the food was terrible", "neg"),
            ("terrible staff , bad prices", "neg"),
            ("i hated it", "neg"),
        ]);
        let config = NgramClassifierConfig {
            buckets_log2: 10,
            ..NgramClassifierConfig::default()
        };
        let model = NgramClassifier::train(&config, &train).unwrap();
        assert_eq!(model.accuracy(&train), 1.0);
        assert_eq!(model.predict("great prices"), "pos");
        assert_eq!(model.predict("bad , terrible"), "neg");
        let p = model.probabilities("loved");
        assert!(
            (p.iter().sum::<f32>() - 1.0).abs() < 1e-5 && p[1] > 0.5,
            "{p:?}"
        );

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.bin");
        model.save(&path).unwrap();
        assert_eq!(NgramClassifier::load(&path).unwrap(), model);
        let saved = std::fs::read(&path).unwrap();
        assert!(saved.starts_with(&GZIP_MAGIC));

        // The uncompressed layout of earlier releases still loads.
        let mut raw = Vec::new();
        MultiGzDecoder::new(saved.as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        assert!(raw.starts_with(MAGIC) && raw.len() > saved.len());
        std::fs::write(&path, &raw).unwrap();
        assert_eq!(NgramClassifier::load(&path).unwrap(), model);

        for corrupt in [
            b"LD4LGNGC\x01\x00\x00\x00".as_slice(),
            &saved[..saved.len() / 2],
            &raw[..raw.len() - 3],
        ] {
            std::fs::write(&path, corrupt).unwrap();
            assert!(matches!(
                NgramClassifier::load(&path),
                Err(ClassifierError::Corrupt { .. })
            ));
        }
    }

    #[test]
    fn one_class_is_refused() {
        let err = NgramClassifier::train(
            &NgramClassifierConfig::default(),
            &pairs(&[("a", "x"), ("b", "x")]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("2 classes"), "{err}");
    }
}
