//! Measuring conditional generation: an independent sentiment classifier, attribute accuracy
//! of class-conditional samples, and multi-reference scores of sequence-to-sequence outputs.

use super::fluency::FluencyArgs;
use super::{e2e_pairs, ensure_aligned, read_lines};
use anyhow::Context;
use clap::{Args, Subcommand};
use ld4lg::backend::DeviceChoice;
use ld4lg::classifier::{NgramClassifier, NgramClassifierConfig};
use ld4lg::data::{CorpusSpec, LabelledFile, OnError};
use ld4lg::metrics::{
    LeaveOneOut, MbrSimilarity, Seq2SeqScores, generation_metrics, group_references, human_metrics,
    metric_tokens, rerank_scored, sentence_bleu, seq2seq_scores, text_set,
};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum ClassifierCommand {
    /// Train the n-gram classifier on labelled files and report held-out accuracy.
    Train(ClassifierTrainArgs),
    /// Accuracy of a trained classifier on labelled files.
    Eval(ClassifierEvalArgs),
}

#[derive(Debug, Args)]
pub struct ClassifierTrainArgs {
    /// Training data, `NAME=PATH` (one text per line), repeated per class.
    #[arg(long = "label", value_name = "NAME=PATH", required = true)]
    labels: Vec<LabelledFile>,
    /// Held-out data to report accuracy on, `NAME=PATH`.
    #[arg(long = "heldout", value_name = "NAME=PATH")]
    heldout: Vec<LabelledFile>,
    /// Where to write the model.
    #[arg(long)]
    out: PathBuf,
    /// Passes over the data.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// log₂ of the number of hash buckets.
    #[arg(long, default_value_t = 18)]
    buckets_log2: u32,
}

#[derive(Debug, Args)]
pub struct ClassifierEvalArgs {
    /// The classifier.
    #[arg(long)]
    model: PathBuf,
    /// Data, `NAME=PATH`, repeated per class.
    #[arg(long = "label", value_name = "NAME=PATH", required = true)]
    labels: Vec<LabelledFile>,
}

#[derive(Debug, Args)]
pub struct EvalClassArgs {
    /// Generated texts, one per line.
    #[arg(long)]
    samples: PathBuf,
    /// The class they were generated for.
    #[arg(long)]
    class: String,
    /// The independent classifier that judges them.
    #[arg(long)]
    classifier: PathBuf,
    /// Reference pool of the class, one text per line (e.g. its validation split).
    #[arg(long)]
    references: PathBuf,
    /// Training texts, for the copy rate (repeatable).
    #[arg(long = "train")]
    train: Vec<PathBuf>,
    /// Line-aligned source texts the samples were edited from (style transfer): also report
    /// BLEU-4 of each sample against its own source.
    #[arg(long)]
    sources: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EvalSeq2SeqArgs {
    /// Source lines the outputs were generated from (meaning representations).
    #[arg(long)]
    sources: PathBuf,
    /// One output per source line.
    #[arg(long)]
    outputs: Option<PathBuf>,
    /// Every candidate, one JSON array per source line (from `generate --candidates-out`):
    /// reports the first (random) candidate, the MBR pick and the oracle pick.
    #[arg(long)]
    candidates: Option<PathBuf>,
    /// E2E CSV whose references are grouped by meaning representation.
    #[arg(long, default_value = "data/e2e/devset.csv.gz")]
    e2e: PathBuf,
    /// With --candidates: also report picks with the fluency term (alone and added to MBR).
    #[command(flatten)]
    fluency: FluencyArgs,
    /// Also report the human figure: the first, second and third reference of each meaning
    /// representation (with two or more) scored against its other references, each beside
    /// --outputs scored against those same references.
    #[arg(long)]
    human: bool,
}

fn labelled(files: &[LabelledFile]) -> anyhow::Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let spec = CorpusSpec::LabelledFiles {
        files: files.to_vec(),
    };
    for example in spec.open(OnError::Fail)? {
        let example = example?;
        out.push((example.text, example.label.unwrap_or_default()));
    }
    Ok(out)
}

fn per_class_accuracy(model: &NgramClassifier, data: &[(String, String)]) {
    for class in model.classes() {
        let rows: Vec<(String, String)> =
            data.iter().filter(|(_, l)| l == class).cloned().collect();
        if !rows.is_empty() {
            println!(
                "  {class:<12} {:.4} ({} texts)",
                model.accuracy(&rows),
                rows.len()
            );
        }
    }
    println!(
        "  {:<12} {:.4} ({} texts)",
        "all",
        model.accuracy(data),
        data.len()
    );
}

