use crate::Fusion;
use crate::{
    AutoregressiveDecoder, AutoregressiveDecoderConfig, BeamSearchConfig, LatentExpander,
    LatentExpanderConfig, LatentRegularizer, ParallelDecoder, ParallelDecoderConfig,
    PerceiverConfig, PerceiverResampler, TextEncoder, TextEncoderConfig,
};
use burn::config::Config;
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Bool, Device, Distribution, Int, Tensor};

/// Which decoder turns latents back into text.
#[derive(Config, Debug, PartialEq, Copy)]
pub enum DecoderKind {
    /// Non-autoregressive: all positions at once.
    Parallel,
    /// Autoregressive transformer with greedy or beam search.
    Autoregressive,
}

/// Configuration of the [`Autoencoder`].
#[derive(Config, Debug)]
pub struct AutoencoderConfig {
    /// Vocabulary size of the tokenizer. Run configurations may leave it at 0: the training
    /// pipeline sets it from the tokenizer it trains.
    #[config(default = 0)]
    pub vocab_size: usize,
    /// Longest text in tokens (`<s>` and `</s>` included).
    #[config(default = 64)]
    pub max_len: usize,
    /// Width of the encoder and the Perceiver.
    #[config(default = 128)]
    pub d_model: usize,
    /// Attention heads everywhere.
    #[config(default = 4)]
    pub n_heads: usize,
    /// Encoder blocks.
    #[config(default = 3)]
    pub encoder_layers: usize,
    /// Perceiver layers.
    #[config(default = 2)]
    pub perceiver_layers: usize,
    /// Number of latent vectors `l`.
    #[config(default = 16)]
    pub num_latents: usize,
    /// Width of a latent vector `d`.
    #[config(default = 32)]
    pub d_latent: usize,
    /// Latent regulariser.
    #[config(default = "LatentRegularizer::L2Sphere")]
    pub regularizer: LatentRegularizer,
    /// Training-time Gaussian noise on the latents, as a fraction of their RMS, so the decoder
    /// tolerates the small errors of generated latents. 0 disables it.
    #[config(default = 0.0)]
    pub latent_noise: f64,
    /// Autoregressive decoder only: in training, each input token after `<s>` is replaced
    /// by `<mask>` with this probability (word dropout), so the decoder has to read the
    /// latents instead of leaning on the text so far. `None` or 0 disables it (an option so
    /// that configurations saved before it existed still load).
    #[config(default = "None")]
    pub word_dropout: Option<f64>,
    /// In training, each token of the *encoder's* input after `<s>` is replaced by `<mask>`
    /// with this probability while the decoder still reconstructs the whole text (a
    /// denoising autoencoder, Shen et al. 2020): texts that differ in a few words must share
    /// a latent neighbourhood, which makes the latent space smoother between texts. `None`
    /// or 0 disables it.
    #[config(default = "None")]
    pub encoder_word_dropout: Option<f64>,
    /// Parallel decoder only: train it over all `max_len` positions, as decoding runs it,
    /// instead of over the batch's longest text. Its positions attend to each other, so their
    /// number changes every output: on the E2E autoencoder, decoding over each text's own
    /// length instead of `max_len` drops token accuracy from 0.973 to 0.915. `None` = false.
    #[config(default = "None")]
    pub full_length_training: Option<bool>,
    /// The decoder scores tokens against the encoder's token embeddings (plus a bias)
    /// instead of an output matrix of its own, so a token's input and output representations
    /// are one and rare tokens learn from both sides; the autoregressive decoder also reads its
    /// input tokens from them. Needs `d_decoder == d_model`. `None` = false.
    #[config(default = "None")]
    pub tie_embeddings: Option<bool>,
    /// Width of the reconstruction network and the decoder (may be smaller than `d_model`).
    #[config(default = 128)]
    pub d_decoder: usize,
    /// Blocks of the reconstruction network.
    #[config(default = 1)]
    pub reconstruction_layers: usize,
    /// Decoder blocks.
    #[config(default = 3)]
    pub decoder_layers: usize,
    /// Decoder kind.
    #[config(default = "DecoderKind::Parallel")]
    pub decoder: DecoderKind,
}

/// The first `(name, ours, theirs)` whose sizes differ, as an error naming `whose` value.
fn first_size_difference(sizes: &[(&str, usize, usize)], whose: &str) -> Result<(), String> {
    match sizes.iter().find(|(_, ours, theirs)| ours != theirs) {
        Some((name, ours, theirs)) => Err(format!("{name} is {ours}, {whose} is {theirs}")),
        None => Ok(()),
    }
}

