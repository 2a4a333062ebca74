use super::decode::DecodeArgs;
use crate::corpus::CorpusArgs;
use clap::Args;
use ld4lg::autoencoder::{AutoencoderConfig, DecoderKind};
use ld4lg::backend::DeviceChoice;
use ld4lg::data::{CorpusSpec, OnError};
use ld4lg::tokenizer::TokenizerConfig;
use ld4lg::train::{
    AutoencoderRun, AutoencoderRunConfig, DenoisedLatentsConfig, TrainingConfig,
    evaluate_reconstruction, train_autoencoder,
};
use std::path::PathBuf;
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