pub fn classifier(command: ClassifierCommand) -> anyhow::Result<()> {
    match command {
        ClassifierCommand::Train(args) => {
            let train = labelled(&args.labels)?;
            let config = NgramClassifierConfig {
                epochs: args.epochs,
                buckets_log2: args.buckets_log2,
                ..NgramClassifierConfig::default()
            };
            let start = std::time::Instant::now();
            let model = NgramClassifier::train(&config, &train)?;
            println!(
                "trained on {} texts in {:.1}s; training accuracy {:.4}",
                train.len(),
                start.elapsed().as_secs_f64(),
                model.accuracy(&train)
            );
            if !args.heldout.is_empty() {
                println!("held-out accuracy:");
                per_class_accuracy(&model, &labelled(&args.heldout)?);
            }
            model.save(&args.out)?;
            println!("wrote {}", args.out.display());
        }
        ClassifierCommand::Eval(args) => {
            let model = NgramClassifier::load(&args.model)?;
            println!("accuracy:");
            per_class_accuracy(&model, &labelled(&args.labels)?);
        }
    }
    Ok(())
}

pub fn eval_class(args: EvalClassArgs) -> anyhow::Result<()> {
    let samples = read_lines(&args.samples)?;
    anyhow::ensure!(
        !samples.is_empty(),
        "{} holds no samples",
        args.samples.display()
    );
    let model = NgramClassifier::load(&args.classifier)?;
    anyhow::ensure!(
        model.classes().contains(&args.class),
        "the classifier knows {}, not `{}`",
        model.classes().join(", "),
        args.class
    );
    let references = read_lines(&args.references)?;
    let mut train = Vec::new();
    for path in &args.train {
        train.extend(read_lines(path)?);
    }
    let training = text_set(&train);
    let hits = samples
        .iter()
        .filter(|s| model.predict(s) == args.class)
        .count();
    let generated = generation_metrics(&samples, &references, &training);
    let human = human_metrics(&references, references.len(), &training);
    let human_hits = references
        .iter()
        .filter(|s| model.predict(s) == args.class)
        .count();
    println!("metric            generated  human(pool, leave-one-out)");
    println!(
        "attribute acc.   {:>10.4} {:>11.4}",
        hits as f64 / samples.len() as f64,
        human_hits as f64 / references.len().max(1) as f64
    );
    println!(
        "pool BLEU-4       {:>10.4} {:>11.4}",
        generated.pool_bleu, human.pool_bleu
    );
    println!(
        "diversity        {:>10.4} {:>11.4}",
        generated.diversity, human.diversity
    );
    println!(
        "duplicate rate   {:>10.4} {:>11.4}",
        generated.duplicate_rate, human.duplicate_rate
    );
    println!(
        "copy rate        {:>10.4} {:>11.4}",
        generated.copy_rate, human.copy_rate
    );
    println!(
        "mean length      {:>10.4} {:>11.4}",
        generated.mean_length, human.mean_length
    );
    println!(
        "empty outputs    {:>10} {:>11}",
        generated.empty, human.empty
    );
    println!(
        "texts            {:>10} {:>11}",
        generated.count, human.count
    );
    if let Some(path) = &args.sources {
        let sources = read_lines(path)?;
        ensure_aligned(path, sources.len(), samples.len(), "samples")?;
        let hypotheses: Vec<Vec<String>> = samples.iter().map(|s| metric_tokens(s)).collect();
        let references: Vec<Vec<Vec<String>>> =
            sources.iter().map(|s| vec![metric_tokens(s)]).collect();
        let unchanged = samples.iter().zip(&sources).filter(|(a, b)| a == b).count();
        println!(
            "BLEU-4 to source {:>10.4}   (unchanged texts: {unchanged})",
            ld4lg::metrics::corpus_bleu(&hypotheses, &references)
        );
    }
    Ok(())
}

