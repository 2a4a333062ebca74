//! Conditional generation end to end on tiny models: two trivially separable classes (the
//! class must steer the samples), and source-conditioned generation (null-context guidance,
//! empty sources, export with the context encoder).

use burn::tensor::Device;
use ld4lg::autoencoder::{AutoencoderConfig, DecoderKind};
use ld4lg::data::{CorpusSpec, LabelledFile};
use ld4lg::denoiser::LatentDenoiserConfig;
use ld4lg::pipeline::LatentDiffusionPipeline;
use ld4lg::sampler::{SamplerConfig, SamplerKind};
use ld4lg::tokenizer::TokenizerConfig;
use ld4lg::train::{
    AutoencoderRun, AutoencoderRunConfig, ConditionConfig, DenoisedLatentsConfig,
    DiffusionRunConfig, LrSchedule, RunOptions, SourceEncoderConfig, TrainedCondition,
    TrainingConfig, train_autoencoder, train_diffusion,
};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const FOODS: [&str; 8] = [
    "pizza", "soup", "pasta", "salad", "curry", "bread", "cake", "fish",
];
const GOOD: [&str; 5] = ["great", "lovely", "tasty", "superb", "fresh"];
const THINGS: [&str; 8] = [
    "phone", "car", "laptop", "bike", "radio", "watch", "lamp", "kettle",
];
const DAYS: [&str; 5] = ["monday", "tuesday", "friday", "sunday", "saturday"];

/// Class "happy": "the pizza was great and fresh"; class "broken": "my phone broke on monday
/// again". No word is shared between the classes.
fn class_texts() -> (Vec<String>, Vec<String>) {
    let mut happy = Vec::new();
    let mut broken = Vec::new();
    for (i, food) in FOODS.iter().enumerate() {
        for j in 0..5 {
            happy.push(format!(
                "the {food} was {} and {}",
                GOOD[j],
                GOOD[(i + j + 1) % 5]
            ));
            broken.push(format!("my {} broke on {} again", THINGS[i], DAYS[j]));
        }
    }
    (happy, broken)
}

/// Both runs, trained one after the other before any test uses either: training and
/// loading a model both draw from the backend's global RNG, so nothing else may run while a
/// model trains if its weights are to be reproducible.
fn runs() -> &'static (tempfile::TempDir, tempfile::TempDir) {
    static RUNS: OnceLock<(tempfile::TempDir, tempfile::TempDir)> = OnceLock::new();
    RUNS.get_or_init(|| (train_class_run(), train_source_run()))
}

fn class_run() -> &'static Path {
    runs().0.path()
}

fn source_run() -> &'static Path {
    runs().1.path()
}

fn training(steps: u64) -> TrainingConfig {
    TrainingConfig {
        batch_size: 32,
        steps,
        lr: LrSchedule {
            peak: 2e-3,
            warmup_steps: 20,
            ..LrSchedule::default()
        },
        validate_every: 100,
        checkpoint_every: 1000,
        validation_size: 16,
        ..TrainingConfig::default()
    }
}

fn tiny_autoencoder(spec: CorpusSpec) -> AutoencoderRunConfig {
    AutoencoderRunConfig {
        train: spec.clone(),
        validation: spec,
        tokenizer: TokenizerConfig {
            vocab_size: 300,
            min_frequency: 1,
            ..TokenizerConfig::default()
        },
        model: AutoencoderConfig::new()
            .with_max_len(24)
            .with_d_model(48)
            .with_n_heads(2)
            .with_encoder_layers(1)
            .with_perceiver_layers(1)
            .with_num_latents(4)
            .with_d_latent(16)
            .with_d_decoder(48)
            .with_decoder_layers(1)
            .with_decoder(DecoderKind::Parallel),
        training: training(400),
        encoder_from: None,
        init_decoder: false,
        denoised_latents: None,
    }
}

fn tiny_denoiser() -> LatentDenoiserConfig {
    LatentDenoiserConfig::new()
        .with_d_model(48)
        .with_n_layers(2)
        .with_n_heads(2)
}

/// Trains the tiny autoencoder, then a denoiser with `condition` for `steps` steps.
fn train_tiny(dir: &tempfile::TempDir, spec: CorpusSpec, condition: ConditionConfig, steps: u64) {
    let device = Device::flex();
    train_autoencoder(
        &tiny_autoencoder(spec.clone()),
        dir.path(),
        &device,
        &RunOptions::default(),
    )
    .unwrap();
    let diffusion = DiffusionRunConfig {
        training: training(steps),
        condition,
        ..DiffusionRunConfig::new(spec, tiny_denoiser())
    };
    train_diffusion(&diffusion, dir.path(), &device, &RunOptions::default()).unwrap();
}

