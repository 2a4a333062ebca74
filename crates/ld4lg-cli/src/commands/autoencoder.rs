use crate::corpus::CorpusArgs;
use anyhow::Context;
use clap::Args;
use ld4lg::autoencoder::{
    AutoencoderConfig, BeamSearchConfig, DecodeStrategy, DecoderKind, Fusion,
};
use ld4lg::backend::DeviceChoice;
use ld4lg::burn::tensor::Device;
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::fusion::NgramTokenPrior;
use ld4lg::lm::LanguageModel;
use ld4lg::tokenizer::{Tokenizer, TokenizerConfig};
use ld4lg::train::{
    AutoencoderRun, AutoencoderRunConfig, DenoisedLatentsConfig, TrainingConfig,
    evaluate_reconstruction, train_autoencoder,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Run configuration (JSON): corpora, tokenizer, model, training. Without it the run is
    /// described by the flags below (defaults for the rest); with it, flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Run directory: tokenizer, weights, optimiser state, metrics. Resumed when it exists.
    #[arg(long)]
    run_dir: PathBuf,
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Validation corpus in the same format as --corpus (default: the training corpus).
    #[arg(long)]
    validation: Option<PathBuf>,
    /// Tokenizer vocabulary size.
    #[arg(long)]
    vocab_size: Option<usize>,
    /// Longest text in tokens.
    #[arg(long)]
    max_len: Option<usize>,
    /// Encoder and Perceiver width.
    #[arg(long)]
    d_model: Option<usize>,
    /// Number of latent vectors l.
    #[arg(long)]
    num_latents: Option<usize>,
    /// Width d of a latent vector.
    #[arg(long)]
    d_latent: Option<usize>,
    /// Decoder kind.
    #[arg(long, value_enum)]
    decoder: Option<DecoderName>,
    /// Number of optimiser steps.
    #[arg(long)]
    steps: Option<u64>,
    /// Batch size.
    #[arg(long)]
    batch_size: Option<usize>,
    /// Peak learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Seed of initialisation, data order and noise.
    #[arg(long)]
    seed: Option<u64>,
    /// Train only a new reconstruction network and decoder on the frozen encoder of this
    /// trained autoencoder (run directory or exported model), with its tokenizer; its latents,
    /// and so its denoisers, stay valid.
    #[arg(long)]
    encoder_from: Option<PathBuf>,
    /// With --encoder-from: start the decoder from its weights too (fine-tuning).
    #[arg(long, requires = "encoder_from")]
    init_decoder: bool,
    /// With --encoder-from: train the decoder on this diffusion model's estimates of the
    /// texts' latents (noised up to time 0.5 and denoised back in 4 DPM-Solver++ steps,
    /// a quarter of the batches clean), so that it learns to read generated latents.
    #[arg(long, requires = "encoder_from")]
    denoised_from: Option<PathBuf>,
    /// With --denoised-from (or a configuration's denoised_latents): condition the estimates
    /// on each training text's own class label or source, as the conditional denoiser
    /// generates, instead of on the null class or context.
    #[arg(long)]
    conditioned_estimates: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DecoderName {
    /// Non-autoregressive, all positions at once.
    Parallel,
    /// Autoregressive transformer (greedy or beam search).
    Autoregressive,
}

impl TrainArgs {
    /// The run configuration: the JSON file (or defaults on the given corpus), then flags.
    fn run_config(&self) -> anyhow::Result<AutoencoderRunConfig> {
        let given_corpus = !self.corpus.paths.is_empty() || !self.corpus.labels.is_empty();
        let mut config = match &self.config {
            Some(path) => super::read_config(path)?,
            None => {
                anyhow::ensure!(
                    given_corpus,
                    "give --config FILE, or describe the run with flags (at least --corpus)"
                );
                let train = self.corpus.spec()?;
                AutoencoderRunConfig {
                    validation: train.clone(),
                    train,
                    tokenizer: TokenizerConfig::default(),
                    model: AutoencoderConfig::new(),
                    training: TrainingConfig::default(),
                    encoder_from: None,
                    init_decoder: false,
                    denoised_latents: None,
                }
            }
        };
        if self.config.is_some() && given_corpus {
            config.train = self.corpus.spec()?;
            config.validation = config.train.clone();
        }
        if let Some(path) = &self.validation {
            let mut validation = self.corpus.clone();
            validation.paths = vec![path.clone()];
            config.validation = validation.spec()?;
        }
        let model = config.model.clone();
        config.model = model
            .with_max_len(self.max_len.unwrap_or(config.model.max_len))
            .with_d_model(self.d_model.unwrap_or(config.model.d_model))
            .with_num_latents(self.num_latents.unwrap_or(config.model.num_latents))
            .with_d_latent(self.d_latent.unwrap_or(config.model.d_latent))
            .with_decoder(match self.decoder {
                Some(DecoderName::Parallel) => DecoderKind::Parallel,
                Some(DecoderName::Autoregressive) => DecoderKind::Autoregressive,
                None => config.model.decoder,
            });
        if let Some(v) = self.vocab_size {
            config.tokenizer.vocab_size = v;
        }
        let t = &mut config.training;
        t.steps = self.steps.unwrap_or(t.steps);
        t.batch_size = self.batch_size.unwrap_or(t.batch_size);
        t.lr.peak = self.lr.unwrap_or(t.lr.peak);
        t.seed = self.seed.unwrap_or(t.seed);
        if let Some(dir) = &self.encoder_from {
            config.encoder_from = Some(dir.clone());
        }
        config.init_decoder |= self.init_decoder;
        if let Some(dir) = &self.denoised_from {
            config.denoised_latents = Some(DenoisedLatentsConfig::new(dir.clone()));
        }
        if self.conditioned_estimates {
            let denoised = config.denoised_latents.as_mut().ok_or_else(|| {
                anyhow::anyhow!(
                    "--conditioned-estimates needs --denoised-from or a configuration with denoised_latents"
                )
            })?;
            denoised.conditioned = true;
        }
        Ok(config)
    }
}

/// `--fusion-weight` with an n-gram model of `--fusion-corpus`: a light touch (the documented
/// settings are 2 for interpolation and 8 for unconditional samples).
const DEFAULT_NGRAM_FUSION_WEIGHT: f64 = 0.3;
/// `--fusion-weight` with the language model of `--fusion-lm` (session 19's interpolation
/// setting; weights from 3 on drift to venues neither end names).
const DEFAULT_LM_FUSION_WEIGHT: f64 = 2.0;

/// How latents become text, shared by the commands that decode.
#[derive(Debug, Clone, Args)]
pub struct DecodeArgs {
    /// Beam size for autoregressive decoders (1: greedy; parallel decoders are always greedy).
    #[arg(long, default_value_t = 1)]
    beam: usize,
    /// Beam search ranks finished texts by log p / length^this.
    #[arg(long, default_value_t = 1.0)]
    length_penalty: f64,
    /// Beam search never repeats an n-gram of this size (0: allowed).
    #[arg(long, default_value_t = 0)]
    no_repeat_ngram: usize,
    /// Never emit a token right after itself ("restaurant restaurant").
    #[arg(long)]
    no_adjacent_repeat: bool,
    /// Shallow fusion: beam search adds the log-probabilities of a token n-gram model
    /// (Kneser–Ney, the checkpoint's tokenizer, order --fusion-order) trained at start-up
    /// on these texts to the decoder's (autoregressive decoders). Files as for
    /// --fluency-corpus: an E2E CSV or one text per line. Use the training corpus.
    #[arg(
        long = "fusion-corpus",
        value_name = "PATH",
        conflicts_with = "fusion_lm"
    )]
    fusion_corpus: Vec<PathBuf>,
    /// Shallow fusion with a trained neural language model instead (a directory with
    /// `tokenizer.json` and `lm/`, e.g. models/e2e; `ld4lg train-lm`): it sees the whole
    /// text decoded so far. Its tokenizer must be the checkpoint's.
    #[arg(long = "fusion-lm", value_name = "DIR")]
    fusion_lm: Option<PathBuf>,
    /// Weight of the fused log-probabilities [default: 0.3 with --fusion-corpus, 2 with
    /// --fusion-lm; docs/RESULTS.md gives the weights measured for each use].
    #[arg(long)]
    fusion_weight: Option<f64>,
    /// Order n of the fusion model (3: trigrams over tokens).
    #[arg(long, default_value_t = 3)]
    fusion_order: usize,
}