/// Text ⇄ latents: encoder, Perceiver compression to `[l, d]`, regulariser, reconstruction
/// network and decoder.
#[derive(Module, Debug)]
pub struct Autoencoder {
    encoder: TextEncoder,
    perceiver: PerceiverResampler,
    to_latent: Linear,
    expander: LatentExpander,
    parallel: Option<ParallelDecoder>,
    autoregressive: Option<AutoregressiveDecoder>,
    #[module(skip)]
    regularizer: LatentRegularizer,
    latent_noise: f64,
    word_dropout: f64,
    encoder_word_dropout: f64,
    full_length_training: bool,
    d_latent: usize,
}

/// What a training forward pass gives.
#[derive(Debug, Clone)]
pub struct AutoencoderOutput {
    /// Cross-entropy plus the regulariser's term, a scalar.
    pub loss: Tensor<1>,
    /// Token cross-entropy alone (padding ignored), a scalar.
    pub cross_entropy: Tensor<1>,
    /// Predicted token ids, `[batch, seq]` (`[batch, max_len]` for a parallel decoder with
    /// `full_length_training`), aligned with `targets`.
    pub predictions: Tensor<2, Int>,
    /// Target ids, the shape of `predictions`.
    pub targets: Tensor<2, Int>,
    /// `true` where the target is padding, the shape of `predictions`.
    pub target_padding: Tensor<2, Bool>,
}

/// Id that word dropout puts in place of a token: the tokenizer's `<mask>`.
pub const MASK_ID: i64 = 4;

/// Replaces each token after the first (`<s>`) by [`MASK_ID`] with probability `p`.
///
/// # Shapes
/// - `ids`: `[batch, seq]` with `seq >= 2`
fn drop_words(ids: Tensor<2, Int>, p: f64) -> Tensor<2, Int> {
    let [batch, seq] = ids.dims();
    let device = ids.device();
    let keep_first = Tensor::<2, Int>::zeros([batch, 1], &device).equal_elem(1);
    let dropped = Tensor::<2>::random([batch, seq - 1], Distribution::Uniform(0.0, 1.0), &device)
        .lower_elem(p);
    ids.mask_fill(Tensor::cat(vec![keep_first, dropped], 1), MASK_ID)
}

/// How to decode latents.
#[derive(Debug, Clone, PartialEq)]
pub enum DecodeStrategy {
    /// Most likely token everywhere (parallel) or at every step (autoregressive).
    Greedy,
    /// Beam search (autoregressive decoder only; the parallel decoder decodes greedily).
    Beam(BeamSearchConfig),
    /// Beam search with a language model's log-probabilities added to the decoder's
    /// (shallow fusion; autoregressive decoder only).
    FusedBeam(BeamSearchConfig, Fusion),
}

impl AutoencoderConfig {
    /// Why this configuration cannot be built, if it cannot.
    pub fn check(&self) -> Result<(), String> {
        if self.tie_embeddings == Some(true) && self.d_decoder != self.d_model {
            return Err(format!(
                "tie_embeddings needs d_decoder ({}) equal to d_model ({})",
                self.d_decoder, self.d_model
            ));
        }
        Ok(())
    }

    /// Why an autoencoder of this configuration cannot take the encoder side (encoder,
    /// Perceiver, latent projection) of one configured as `source`, if it cannot.
    pub fn check_encoder_matches(&self, source: &AutoencoderConfig) -> Result<(), String> {
        let sizes = [
            ("vocab_size", self.vocab_size, source.vocab_size),
            ("max_len", self.max_len, source.max_len),
            ("d_model", self.d_model, source.d_model),
            ("n_heads", self.n_heads, source.n_heads),
            ("encoder_layers", self.encoder_layers, source.encoder_layers),
            (
                "perceiver_layers",
                self.perceiver_layers,
                source.perceiver_layers,
            ),
            ("num_latents", self.num_latents, source.num_latents),
            ("d_latent", self.d_latent, source.d_latent),
        ];
        first_size_difference(&sizes, "the source encoder's")?;
        if self.regularizer != source.regularizer {
            return Err(format!(
                "regularizer is {:?}, the source encoder's is {:?}",
                self.regularizer, source.regularizer
            ));
        }
        Ok(())
    }

