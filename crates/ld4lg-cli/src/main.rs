//! `ld4lg`: the command-line interface of ld4lg.

mod commands;
mod corpus;

use clap::{Parser, Subcommand};
use ld4lg::backend::DeviceChoice;
use std::process::ExitCode;

/// Latent diffusion for language generation.
#[derive(Debug, Parser)]
#[command(name = "ld4lg", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Compute backend: flex, ndarray, wgpu, cuda or tch (each needs its Cargo feature).
    #[arg(long, global = true, default_value = "flex", env = "LD4LG_DEVICE")]
    device: DeviceChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train, apply and inspect tokenizers.
    #[command(subcommand)]
    Tokenizer(commands::tokenizer::TokenizerCommand),
    /// Train (or resume) a text autoencoder from a run configuration.
    TrainAutoencoder(commands::autoencoder::TrainArgs),
    /// Reconstruct texts through a trained autoencoder, or score it on an E2E file.
    Reconstruct(commands::autoencoder::ReconstructArgs),
    /// Train a whole run: tokenizer, autoencoder, denoiser (each resumable, skipped when done).
    Train(commands::diffusion::RunArgs),
    /// Train (or resume) the latent denoiser on a run directory's autoencoder.
    TrainDiffusion(commands::diffusion::TrainArgs),
    /// Generate texts with a trained run.
    Generate(commands::diffusion::GenerateArgs),
    /// Edit texts: noise their latents part-way and denoise them back.
    Edit(commands::diffusion::EditArgs),
    /// Copy what generation needs from a run, with half-precision weights, for shipping.
    Export(commands::diffusion::ExportArgs),
    /// Score generated texts: pool BLEU, diversity, duplicates, copies, length, beside humans.
    Eval(commands::diffusion::EvalArgs),
    /// Train or evaluate the independent n-gram classifier that judges attribute control.
    #[command(subcommand)]
    Classifier(commands::conditional::ClassifierCommand),
    /// Score class-conditional samples: classifier accuracy, pool BLEU, diversity, copies.
    EvalClass(commands::conditional::EvalClassArgs),
    /// Score sequence-to-sequence outputs against E2E references grouped by meaning
    /// representation: multi-reference BLEU-4 and ROUGE-L (random, MBR and oracle picks).
    EvalSeq2seq(commands::conditional::EvalSeq2SeqArgs),
    /// Print the distinct meaning representations of an E2E file (a --source-file).
    E2eSources(commands::conditional::E2eSourcesArgs),
    /// Reconstruct texts through noise: the denoiser's estimate against the decoder alone,
    /// at several noise levels (a quick check of how much a denoiser has learnt).
    Probe(commands::probe::ProbeArgs),
    /// Decode points on the path between the latents of two texts.
    Interpolate(commands::interpolate::InterpolateArgs),
    /// Train (or resume) the causal language model that --fluency-lm scores candidates with.
    TrainLm(commands::lm::TrainLmArgs),
    /// Copy a trained language model into a model directory, with half-precision weights.
    ExportLm(commands::lm::ExportLmArgs),
    /// Check every weight file of a model or run directory against its SHA-256 manifest.
    Verify(commands::verify::VerifyArgs),
    /// Show the compiled backends and check that the chosen device computes.
    Info,
}

fn main() -> ExitCode {
    ld4lg::backend::reuse_large_allocations();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LD4LG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tokenizer(command) => commands::tokenizer::run(command),
        Command::TrainAutoencoder(args) => commands::autoencoder::train(args, cli.device),
        Command::Reconstruct(args) => commands::autoencoder::reconstruct(args, cli.device),
        Command::Train(args) => commands::diffusion::train_all(args, cli.device),
        Command::TrainDiffusion(args) => commands::diffusion::train(args, cli.device),
        Command::Generate(args) => commands::diffusion::generate(args, cli.device),
        Command::Edit(args) => commands::diffusion::edit(args, cli.device),
        Command::Eval(args) => commands::diffusion::eval(args),
        Command::Export(args) => commands::diffusion::export(args, cli.device),
        Command::Interpolate(args) => commands::interpolate::run(args, cli.device),
        Command::Classifier(command) => commands::conditional::classifier(command),
        Command::EvalClass(args) => commands::conditional::eval_class(args),
        Command::EvalSeq2seq(args) => commands::conditional::eval_seq2seq(args, cli.device),
        Command::E2eSources(args) => commands::conditional::e2e_sources(args),
        Command::Probe(args) => commands::probe::run(args, cli.device),
        Command::TrainLm(args) => commands::lm::train(args, cli.device),
        Command::ExportLm(args) => commands::lm::export(args, cli.device),
        Command::Verify(args) => commands::verify::run(args),
        Command::Info => commands::info::run(cli.device),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