impl DecodeArgs {
    /// [`Self::strategy`] with the fusion model of --fusion-corpus (trained with the
    /// tokenizer of the run directory `checkpoint`) or of --fusion-lm (loaded on `device`).
    pub fn strategy_for(
        &self,
        checkpoint: &Path,
        device: &Device,
    ) -> anyhow::Result<DecodeStrategy> {
        let strategy = self.strategy()?;
        if self.fusion_corpus.is_empty() && self.fusion_lm.is_none() {
            return Ok(strategy);
        }
        let weight = self.fusion_weight.unwrap_or(if self.fusion_lm.is_some() {
            DEFAULT_LM_FUSION_WEIGHT
        } else {
            DEFAULT_NGRAM_FUSION_WEIGHT
        });
        super::fluency::check_weight("--fusion-weight", weight)?;
        let start = Instant::now();
        let tokenizer = Tokenizer::from_file(checkpoint.join("tokenizer.json"))?;
        let beam = match strategy {
            DecodeStrategy::Beam(config) => config,
            _ => BeamSearchConfig::new().with_beam_size(1),
        };
        if let Some(dir) = &self.fusion_lm {
            let lm = LanguageModel::load(dir, device)
                .with_context(|| format!("--fusion-lm {}", dir.display()))?;
            anyhow::ensure!(
                lm.tokenizer().to_json()? == tokenizer.to_json()?,
                "--fusion-lm {}: its tokenizer is not {}'s; fusion adds scores of the same token ids",
                dir.display(),
                checkpoint.display()
            );
            eprintln!(
                "fusion model: the language model of {} ({:.1}s)",
                dir.display(),
                start.elapsed().as_secs_f64()
            );
            return Ok(DecodeStrategy::FusedBeam(
                beam,
                Fusion::new(Arc::new(lm), weight),
            ));
        }
        let texts = super::fluency::corpus_texts(&self.fusion_corpus)?;
        anyhow::ensure!(self.fusion_order > 0, "--fusion-order must be at least 1");
        let prior = NgramTokenPrior::train(&tokenizer, &texts, self.fusion_order)?;
        eprintln!(
            "fusion model: token {}-grams of {} texts in {:.1}s",
            self.fusion_order,
            texts.len(),
            start.elapsed().as_secs_f64()
        );
        Ok(prior.into_fused_beam(beam, weight))
    }