    /// Why an autoencoder of this configuration cannot take all the weights (encoder side,
    /// reconstruction network and decoder) of one configured as `source`, if it cannot. The
    /// training-only settings (latent noise, word dropout, full-length training) may differ.
    pub fn check_decoder_matches(&self, source: &AutoencoderConfig) -> Result<(), String> {
        self.check_encoder_matches(source)?;
        let sizes = [
            ("d_decoder", self.d_decoder, source.d_decoder),
            (
                "reconstruction_layers",
                self.reconstruction_layers,
                source.reconstruction_layers,
            ),
            ("decoder_layers", self.decoder_layers, source.decoder_layers),
        ];
        first_size_difference(&sizes, "the source's")?;
        if self.decoder != source.decoder {
            return Err(format!(
                "decoder is {:?}, the source's is {:?}",
                self.decoder, source.decoder
            ));
        }
        let (ours, theirs) = (
            self.tie_embeddings.unwrap_or(false),
            source.tie_embeddings.unwrap_or(false),
        );
        if ours != theirs {
            return Err(format!(
                "tie_embeddings is {ours}, the source's is {theirs}"
            ));
        }
        Ok(())
    }

    /// Builds the autoencoder.
    ///
    /// # Panics
    /// When [`Self::check`] fails.
    pub fn init(&self, device: &Device) -> Autoencoder {
        if let Err(message) = self.check() {
            panic!("invalid autoencoder configuration: {message}");
        }
        let parallel = (self.decoder == DecoderKind::Parallel).then(|| {
            ParallelDecoderConfig::new(self.vocab_size, self.max_len, self.d_decoder)
                .with_n_layers(self.decoder_layers)
                .with_n_heads(self.n_heads)
                .with_tied_output(self.tie_embeddings == Some(true))
                .init(device)
        });
        let autoregressive = (self.decoder == DecoderKind::Autoregressive).then(|| {
            AutoregressiveDecoderConfig::new(self.vocab_size, self.max_len, self.d_decoder)
                .with_n_layers(self.decoder_layers)
                .with_n_heads(self.n_heads)
                .with_tied_embeddings(self.tie_embeddings == Some(true))
                .init(device)
        });
        Autoencoder {
            encoder: TextEncoderConfig::new(self.vocab_size, self.max_len)
                .with_d_model(self.d_model)
                .with_n_layers(self.encoder_layers)
                .with_n_heads(self.n_heads)
                .init(device),
            perceiver: PerceiverConfig::new(self.d_model)
                .with_num_latents(self.num_latents)
                .with_n_layers(self.perceiver_layers)
                .with_n_heads(self.n_heads)
                .init(device),
            to_latent: LinearConfig::new(
                self.d_model,
                self.d_latent * self.regularizer.outputs_per_element(),
            )
            .init(device),
            expander: LatentExpanderConfig::new(self.d_latent, self.num_latents, self.d_decoder)
                .with_n_layers(self.reconstruction_layers)
                .with_n_heads(self.n_heads)
                .init(device),
            parallel,
            autoregressive,
            regularizer: self.regularizer,
            latent_noise: self.latent_noise,
            word_dropout: self.word_dropout.unwrap_or(0.0),
            encoder_word_dropout: self.encoder_word_dropout.unwrap_or(0.0),
            full_length_training: self.full_length_training.unwrap_or(false),
            d_latent: self.d_latent,
        }
    }
}

impl Autoencoder {
    /// Longest text in tokens.
    pub fn max_len(&self) -> usize {
        self.encoder.max_len()
    }

    /// Latent shape `[l, d]`.
    pub fn latent_shape(&self) -> [usize; 2] {
        [self.perceiver.num_latents(), self.d_latent]
    }

    /// Takes the encoder side (encoder, Perceiver, latent projection) of `source` and
    /// freezes it: training then changes only the reconstruction network and the decoder, so
    /// the latents stay exactly those of `source`, which denoisers trained on them still
    /// model. Check the configurations with [`AutoencoderConfig::check_encoder_matches`].
    pub fn with_encoder_of(self, source: Autoencoder) -> Self {
        Self {
            encoder: source.encoder,
            perceiver: source.perceiver,
            to_latent: source.to_latent,
            ..self
        }
        .freeze_encoder()
    }

    /// Stops gradients on the encoder side (encoder, Perceiver, latent projection), e.g.
    /// after loading a checkpoint of a run that trains a decoder for a frozen encoder.
    pub fn freeze_encoder(self) -> Self {
        Self {
            encoder: self.encoder.no_grad(),
            perceiver: self.perceiver.no_grad(),
            to_latent: self.to_latent.no_grad(),
            ..self
        }
    }

    /// The decoder kind.
    pub fn decoder_kind(&self) -> DecoderKind {
        if self.parallel.is_some() {
            DecoderKind::Parallel
        } else {
            DecoderKind::Autoregressive
        }
    }