fn train_class_run() -> tempfile::TempDir {
    {
        let dir = tempfile::tempdir().unwrap();
        let (happy, broken) = class_texts();
        let files: Vec<LabelledFile> = [("happy", &happy), ("broken", &broken)]
            .iter()
            .map(|(label, texts)| {
                let path = dir.path().join(format!("{label}.txt"));
                std::fs::write(&path, texts.join("\n")).unwrap();
                LabelledFile {
                    label: label.to_string(),
                    path,
                }
            })
            .collect();
        let spec = CorpusSpec::LabelledFiles { files };
        train_tiny(&dir, spec, ConditionConfig::Class { dropout: 0.2 }, 1000);
        dir
    }
}

/// Which class a text belongs to by its words (the classes share none); `None` if unclear.
fn judge(text: &str) -> Option<&'static str> {
    let (happy, broken) = class_texts();
    let vocabulary = |texts: &[String]| -> std::collections::HashSet<String> {
        texts
            .iter()
            .flat_map(|t| t.split_whitespace().map(str::to_owned))
            .collect()
    };
    let (h, b) = (vocabulary(&happy), vocabulary(&broken));
    let words: Vec<&str> = text.split_whitespace().collect();
    let in_h = words.iter().filter(|w| h.contains(**w)).count();
    let in_b = words.iter().filter(|w| b.contains(**w)).count();
    match in_h.cmp(&in_b) {
        std::cmp::Ordering::Greater => Some("happy"),
        std::cmp::Ordering::Less => Some("broken"),
        std::cmp::Ordering::Equal => None,
    }
}

fn sampler(guidance: f64) -> SamplerConfig {
    SamplerConfig {
        kind: SamplerKind::DpmSolverPlusPlus { order: 2 },
        steps: 20,
        guidance_scale: guidance,
        ..SamplerConfig::default()
    }
}

#[test]
fn the_class_steers_generation() {
    let pipeline = LatentDiffusionPipeline::load(class_run(), &Device::flex()).unwrap();
    assert_eq!(pipeline.classes(), ["broken", "happy"]);
    for class in ["happy", "broken"] {
        let texts = pipeline
            .generate_class(class, 40, &sampler(2.0), 11)
            .unwrap();
        let right = texts.iter().filter(|t| judge(t) == Some(class)).count();
        assert!(right >= 38, "{right}/40 of class {class}: {texts:?}");
    }
}

#[test]
fn null_class_generation_and_class_errors() {
    let pipeline = LatentDiffusionPipeline::load(class_run(), &Device::flex()).unwrap();
    // Without a class the denoiser uses its null class: both classes appear.
    let texts = pipeline.generate(40, &sampler(1.0), 3).unwrap();
    let happy = texts.iter().filter(|t| judge(t) == Some("happy")).count();
    let broken = texts.iter().filter(|t| judge(t) == Some("broken")).count();
    assert!(
        happy >= 4 && broken >= 4,
        "{happy} happy, {broken} broken: {texts:?}"
    );
    let err = pipeline
        .generate_class("angry", 2, &sampler(1.0), 0)
        .unwrap_err();
    assert!(err.to_string().contains("unknown class `angry`"), "{err}");
    assert!(pipeline.source_conditioning(&["x"]).is_err());
}

#[test]
fn editing_towards_a_class_changes_the_class() {
    let pipeline = LatentDiffusionPipeline::load(class_run(), &Device::flex()).unwrap();
    let sources = [
        "my laptop broke on friday again",
        "my car broke on sunday again",
    ];
    let edited = pipeline
        .edit_to_class(&sources, "happy", 0.9, &sampler(3.0), 5)
        .unwrap();
    let flipped = edited.iter().filter(|t| judge(t) == Some("happy")).count();
    assert!(flipped >= 1, "{edited:?}");
    // A light edit under the source's own class keeps it.
    let kept = pipeline
        .edit_to_class(&sources, "broken", 0.2, &sampler(1.0), 5)
        .unwrap();
    assert!(kept.iter().all(|t| judge(t) == Some("broken")), "{kept:?}");
}

/// Sources "dish NAME" → texts about that dish; trained with null-context dropout.
fn train_source_run() -> tempfile::TempDir {
    {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = Vec::new();
        for food in FOODS {
            for adjective in GOOD {
                rows.push(format!(
                    "{{\"text\": \"the {food} was {adjective}\", \"source\": \"dish {food}\"}}"
                ));
            }
        }
        let path: PathBuf = dir.path().join("pairs.jsonl");
        std::fs::write(&path, rows.join("\n")).unwrap();
        let spec = CorpusSpec::Jsonl {
            path,
            fields: ld4lg::data::JsonFields {
                text: "text".into(),
                label: None,
                source: Some("source".into()),
            },
        };
        train_tiny(
            &dir,
            spec,
            ConditionConfig::Source {
                encoder: SourceEncoderConfig {
                    max_len: 8,
                    d_model: 32,
                    n_layers: 1,
                    n_heads: 2,
                },
                dropout: 0.2,
            },
            300,
        );
        dir
    }
}