    pub fn strategy(&self) -> anyhow::Result<DecodeStrategy> {
        anyhow::ensure!(self.beam > 0, "--beam must be at least 1");
        anyhow::ensure!(
            self.length_penalty.is_finite(),
            "--length-penalty must be finite"
        );
        if self.beam == 1 && self.no_repeat_ngram == 0 && !self.no_adjacent_repeat {
            return Ok(DecodeStrategy::Greedy);
        }
        // Beam 1 with a ban is constrained greedy search, which beam search does.
        Ok(DecodeStrategy::Beam(
            BeamSearchConfig::new()
                .with_beam_size(self.beam)
                .with_length_penalty(self.length_penalty)
                .with_no_repeat_ngram(self.no_repeat_ngram)
                .with_no_adjacent_repeat(self.no_adjacent_repeat),
        ))
    }
}

#[derive(Debug, Args)]
pub struct ReconstructArgs {
    /// Run directory of a trained autoencoder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Score reconstruction of this E2E-format corpus instead of reconstructing TEXTS.
    #[arg(long, conflicts_with = "texts")]
    e2e: Option<PathBuf>,
    /// Use at most this many texts of --e2e.
    #[arg(long)]
    limit: Option<usize>,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Add Gaussian noise of this many RMS units to the latents before decoding.
    #[arg(long, default_value_t = 0.0)]
    latent_noise: f64,
    /// Texts to reconstruct.
    texts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct InterpolateArgs {
    /// Run directory of a trained autoencoder.
    #[arg(long)]
    checkpoint: PathBuf,
    /// Number of texts along the path, both ends included.
    #[arg(long, default_value_t = 5)]
    points: usize,
    /// Interpolate linearly instead of spherically.
    #[arg(long, conflicts_with = "denoise")]
    linear: bool,
    /// Noise every point of the (spherical) path to this time and denoise it back with the
    /// run's denoiser before decoding (needs a run with a trained denoiser).
    #[arg(long)]
    denoise: Option<f64>,
    /// Interpolate between the texts' noises instead: DDIM inversion to this time (default 1,
    /// pure noise) with --steps steps, then DDIM sampling of every point (needs a run with a
    /// trained denoiser): every point is a sample of the model.
    #[arg(long, conflicts_with_all = ["denoise", "linear"], num_args = 0..=1, default_missing_value = "1.0")]
    invert: Option<f64>,
    /// Noise seed for --denoise (the same noise for every point).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// With --denoise: denoise the path this many times (seeds seed, seed + 1, …) and keep,
    /// at each point, the text picked by --mbr and/or the fluency term (else the first).
    #[arg(long, default_value_t = 1, requires = "denoise")]
    candidates: usize,
    /// With --candidates: pick by minimum Bayes risk among a point's candidates (sentence BLEU).
    #[arg(long, requires = "denoise")]
    mbr: bool,
    /// With --denoise: decode the two ends from their own latents, without noise or fusion
    /// (their reconstructions), and denoise only the points between them.
    #[arg(long, requires = "denoise")]
    keep_ends: bool,
    /// With --denoise: also write every point's candidates, one JSON array per denoised
    /// point (the points between the ends only with --keep-ends).
    #[arg(long, requires = "denoise")]
    candidates_out: Option<PathBuf>,
    #[command(flatten)]
    fluency: super::fluency::FluencyArgs,
    /// Sampler steps for --denoise (default 25) and --invert (DDIM, each way; default 100:
    /// inversion is first order and needs more steps to keep the ends).
    #[arg(long)]
    steps: Option<usize>,
    /// Sampler for --denoise.
    #[arg(long, value_enum, default_value = "dpm++", requires = "denoise")]
    sampler: super::diffusion::SamplerName,
    /// Sampling temperature for --denoise: multiplies every noise a stochastic sampler
    /// (ddpm) adds on the way back. Below 1: more typical texts.
    #[arg(long, default_value_t = 1.0, requires = "denoise")]
    noise_scale: f64,
    #[command(flatten)]
    decode: DecodeArgs,
    /// Start text.
    from: String,
    /// End text.
    to: String,
}

pub fn train(args: TrainArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let config = args.run_config()?;
    let start = Instant::now();
    let options = super::interactive();
    let metrics = train_autoencoder(&config, &args.run_dir, &device.device()?, &options)?;
    println!(
        "autoencoder trained in {:.1} min: validation token accuracy {:.4}, exact match {:.4}, BLEU {:.2}",
        start.elapsed().as_secs_f64() / 60.0,
        metrics.token_accuracy,
        metrics.exact_match,
        metrics.bleu
    );
    Ok(())
}

pub fn reconstruct(args: ReconstructArgs, device: DeviceChoice) -> anyhow::Result<()> {
    let device = device.device()?;
    let run = AutoencoderRun {
        dir: args.checkpoint.clone(),
    };
    let (tokenizer, model) = run.load(&device)?;
    let strategy = args.decode.strategy_for(&args.checkpoint, &device)?;
    let texts: Vec<String> = match &args.e2e {
        Some(path) => {
            let stream = CorpusSpec::E2e { path: path.clone() }
                .open(OnError::Fail)?
                .texts();
            let texts: Result<Vec<String>, _> = match args.limit {
                Some(n) => stream.take(n).collect(),
                None => stream.collect(),
            };
            texts?
        }
        None => args.texts.clone(),
    };
    anyhow::ensure!(
        !texts.is_empty(),
        "nothing to reconstruct: give texts or --e2e FILE"
    );
    let start = Instant::now();
    let (metrics, decoded) = evaluate_reconstruction(
        &model,
        &tokenizer,
        &texts,
        &strategy,
        128,
        args.latent_noise,
        &device,
    )?;
    if args.e2e.is_some() {
        use ld4lg::burn::module::Module;
        let [l, d] = model.latent_shape();
        println!(
            "model: {} parameters, latents {l}×{d}, {:?} decoder",
            model.num_params(),
            model.decoder_kind()
        );
        println!(
            "{} texts in {:.1}s: token accuracy {:.4}, exact match {:.4}, BLEU {:.2}",
            texts.len(),
            start.elapsed().as_secs_f64(),
            metrics.token_accuracy,
            metrics.exact_match,
            metrics.bleu
        );
    } else {
        for (text, out) in texts.iter().zip(decoded) {
            println!("{text}\n  -> {out}");
        }
    }
    Ok(())
}

pub fn interpolate(args: InterpolateArgs, device: DeviceChoice) -> anyhow::Result<()> {
    anyhow::ensure!(args.points >= 2, "--points must be at least 2");
    anyhow::ensure!(
        !args.fluency.enabled() || args.denoise.is_some(),
        "--fluency-corpus picks among the candidates of --denoise"
    );
    let device = device.device()?;
    let strategy = args.decode.strategy_for(&args.checkpoint, &device)?;
    let pipeline = || -> anyhow::Result<ld4lg::pipeline::LatentDiffusionPipeline> {
        Ok(
            ld4lg::pipeline::LatentDiffusionPipeline::load(&args.checkpoint, &device)?
                .with_decode_strategy(strategy.clone()),
        )
    };
    let texts = match (args.invert, args.denoise) {
        (Some(depth), _) => pipeline()?.interpolate_inverted(
            &args.from,
            &args.to,
            args.points,
            depth,
            args.steps.unwrap_or(100),
        )?,
        (None, Some(strength)) => {
            let config = ld4lg::sampler::SamplerConfig {
                noise_scale: args.noise_scale,
                ..args.sampler.config(args.steps.unwrap_or(25))
            };
            anyhow::ensure!(args.candidates > 0, "--candidates must be positive");
            let fluency = args.fluency.model_for(args.candidates, &device)?;
            let seeds: Vec<u64> = (0..args.candidates as u64).map(|j| args.seed + j).collect();
            let similarity = args.mbr.then_some(ld4lg::metrics::MbrSimilarity::Bleu);
            let pipeline = pipeline()?;
            let denoise = if args.keep_ends {
                ld4lg::pipeline::LatentDiffusionPipeline::interpolate_denoised_interior_candidates
            } else {
                ld4lg::pipeline::LatentDiffusionPipeline::interpolate_denoised_candidates
            };
            let sets = denoise(
                &pipeline,
                &args.from,
                &args.to,
                args.points,
                strength,
                &config,
                &seeds,
            )?;
            if let Some(out) = &args.candidates_out {
                super::fluency::write_candidates(out, &sets)?;
            }
            let mut texts: Vec<String> = sets
                .into_iter()
                .map(|candidates| {
                    let chosen = super::fluency::pick(&candidates, similarity, fluency.as_ref())?;
                    Ok(candidates[chosen.unwrap_or(0)].clone())
                })
                .collect::<anyhow::Result<_>>()?;
            if args.keep_ends {
                // Without fusion: the ends' latents are exact, and a prior only pulls their
                // texts towards the corpus.
                let pipeline = pipeline.with_decode_strategy(args.decode.strategy()?);
                let mut ends = pipeline.reconstruct(&[args.from.as_str(), args.to.as_str()])?;
                let last = ends.pop().expect("two ends");
                texts.insert(0, ends.pop().expect("two ends"));
                texts.push(last);
            }
            texts
        }
        (None, None) => autoencoder_path(&args, &strategy, &device)?,
    };
    for (i, text) in texts.iter().enumerate() {
        println!("{:.2}  {text}", i as f64 / (args.points - 1) as f64);
    }
    Ok(())
}

/// The texts along the path between the two texts' latents, through the autoencoder alone.
fn autoencoder_path(
    args: &InterpolateArgs,
    strategy: &DecodeStrategy,
    device: &ld4lg::burn::tensor::Device,
) -> anyhow::Result<Vec<String>> {
    use ld4lg::autoencoder::{lerp, slerp};
    use ld4lg::burn::tensor::Tensor;
    use ld4lg::tokenizer::{EncodeOptions, special};
    let (tokenizer, model) = AutoencoderRun {
        dir: args.checkpoint.clone(),
    }
    .load(device)?;
    let batch =
        tokenizer.encode_batch(&[&args.from, &args.to], EncodeOptions::new(model.max_len()))?;
    let (ids, mask) = batch.to_tensors(device);
    let latents = model.encode(ids, mask);
    let a = latents.clone().narrow(0, 0, 1);
    let b = latents.narrow(0, 1, 1);
    let path: Vec<Tensor<3>> = (0..args.points)
        .map(|i| {
            let w = i as f64 / (args.points - 1) as f64;
            if args.linear {
                lerp(a.clone(), b.clone(), w)
            } else {
                slerp(a.clone(), b.clone(), w)
            }
        })
        .collect();
    let decoded = model.decode(
        Tensor::cat(path, 0),
        strategy,
        special::BOS_ID,
        special::EOS_ID,
    );
    Ok(tokenizer.decode_batch(&decoded)?)
}