    /// The encoder's token embeddings when the decoder is tied to them.
    fn tied_embeddings(&self) -> Option<Tensor<2>> {
        let tied = self.parallel.as_ref().is_some_and(ParallelDecoder::is_tied)
            || self
                .autoregressive
                .as_ref()
                .is_some_and(AutoregressiveDecoder::is_tied);
        tied.then(|| self.encoder.token_embeddings())
    }

    fn raw_latents(&self, ids: Tensor<2, Int>, padding: Tensor<2, Bool>) -> Tensor<3> {
        let states = self.encoder.forward(ids, padding.clone());
        self.to_latent
            .forward(self.perceiver.forward(states, padding))
    }

    /// Deterministic latents of a batch (the mean, for the KL regulariser).
    ///
    /// # Shapes
    /// - `ids`, `padding`: `[batch, seq]` with `seq <= max_len` → `[batch, l, d]`
    pub fn encode(&self, ids: Tensor<2, Int>, padding: Tensor<2, Bool>) -> Tensor<3> {
        self.regularizer
            .apply(self.raw_latents(ids, padding), false)
            .latents
    }

    /// Mean and log-variance of the latents, for [`LatentRegularizer::Kl`].
    ///
    /// # Shapes
    /// - `ids`, `padding`: `[batch, seq]` → `([batch, l, d], [batch, l, d])`
    pub fn encode_distribution(
        &self,
        ids: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
    ) -> Option<(Tensor<3>, Tensor<3>)> {
        self.regularizer
            .apply(self.raw_latents(ids, padding), false)
            .mean_logvar
    }

    /// Training forward pass with teacher forcing (autoregressive) or all positions
    /// (parallel): loss, predictions and targets.
    ///
    /// # Shapes
    /// - `ids`, `padding`: `[batch, seq]`, each row `<s> … </s> <pad>…`
    pub fn forward_loss(
        &self,
        ids: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
        training: bool,
    ) -> AutoencoderOutput {
        let [_, seq] = ids.dims();
        let encoder_ids = if training && self.encoder_word_dropout > 0.0 && seq > 2 {
            drop_words(ids.clone(), self.encoder_word_dropout)
        } else {
            ids.clone()
        };
        let regularized = self
            .regularizer
            .apply(self.raw_latents(encoder_ids, padding.clone()), training);
        let mut latents = regularized.latents;
        if training && self.latent_noise > 0.0 {
            let rms = latents.clone().detach().powi_scalar(2).mean().sqrt();
            let noise = Tensor::random(
                latents.shape(),
                Distribution::Normal(0.0, 1.0),
                &latents.device(),
            );
            latents = latents + noise * rms.unsqueeze::<3>().mul_scalar(self.latent_noise);
        }
        self.decoder_loss(latents, ids, padding, training, regularized.loss)
    }

