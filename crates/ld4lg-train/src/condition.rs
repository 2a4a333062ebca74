//! What a denoiser is conditioned on: nothing, a class label, or a source text read by a
//! context encoder trained with the denoiser.

use crate::Error;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use ld4lg_autoencoder::TextEncoderConfig;
use ld4lg_data::{CorpusSpec, OnError};
use ld4lg_run::{DiffusionModel, TrainedCondition, encode_sources};
use ld4lg_sampler::Conditioning;
use ld4lg_tokenizer::Tokenizer;
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The conditioning a diffusion run trains, in its configuration.
///
/// ```
/// use ld4lg_train::ConditionConfig;
/// let class: ConditionConfig = serde_json::from_str(r#"{ "kind": "class" }"#).unwrap();
/// assert_eq!(class, ConditionConfig::Class { dropout: 0.1 });
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ConditionConfig {
    /// Unconditional.
    #[default]
    None,
    /// The corpus labels (sorted by name) as classes; a null class for guidance.
    Class {
        /// Probability of replacing an example's class by the null class. Default: 0.1.
        #[serde(default = "ten_percent")]
        dropout: f64,
    },
    /// The corpus sources (e.g. E2E meaning representations), read by a transformer context
    /// encoder trained with the denoiser and cross-attended by it.
    Source {
        /// The context encoder.
        #[serde(default)]
        encoder: SourceEncoderConfig,
        /// Probability of replacing an example's source by the null context. Default: 0.1.
        #[serde(default = "ten_percent")]
        dropout: f64,
    },
}

fn ten_percent() -> f64 {
    0.1
}

/// Size of the context encoder of source-conditioned runs (its vocabulary is the run's
/// tokenizer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEncoderConfig {
    /// Longest source in tokens (longer ones are truncated). Default: 64.
    pub max_len: usize,
    /// Width. Default: 128.
    pub d_model: usize,
    /// Transformer blocks. Default: 3.
    pub n_layers: usize,
    /// Attention heads. Default: 4.
    pub n_heads: usize,
}

impl Default for SourceEncoderConfig {
    fn default() -> Self {
        Self {
            max_len: 64,
            d_model: 128,
            n_layers: 3,
            n_heads: 4,
        }
    }
}

/// Per-example conditions of a training corpus.
pub(crate) enum ConditionData {
    None,
    Class { labels: Vec<usize>, dropout: f64 },
    Source { sources: Vec<String>, dropout: f64 },
}

/// Reads the labels or sources of `corpus` (in the order of its texts) for `config`, and
/// what the trained run will record about them.
pub(crate) fn condition_data(
    config: &ConditionConfig,
    corpus: &CorpusSpec,
    tokenizer_vocab: usize,
) -> Result<(ConditionData, TrainedCondition), Error> {
    let check = |p: f64| {
        if (0.0..1.0).contains(&p) {
            Ok(p)
        } else {
            Err(Error::Config(format!(
                "condition dropout must be in [0, 1), got {p}"
            )))
        }
    };
    match config {
        ConditionConfig::None => Ok((ConditionData::None, TrainedCondition::None)),
        ConditionConfig::Class { dropout } => {
            let dropout = check(*dropout)?;
            let mut names = Vec::new();
            for (row, example) in corpus.open(OnError::Fail)?.enumerate() {
                let label = example?.label.ok_or_else(|| {
                    Error::Config(format!(
                        "class conditioning needs labelled examples; example {} has no label",
                        row + 1
                    ))
                })?;
                names.push(label);
            }
            let mut classes = names.clone();
            classes.sort();
            classes.dedup();
            if classes.len() < 2 {
                return Err(Error::Config(format!(
                    "class conditioning needs at least 2 classes, the corpus has {}",
                    classes.len()
                )));
            }
            let labels = names
                .iter()
                .map(|n| classes.binary_search(n).expect("collected above"))
                .collect();
            Ok((
                ConditionData::Class { labels, dropout },
                TrainedCondition::Class { classes },
            ))
        }
        ConditionConfig::Source { encoder, dropout } => {
            let dropout = check(*dropout)?;
            let mut sources = Vec::new();
            for (row, example) in corpus.open(OnError::Fail)?.enumerate() {
                sources.push(example?.source.ok_or_else(|| {
                    Error::Config(format!(
                        "source conditioning needs examples with a source; example {} has none",
                        row + 1
                    ))
                })?);
            }
            Ok((
                ConditionData::Source { sources, dropout },
                TrainedCondition::Source {
                    encoder: TextEncoderConfig::new(tokenizer_vocab, encoder.max_len)
                        .with_d_model(encoder.d_model)
                        .with_n_layers(encoder.n_layers)
                        .with_n_heads(encoder.n_heads),
                },
            ))
        }
    }
}

impl ConditionData {
    /// The sources of source-conditioned data.
    pub(crate) fn sources(&self) -> Option<&[String]> {
        match self {
            Self::Source { sources, .. } => Some(sources),
            _ => None,
        }
    }

    /// The conditioning of the examples `indices`, with condition dropout drawn from `rng`.
    pub(crate) fn batch(
        &self,
        model: &DiffusionModel,
        tokenizer: &Tokenizer,
        indices: &[usize],
        rng: &mut ChaCha8Rng,
        device: &Device,
    ) -> Result<Conditioning, Error> {
        let dropped = |rng: &mut ChaCha8Rng, p: f64| -> Tensor<1, Bool> {
            let flags: Vec<bool> = indices.iter().map(|_| rng.random::<f64>() < p).collect();
            Tensor::from_data(TensorData::new(flags, [indices.len()]), device)
        };
        Ok(match self {
            Self::None => Conditioning::none(),
            Self::Class { labels, dropout } => {
                let ids: Vec<i64> = indices.iter().map(|&i| labels[i] as i64).collect();
                let mut conditioning = Conditioning::classes(Tensor::<1, Int>::from_data(
                    TensorData::new(ids, [indices.len()]),
                    device,
                ));
                conditioning.null = Some(dropped(rng, *dropout));
                conditioning
            }
            Self::Source { sources, dropout } => {
                let texts: Vec<&str> = indices.iter().map(|&i| sources[i].as_str()).collect();
                let encoder = model
                    .source_encoder
                    .as_ref()
                    .expect("source runs build a context encoder");
                let mut conditioning = encode_sources(encoder, tokenizer, &texts, device)?;
                conditioning.null = Some(dropped(rng, *dropout));
                conditioning
            }
        })
    }
}