pub fn eval_seq2seq(args: EvalSeq2SeqArgs, device: DeviceChoice) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.outputs.is_some() || args.candidates.is_some(),
        "give --outputs, --candidates or both"
    );
    let pairs = e2e_pairs(&args.e2e)?;
    let (mrs, grouped) = group_references(&pairs);
    let by_mr: HashMap<&str, &Vec<String>> = mrs.iter().map(String::as_str).zip(&grouped).collect();
    let sources = read_lines(&args.sources)?;
    let mut references = Vec::with_capacity(sources.len());
    for (i, source) in sources.iter().enumerate() {
        let refs = by_mr.get(source.as_str()).with_context(|| {
            format!(
                "{} line {}: no references for this meaning representation in {}",
                args.sources.display(),
                i + 1,
                args.e2e.display()
            )
        })?;
        references.push((*refs).clone());
    }
    let print = |name: &str, scores: Seq2SeqScores| {
        println!(
            "{name:<22} BLEU-4 {:>6.2}  ROUGE-L {:>6.2}  ({} outputs)",
            scores.bleu, scores.rouge_l, scores.count
        );
    };
    let report = |name: &str, outputs: &[String]| print(name, seq2seq_scores(outputs, &references));
    let outputs = match &args.outputs {
        Some(path) => {
            let outputs = read_lines(path)?;
            ensure_aligned(path, outputs.len(), sources.len(), "sources")?;
            report("outputs", &outputs);
            Some(outputs)
        }
        None => None,
    };
    if args.human {
        for held_out in 0..3 {
            let split = LeaveOneOut::new(&references, held_out);
            print(
                &format!("human, ref {} held out", held_out + 1),
                split.human_scores(),
            );
            if let Some(outputs) = &outputs {
                print("outputs, same refs", split.scores_of(outputs));
            }
        }
    }
    if let Some(path) = &args.candidates {
        let sets: Vec<Vec<String>> = read_lines(path)?
            .iter()
            .enumerate()
            .map(|(i, l)| {
                serde_json::from_str(l)
                    .with_context(|| format!("{} line {}", path.display(), i + 1))
            })
            .collect::<anyhow::Result<_>>()?;
        ensure_aligned(path, sets.len(), sources.len(), "sources")?;
        let k = sets.iter().map(Vec::len).max().unwrap_or(0);
        let pick = |choose: &dyn Fn(usize, &[String]) -> usize| -> Vec<String> {
            sets.iter()
                .enumerate()
                .map(|(i, c)| c.get(choose(i, c)).cloned().unwrap_or_default())
                .collect()
        };
        report("random candidate", &pick(&|_, _| 0));
        let fluency = args.fluency.model(&device.device()?)?;
        // One fluency score per candidate of every set.
        let fluency: Option<(Vec<Vec<f64>>, f64)> = match &fluency {
            Some((model, weight)) => Some((
                sets.iter()
                    .map(|c| model.scores(c))
                    .collect::<Result<_, _>>()?,
                *weight,
            )),
            None => None,
        };
        let tokens: Vec<Vec<Vec<String>>> = sets
            .iter()
            .map(|c| c.iter().map(|t| metric_tokens(t)).collect())
            .collect();
        let mut rules = vec![
            (format!("MBR-{k} (bleu)"), Some(MbrSimilarity::Bleu), false),
            (
                format!("MBR-{k} (rouge-2)"),
                Some(MbrSimilarity::Rouge2),
                false,
            ),
        ];
        if fluency.is_some() {
            rules.extend([
                ("fluency".to_owned(), None, true),
                (
                    format!("MBR-{k} (bleu) + fl."),
                    Some(MbrSimilarity::Bleu),
                    true,
                ),
                (
                    format!("MBR-{k} (rouge-2) + fl."),
                    Some(MbrSimilarity::Rouge2),
                    true,
                ),
            ]);
        }
        for (name, similarity, with_fluency) in rules {
            let chosen = pick(&|i, _| {
                let term = fluency
                    .as_ref()
                    .filter(|_| with_fluency)
                    .map(|(scores, weight)| (scores[i].as_slice(), *weight));
                rerank_scored(&tokens[i], similarity, term).unwrap_or(0)
            });
            report(&name, &chosen);
        }
        // Oracle: the candidate closest to the references (an upper bound for reranking).
        let oracle = pick(&|i, c| {
            let refs: Vec<Vec<String>> = references[i].iter().map(|r| metric_tokens(r)).collect();
            let slices: Vec<&[String]> = refs.iter().map(Vec::as_slice).collect();
            let scores: Vec<f64> = c
                .iter()
                .map(|t| sentence_bleu(&metric_tokens(t), &slices))
                .collect();
            (0..c.len())
                .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
                .unwrap_or(0)
        });
        report(&format!("oracle-{k}"), &oracle);
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct E2eSourcesArgs {
    /// E2E CSV.
    #[arg(default_value = "data/e2e/devset.csv.gz")]
    e2e: PathBuf,
    /// Write here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The distinct meaning representations of an E2E file, in order of first appearance.
pub fn e2e_sources(args: E2eSourcesArgs) -> anyhow::Result<()> {
    let pairs = e2e_pairs(&args.e2e)?;
    let (mrs, _) = group_references(&pairs);
    let text = mrs.join("\n") + "\n";
    match args.out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    Ok(())
}