    /// Training forward pass of the reconstruction network and decoder alone, on latents
    /// given from outside (e.g. a denoiser's estimates of the texts' latents, to teach the
    /// decoder the errors of generated latents). No regulariser term and no latent noise.
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]`
    /// - `ids`, `padding`: `[batch, seq]`, each row `<s> … </s> <pad>…`: the texts to decode
    pub fn forward_loss_on_latents(
        &self,
        latents: Tensor<3>,
        ids: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
        training: bool,
    ) -> AutoencoderOutput {
        self.decoder_loss(latents, ids, padding, training, None)
    }

    fn decoder_loss(
        &self,
        latents: Tensor<3>,
        ids: Tensor<2, Int>,
        padding: Tensor<2, Bool>,
        training: bool,
        regularizer_loss: Option<Tensor<1>>,
    ) -> AutoencoderOutput {
        let [batch, seq] = ids.dims();
        let memory = self.expander.forward(latents);
        let (logits, targets, target_padding) = match (&self.parallel, &self.autoregressive) {
            (Some(decoder), _) if self.full_length_training && seq < decoder.max_len() => {
                let extra = decoder.max_len() - seq;
                let device = ids.device();
                let ids = Tensor::cat(vec![ids, Tensor::zeros([batch, extra], &device)], 1);
                let pad = Tensor::<2, Int>::ones([batch, extra], &device).equal_elem(1);
                let padding = Tensor::cat(vec![padding, pad], 1);
                let logits = decoder.forward(memory, decoder.max_len(), self.tied_embeddings());
                (logits, ids, padding)
            }
            (Some(decoder), _) => (
                decoder.forward(memory, seq, self.tied_embeddings()),
                ids,
                padding,
            ),
            (None, Some(decoder)) => {
                let mut inputs = ids.clone().narrow(1, 0, seq - 1);
                if training && self.word_dropout > 0.0 && seq > 2 {
                    inputs = drop_words(inputs, self.word_dropout);
                }
                let logits = decoder.forward(inputs, memory, self.tied_embeddings());
                (
                    logits,
                    ids.narrow(1, 1, seq - 1),
                    padding.narrow(1, 1, seq - 1),
                )
            }
            (None, None) => unreachable!("an autoencoder always has a decoder"),
        };
        let [_, len, vocab] = logits.dims();
        let flat_targets = targets.clone().reshape([batch * len]);
        // Padding is ignored by mapping it to the pad id, which the loss skips.
        let cross_entropy = CrossEntropyLossConfig::new()
            .with_pad_tokens(Some(vec![0]))
            .init(&logits.device())
            .forward(logits.clone().reshape([batch * len, vocab]), flat_targets);
        let loss = match regularizer_loss {
            Some(term) => cross_entropy.clone() + term,
            None => cross_entropy.clone(),
        };
        AutoencoderOutput {
            loss,
            cross_entropy,
            predictions: logits.argmax(2).reshape([batch, len]),
            targets,
            target_padding,
        }
    }

    /// Decodes latents to token ids: each row starts after `<s>` and ends with `</s>` when
    /// the decoder produced one.
    ///
    /// # Shapes
    /// - `latents`: `[batch, l, d]`
    pub fn decode(
        &self,
        latents: Tensor<3>,
        strategy: &DecodeStrategy,
        bos: u32,
        eos: u32,
    ) -> Vec<Vec<u32>> {
        let memory = self.expander.forward(latents);
        match (&self.parallel, &self.autoregressive) {
            (Some(decoder), _) => {
                let [batch, _, _] = memory.dims();
                let len = decoder.max_len();
                let ids: Vec<i64> = decoder
                    .forward(memory, len, self.tied_embeddings())
                    .argmax(2)
                    .into_data()
                    .try_to_vec_as()
                    .unwrap_or_default();
                (0..batch)
                    .map(|b| {
                        let row = &ids[b * len..(b + 1) * len];
                        let mut out = Vec::new();
                        // Position 0 is `<s>`; the text ends at the first `</s>` or `<pad>`.
                        for &id in &row[1..] {
                            let id = id as u32;
                            if id == 0 {
                                break;
                            }
                            out.push(id);
                            if id == eos {
                                break;
                            }
                        }
                        out
                    })
                    .collect()
            }
            (None, Some(decoder)) => match strategy {
                DecodeStrategy::Greedy => decoder.greedy(memory, self.tied_embeddings(), bos, eos),
                DecodeStrategy::Beam(config) => {
                    decoder.beam_search(memory, self.tied_embeddings(), bos, eos, config, None)
                }
                DecodeStrategy::FusedBeam(config, fusion) => decoder.beam_search(
                    memory,
                    self.tied_embeddings(),
                    bos,
                    eos,
                    config,
                    Some(fusion),
                ),
            },
            (None, None) => unreachable!("an autoencoder always has a decoder"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    fn ids(batch: usize, seq: usize) -> Tensor<2, Int> {
        // Every id is 10 or more, so a masked one is always visible.
        let values: Vec<i64> = (0..(batch * seq) as i64).map(|i| 10 + i % 50).collect();
        Tensor::from_data(TensorData::new(values, [batch, seq]), &Device::flex())
    }

    fn rows(t: Tensor<2, Int>) -> Vec<i64> {
        t.into_data().try_to_vec_as().unwrap()
    }

    #[test]
    fn word_dropout_masks_about_p_of_the_tokens_and_never_the_first() {
        let (batch, seq) = (64, 33);
        let original = rows(ids(batch, seq));
        assert_eq!(rows(drop_words(ids(batch, seq), 0.0)), original);
        let all = rows(drop_words(ids(batch, seq), 1.0));
        for (i, (&a, &o)) in all.iter().zip(&original).enumerate() {
            let expected = if i % seq == 0 { o } else { MASK_ID };
            assert_eq!(a, expected);
        }
        let some = rows(drop_words(ids(batch, seq), 0.3));
        let masked = some.iter().filter(|&&v| v == MASK_ID).count();
        let fraction = masked as f64 / (batch * (seq - 1)) as f64;
        // 2 048 Bernoulli(0.3) draws: the standard deviation of the fraction is 0.010.
        assert!((fraction - 0.3).abs() < 0.05, "masked fraction {fraction}");
        for (i, (&s, &o)) in some.iter().zip(&original).enumerate() {
            assert!(s == o || (s == MASK_ID && i % seq != 0));
        }
    }
}
