use crate::corpus::CorpusArgs;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use ld4lg::tokenizer::{EncodeOptions, Tokenizer, TokenizerConfig, TokenizerKind};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum TokenizerCommand {
    /// Train a tokenizer on a corpus and write its tokenizer.json.
    Train(TrainArgs),
    /// Encode texts (arguments, or lines of --input) to token ids.
    Encode(EncodeArgs),
    /// Decode token ids back to text.
    Decode(DecodeArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Byte-level BPE: exact round trips, no unknown tokens.
    Bpe,
    /// WordPiece with `##` continuations.
    Wordpiece,
    /// Whole words; rare words become `<unk>`.
    Wordlevel,
}

impl From<Kind> for TokenizerKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Bpe => Self::Bpe,
            Kind::Wordpiece => Self::WordPiece,
            Kind::Wordlevel => Self::WordLevel,
        }
    }
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Subword model.
    #[arg(long, value_enum, default_value = "bpe")]
    kind: Kind,
    /// Vocabulary size, special tokens included.
    #[arg(long, default_value_t = 4000)]
    vocab_size: usize,
    /// Minimum frequency of a merge or word.
    #[arg(long, default_value_t = 2)]
    min_frequency: u64,
    /// Lower-case the text.
    #[arg(long)]
    lowercase: bool,
    /// A word that always stays one token (repeatable), e.g. `--whole-word _num_`.
    #[arg(long = "whole-word")]
    whole_words: Vec<String>,
    /// Where to write tokenizer.json.
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Args)]
pub struct EncodeArgs {
    /// tokenizer.json to use.
    #[arg(long)]
    tokenizer: PathBuf,
    /// Truncate to this many tokens (bos and eos included).
    #[arg(long)]
    max_len: Option<usize>,
    /// Read texts from this file, one per line, instead of the arguments.
    #[arg(long, conflicts_with = "texts")]
    input: Option<PathBuf>,
    /// Print JSON lines `{"text": …, "ids": […]}` instead of space-separated ids.
    #[arg(long)]
    json: bool,
    /// Texts to encode.
    texts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// tokenizer.json to use.
    #[arg(long)]
    tokenizer: PathBuf,
    /// Token ids.
    #[arg(required = true)]
    ids: Vec<u32>,
}

pub fn run(command: TokenizerCommand) -> anyhow::Result<()> {
    match command {
        TokenizerCommand::Train(args) => train(args),
        TokenizerCommand::Encode(args) => encode(args),
        TokenizerCommand::Decode(args) => decode(args),
    }
}

fn train(args: TrainArgs) -> anyhow::Result<()> {
    let spec = args.corpus.spec()?;
    let stream = spec.open(args.corpus.on_error())?;
    let skipped = stream.skip_counter();
    let config = TokenizerConfig {
        kind: args.kind.into(),
        vocab_size: args.vocab_size,
        min_frequency: args.min_frequency,
        lowercase: args.lowercase,
        whole_words: args.whole_words,
    };
    let progress = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} reading corpus: {human_pos} texts ({per_sec})")
            .expect("valid template"),
    );
    let start = Instant::now();
    let texts = stream
        .texts()
        .inspect(|_| progress.inc(1))
        .map(|item| item.map_err(ld4lg::Error::from));
    let tokenizer = Tokenizer::try_train(&config, texts)?;
    progress.finish_and_clear();
    tokenizer
        .save(&args.out)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!(
        "trained {} tokenizer: {} tokens from {} texts in {:.1}s{} -> {}",
        config.kind,
        tokenizer.vocab_size(),
        progress.position(),
        start.elapsed().as_secs_f64(),
        match skipped.get() {
            0 => String::new(),
            n => format!(" ({n} malformed rows skipped)"),
        },
        args.out.display()
    );
    Ok(())
}

fn encode(args: EncodeArgs) -> anyhow::Result<()> {
    let tokenizer = Tokenizer::from_file(&args.tokenizer)?;
    let texts: Vec<String> = match &args.input {
        Some(path) => super::read_lines(path)?,
        None => args.texts.clone(),
    };
    anyhow::ensure!(
        !texts.is_empty(),
        "nothing to encode: give texts or --input FILE"
    );
    let max_len = match args.max_len {
        Some(max_len) => max_len,
        // Long enough for any text: the longest encoding.
        None => texts
            .iter()
            .map(|t| tokenizer.encode(t).map(|ids| ids.len()))
            .try_fold(3, |acc, len| len.map(|len| acc.max(len)))?,
    };
    let batch = tokenizer.encode_batch(&texts, EncodeOptions::new(max_len))?;
    let mut out = std::io::stdout().lock();
    for (text, (ids, &len)) in texts.iter().zip(batch.ids.iter().zip(&batch.lengths)) {
        let ids = &ids[..len];
        if args.json {
            serde_json::to_writer(&mut out, &serde_json::json!({ "text": text, "ids": ids }))?;
            writeln!(out)?;
        } else {
            let line: Vec<String> = ids.iter().map(u32::to_string).collect();
            writeln!(out, "{}", line.join(" "))?;
        }
    }
    Ok(())
}

fn decode(args: DecodeArgs) -> anyhow::Result<()> {
    let tokenizer = Tokenizer::from_file(&args.tokenizer)?;
    let vocab = tokenizer.vocab_size();
    if let Some(bad) = args.ids.iter().find(|&&id| id as usize >= vocab) {
        anyhow::bail!("token id {bad} is outside the vocabulary of {vocab} tokens");
    }
    println!("{}", tokenizer.decode(&args.ids)?);
    Ok(())
}