#[test]
fn sources_steer_generation_with_guidance_and_empty_sources_give_nothing() {
    let device = Device::flex();
    let pipeline = LatentDiffusionPipeline::load(source_run(), &device).unwrap();
    assert!(matches!(
        pipeline.condition(),
        TrainedCondition::Source { .. }
    ));
    let sources = ["dish soup", "", "dish cake", "dish fish"];
    let outputs = pipeline
        .generate_from_sources(&sources, 3, &sampler(2.0), 1)
        .unwrap();
    assert_eq!(outputs.len(), 4);
    assert!(outputs[1].is_empty());
    let mut right = 0;
    for (source, candidates) in sources.iter().zip(&outputs) {
        if source.is_empty() {
            continue;
        }
        assert_eq!(candidates.len(), 3);
        let dish = source.trim_start_matches("dish ");
        right += candidates.iter().filter(|c| c.contains(dish)).count();
    }
    assert!(right >= 7, "{right}/9 mention their dish: {outputs:?}");
    // Candidate j of source i depends only on seed + i·k + j.
    let alone = pipeline
        .generate_from_sources(&["dish fish"], 3, &sampler(2.0), 1 + 3 * 3)
        .unwrap();
    assert_eq!(alone[0], outputs[3]);
    // The unconditional branch (null context) runs on its own too.
    assert_eq!(pipeline.generate(3, &sampler(1.0), 0).unwrap().len(), 3);
    assert!(pipeline.generate_class("x", 1, &sampler(1.0), 0).is_err());
}

#[test]
fn export_keeps_the_context_encoder() {
    let device = Device::flex();
    let out = tempfile::tempdir().unwrap();
    ld4lg::train::export_run(source_run(), out.path(), &device).unwrap();
    assert!(out.path().join("diffusion/source_encoder_ema.bpk").exists());
    let original = LatentDiffusionPipeline::load(source_run(), &device).unwrap();
    let exported = LatentDiffusionPipeline::load(out.path(), &device).unwrap();
    let a = original
        .generate_from_sources(&["dish pasta"], 4, &sampler(1.0), 2)
        .unwrap();
    let b = exported
        .generate_from_sources(&["dish pasta"], 4, &sampler(1.0), 2)
        .unwrap();
    let same = a[0].iter().zip(&b[0]).filter(|(x, y)| x == y).count();
    assert!(same >= 3, "{a:?} vs {b:?}");
}

/// Decoders fine-tuned on the class denoiser's estimates of heavily noised latents. With
/// each text's own class as the condition the estimates tell the decoder the class (and so
/// the sentence pattern), which null-class estimates of nearly pure noise cannot.
#[test]
fn conditioned_estimates_carry_the_class_to_the_decoder() {
    let source = class_run();
    let model = AutoencoderRun {
        dir: source.to_path_buf(),
    }
    .read_model_config()
    .unwrap();
    let labelled = CorpusSpec::LabelledFiles {
        files: ["happy", "broken"]
            .iter()
            .map(|label| LabelledFile {
                label: label.to_string(),
                path: source.join(format!("{label}.txt")),
            })
            .collect(),
    };
    let config = |train: CorpusSpec, conditioned| AutoencoderRunConfig {
        train: train.clone(),
        validation: train,
        tokenizer: TokenizerConfig::default(),
        model: model.clone(),
        training: TrainingConfig {
            validate_every: 20,
            ..training(60)
        },
        encoder_from: Some(source.to_path_buf()),
        init_decoder: true,
        denoised_latents: Some(DenoisedLatentsConfig {
            max_strength: 1.0,
            clean_rate: 0.0,
            sampler: SamplerConfig {
                steps: 4,
                ..sampler(2.0)
            },
            conditioned,
            ..DenoisedLatentsConfig::new(source.to_path_buf())
        }),
    };
    let device = Device::flex();
    let final_loss = |conditioned| {
        let dir = tempfile::tempdir().unwrap();
        train_autoencoder(
            &config(labelled.clone(), conditioned),
            dir.path(),
            &device,
            &RunOptions::default(),
        )
        .unwrap();
        let metrics = std::fs::read_to_string(dir.path().join("autoencoder/metrics.csv")).unwrap();
        let last = metrics.lines().last().unwrap().to_owned();
        last.split(',').nth(3).unwrap().parse::<f64>().unwrap()
    };
    let (with_class, null_class) = (final_loss(true), final_loss(false));
    // Measured: 0.812 against 0.963 (the same seeds, so equal were the condition ignored).
    assert!(
        with_class < 0.9 * null_class,
        "cross-entropy {with_class} with the texts' classes, {null_class} with the null class"
    );

    // Conditioned estimates need every text's label.
    let unlabelled = CorpusSpec::Plain {
        paths: vec![source.join("happy.txt")],
    };
    let dir = tempfile::tempdir().unwrap();
    let error = train_autoencoder(
        &config(unlabelled, true),
        dir.path(),
        &device,
        &RunOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("conditioned") && error.contains("training example 1 has no label"),
        "{error}"
    );
}
