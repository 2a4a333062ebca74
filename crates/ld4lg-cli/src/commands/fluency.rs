//! `--fluency-corpus` (a word n-gram model trained at start-up) or `--fluency-lm` (a trained
//! neural language model): a fluency term added when one of several candidates is picked.

use clap::Args;
use ld4lg::burn::tensor::Device;
use ld4lg::data::CorpusSpec;
use ld4lg::lm::LanguageModel;
use ld4lg::metrics::{MbrSimilarity, NgramLm, metric_tokens};
use ld4lg::pick::{CandidatePicker, FluencyModel};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Options of the fluency term.
#[derive(Debug, Clone, Args)]
pub struct FluencyArgs {
    /// Add a fluency term to the pick among candidates: a word n-gram model (Kneser–Ney)
    /// trained at start-up on these texts: an E2E CSV (name `*.csv` or `*.csv.gz`: its
    /// references) or files of one text per line (several allowed, e.g. both Yelp classes).
    /// Use the training corpus, never the texts you evaluate on.
    #[arg(long = "fluency-corpus", value_name = "PATH", conflicts_with = "lm")]
    pub corpus: Vec<PathBuf>,
    /// Add a fluency term scored by a trained causal language model instead: a model
    /// directory with `tokenizer.json` and `lm/` (`ld4lg train-lm`, `ld4lg export-lm`;
    /// `models/e2e` has one). It reads whole sentences, where the n-gram model sees
    /// `--fluency-order` words at a time.
    #[arg(long = "fluency-lm", value_name = "DIR")]
    pub lm: Option<PathBuf>,
    /// Weight of the fluency term: the candidate's mean log-probability per word (n-gram
    /// model) or per token (--fluency-lm), in nats, times this is added to its MBR score
    /// (mean similarity to the others, in [0, 1]).
    #[arg(long = "fluency-weight", default_value_t = 0.05)]
    pub weight: f64,
    /// Order n of the fluency model.
    #[arg(long = "fluency-order", default_value_t = 3)]
    pub order: usize,
}

fn is_e2e_csv(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase());
    name.is_some_and(|n| n.ends_with(".csv") || n.ends_with(".csv.gz"))
}

/// The texts of corpus files: an E2E CSV (`*.csv`, `*.csv.gz`: its references, and then the
/// only file) or files of one text per line.
pub fn corpus_texts(paths: &[PathBuf]) -> anyhow::Result<Vec<String>> {
    let spec = match paths {
        [path] if is_e2e_csv(path) => CorpusSpec::E2e { path: path.clone() },
        paths => {
            if let Some(csv) = paths.iter().find(|p| is_e2e_csv(p)) {
                anyhow::bail!("{}: an E2E CSV must be the only corpus file", csv.display());
            }
            CorpusSpec::Plain {
                paths: paths.to_vec(),
            }
        }
    };
    Ok(spec.read_texts()?)
}

/// Refuses a weight flag that is negative or not finite.
pub fn check_weight(flag: &str, weight: f64) -> anyhow::Result<()> {
    anyhow::ensure!(
        weight.is_finite() && weight >= 0.0,
        "{flag} must be a non-negative number, got {weight}"
    );
    Ok(())
}

/// A fluency model and the weight of its term.
pub type FluencyPick = (FluencyModel, f64);

/// Writes candidate sets for `--candidates-out`: one JSON array of strings per line.
pub fn write_candidates(path: &Path, sets: &[Vec<String>]) -> anyhow::Result<()> {
    use anyhow::Context;
    let lines: Vec<String> = sets
        .iter()
        .map(|c| serde_json::to_string(c).expect("strings serialise"))
        .collect();
    std::fs::write(path, lines.join("\n") + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

impl FluencyArgs {
    /// Whether a fluency term was asked for.
    pub fn enabled(&self) -> bool {
        !self.corpus.is_empty() || self.lm.is_some()
    }

    /// [`Self::model`] when there is a pick to make: with a single candidate per output the
    /// term picks nothing, so the model is not trained (`None`) and a note says so.
    pub fn model_for(
        &self,
        candidates: usize,
        device: &Device,
    ) -> anyhow::Result<Option<FluencyPick>> {
        if candidates <= 1 && self.enabled() {
            for path in &self.corpus {
                anyhow::ensure!(
                    path.is_file(),
                    "--fluency-corpus {}: no such file",
                    path.display()
                );
            }
            if let Some(dir) = &self.lm {
                anyhow::ensure!(
                    dir.is_dir(),
                    "--fluency-lm {}: no such directory",
                    dir.display()
                );
            }
            eprintln!("fluency term ignored: one candidate per output, nothing to pick");
            return Ok(None);
        }
        self.model(device)
    }

    /// The picker of `similarity` (MBR) and this fluency term, for `candidates` per output.
    pub fn picker(
        &self,
        similarity: Option<MbrSimilarity>,
        candidates: usize,
        device: &Device,
    ) -> anyhow::Result<CandidatePicker> {
        let picker = similarity.map_or_else(CandidatePicker::first, CandidatePicker::mbr);
        Ok(match self.model_for(candidates, device)? {
            Some((model, weight)) => picker.with_fluency(model, weight)?,
            None => picker,
        })
    }

    /// The model and its weight, `None` without `--fluency-corpus` or `--fluency-lm`.
    pub fn model(&self, device: &Device) -> anyhow::Result<Option<FluencyPick>> {
        if !self.enabled() {
            return Ok(None);
        }
        check_weight("--fluency-weight", self.weight)?;
        if let Some(dir) = &self.lm {
            let lm = LanguageModel::load(dir, device)
                .map_err(|e| anyhow::anyhow!("--fluency-lm {}: {e}", dir.display()))?;
            return Ok(Some((FluencyModel::Neural(Arc::new(lm)), self.weight)));
        }
        let start = Instant::now();
        let texts: Vec<Vec<String>> = corpus_texts(&self.corpus)?
            .iter()
            .map(|t| metric_tokens(t))
            .collect();
        let sentences = texts.len();
        let model = NgramLm::train(texts, self.order)?;
        eprintln!(
            "fluency model: order {} on {sentences} texts in {:.1}s",
            self.order,
            start.elapsed().as_secs_f64()
        );
        Ok(Some((FluencyModel::Ngram(model), self.weight)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e2e_csv_is_recognised_by_its_name() {
        assert!(is_e2e_csv(Path::new("data/e2e/trainset.csv.gz")));
        assert!(is_e2e_csv(Path::new("TRAIN.CSV")));
        assert!(!is_e2e_csv(Path::new("data/yelp/train.negative.txt.gz")));
    }
}
