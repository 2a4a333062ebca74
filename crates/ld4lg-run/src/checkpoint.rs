//! Checkpoints as one unit: every file of a checkpoint goes into a fresh step directory
//! (`STAGE/checkpoint-00000070/`), and `STAGE/state.json` naming that directory is written
//! last, by one atomic rename. A process killed at any moment leaves either the previous
//! checkpoint current or the new one, never weights of one step beside the state of another.

use crate::Error;
use crate::layout::files;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The name of a stage's training state.
pub const STATE_FILE: &str = "state.json";

/// Step directories are named `checkpoint-` and the step, zero-padded to eight digits.
const CHECKPOINT_PREFIX: &str = "checkpoint-";

/// Running sums of training metrics since the last validation, kept in the checkpoint so
/// that the averages `metrics.csv` reports do not depend on where the run was restarted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricWindow {
    /// Sums by name (losses, counts of correct tokens, …).
    pub sums: BTreeMap<String, f64>,
}

impl MetricWindow {
    /// Adds `value` to the sum called `name`.
    pub fn add(&mut self, name: &str, value: f64) {
        *self.sums.entry(name.to_string()).or_insert(0.0) += value;
    }

    /// The sum called `name` (0 when nothing was added).
    pub fn sum(&self, name: &str) -> f64 {
        self.sums.get(name).copied().unwrap_or(0.0)
    }

    /// `sum(numerator) / sum(denominator)`, or NaN when the denominator is 0.
    pub fn ratio(&self, numerator: &str, denominator: &str) -> f64 {
        let d = self.sum(denominator);
        if d == 0.0 {
            f64::NAN
        } else {
            self.sum(numerator) / d
        }
    }

    /// Whether every sum is finite (a NaN or an infinity means the run diverged).
    pub fn is_finite(&self) -> bool {
        self.sums.values().all(|v| v.is_finite())
    }

    /// Starts a new window (after a validation row).
    pub fn clear(&mut self) {
        self.sums.clear();
    }
}

/// Where a training run stands; `STAGE/state.json`, written last at every checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingState {
    /// Optimiser steps completed.
    pub step: u64,
    /// Seconds of training so far, over every process that trained the run.
    pub elapsed_seconds: f64,
    /// Training metrics summed since the last validation.
    #[serde(default)]
    pub window: MetricWindow,
    /// The step directory holding this state's weights; `None` for directories whose weights
    /// lie in the stage directory itself (exported models, runs of earlier releases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// Writes `bytes` to `path` through a temporary file, flushed to disk, and a rename, so that
/// a crash never leaves a half-written file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    crate::weights::sync_file(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

fn is_checkpoint_name(name: &str) -> bool {
    name.strip_prefix(CHECKPOINT_PREFIX)
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

impl TrainingState {
    /// Reads `state.json` if it exists.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] when the file is unreadable or names something other than a
    /// step directory.
    pub fn load(path: &Path) -> Result<Option<Self>, Error> {
        let state: Self = match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(path, e)),
        };
        if let Some(name) = &state.checkpoint
            && !is_checkpoint_name(name)
        {
            return Err(Error::Checkpoint(format!(
                "{}: `{name}` is not a checkpoint directory",
                path.display()
            )));
        }
        Ok(Some(state))
    }

    /// Writes `state.json` atomically.
    pub fn save(&self, path: &Path) -> Result<(), Error> {
        let json = serde_json::to_vec_pretty(self).map_err(|e| Error::Checkpoint(e.to_string()))?;
        atomic_write(path, &json)
    }

    /// Where training of `stage` resumes: its current state (step 0 when there is none),
    /// after removing what a killed process may have left: step directories that never
    /// became current and temporary files.
    pub fn resume(stage: &Path) -> Result<Self, Error> {
        std::fs::create_dir_all(stage).map_err(|e| Error::io(stage, e))?;
        let state = Self::load(&stage.join(STATE_FILE))?.unwrap_or_default();
        remove_stale(stage, state.checkpoint.as_deref())?;
        Ok(state)
    }
}

/// Removes the step directories of `stage` other than `current`, and temporary files.
fn remove_stale(stage: &Path, current: Option<&str>) -> Result<(), Error> {
    for entry in std::fs::read_dir(stage).map_err(|e| Error::io(stage, e))? {
        let path = entry.map_err(|e| Error::io(stage, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if is_checkpoint_name(name) && Some(name) != current && path.is_dir() {
            tracing::debug!("removing {}, not the current checkpoint", path.display());
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        } else if name.ends_with(".tmp") && path.is_file() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// The directory holding the current weights of `stage`: the step directory its
/// `state.json` names, or the stage directory itself when it names none (exported models,
/// runs of earlier releases) or cannot be read (the loader then reports what is missing).
pub fn checkpoint_dir(stage: &Path) -> PathBuf {
    match TrainingState::load(&stage.join(STATE_FILE)) {
        Ok(Some(TrainingState {
            checkpoint: Some(name),
            ..
        })) => stage.join(name),
        _ => stage.to_path_buf(),
    }
}

/// A checkpoint being written: files go into [`CheckpointWriter::dir`], then
/// [`CheckpointWriter::commit`] makes it current.
#[derive(Debug)]
pub struct CheckpointWriter {
    stage: PathBuf,
    name: String,
}

impl CheckpointWriter {
    /// Starts the checkpoint of `step` in a fresh `stage/checkpoint-{step}` (one left by a
    /// killed process is replaced).
    pub fn begin(stage: &Path, step: u64) -> Result<Self, Error> {
        let name = format!("{CHECKPOINT_PREFIX}{step:08}");
        let dir = stage.join(&name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(Self {
            stage: stage.to_path_buf(),
            name,
        })
    }

    /// The step directory the checkpoint's files go into.
    pub fn dir(&self) -> PathBuf {
        self.stage.join(&self.name)
    }

    /// Makes the checkpoint current: `state` (with this directory recorded in it) is written
    /// by one atomic rename; then earlier step directories, and weight files of the
    /// earlier flat layout, are removed.
    pub fn commit(self, state: &mut TrainingState) -> Result<(), Error> {
        sync_dir(&self.dir());
        state.checkpoint = Some(self.name.clone());
        state.save(&self.stage.join(STATE_FILE))?;
        sync_dir(&self.stage);
        remove_stale(&self.stage, Some(&self.name))?;
        for name in [
            files::WEIGHTS,
            files::EMA_WEIGHTS,
            files::OPTIMIZER,
            files::SOURCE_ENCODER_WEIGHTS,
            files::SOURCE_ENCODER_EMA_WEIGHTS,
            crate::MANIFEST_FILE,
        ] {
            let flat = self.stage.join(name);
            if flat.is_file() {
                std::fs::remove_file(&flat).map_err(|e| Error::io(&flat, e))?;
            }
        }
        Ok(())
    }
}

/// Flushes a directory's entries (the renames inside it) to disk. Best effort: some
/// platforms cannot open or fsync a directory, and the rename is atomic there all the same.
fn sync_dir(dir: &Path) {
    if let Ok(file) = std::fs::File::open(dir) {
        let _ = file.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_makes_the_step_directory_current_and_removes_the_previous_one() {
        let stage = tempfile::tempdir().unwrap();
        let stage = stage.path();
        let mut state = TrainingState::resume(stage).unwrap();
        assert_eq!(state.step, 0);
        assert_eq!(checkpoint_dir(stage), stage);
        for step in [10, 20] {
            state.step = step;
            let writer = CheckpointWriter::begin(stage, step).unwrap();
            std::fs::write(writer.dir().join("model.bpk"), step.to_string()).unwrap();
            writer.commit(&mut state).unwrap();
        }
        let current = checkpoint_dir(stage);
        assert_eq!(current, stage.join("checkpoint-00000020"));
        assert_eq!(
            std::fs::read_to_string(current.join("model.bpk")).unwrap(),
            "20"
        );
        assert!(!stage.join("checkpoint-00000010").exists());
        assert_eq!(
            TrainingState::load(&stage.join(STATE_FILE))
                .unwrap()
                .unwrap(),
            state
        );
    }

    #[test]
    fn an_uncommitted_step_directory_is_ignored_and_removed_on_resume() {
        let stage = tempfile::tempdir().unwrap();
        let stage = stage.path();
        let mut state = TrainingState::resume(stage).unwrap();
        state.step = 10;
        let writer = CheckpointWriter::begin(stage, 10).unwrap();
        writer.commit(&mut state).unwrap();
        // A process killed while writing step 20: its directory exists, the state does not
        // name it.
        let orphan = CheckpointWriter::begin(stage, 20).unwrap();
        std::fs::write(orphan.dir().join("model.bpk"), "half").unwrap();
        std::fs::write(stage.join("state.tmp"), "{").unwrap();
        assert_eq!(checkpoint_dir(stage), stage.join("checkpoint-00000010"));
        let resumed = TrainingState::resume(stage).unwrap();
        assert_eq!(resumed.step, 10);
        assert!(!orphan.dir().exists());
        assert!(!stage.join("state.tmp").exists());
    }

    #[test]
    fn a_state_naming_a_path_outside_the_stage_is_refused() {
        let stage = tempfile::tempdir().unwrap();
        std::fs::write(
            stage.path().join(STATE_FILE),
            r#"{"step": 3, "elapsed_seconds": 1.0, "checkpoint": "../elsewhere"}"#,
        )
        .unwrap();
        assert!(matches!(
            TrainingState::resume(stage.path()),
            Err(Error::Checkpoint(_))
        ));
    }

    #[test]
    fn states_of_earlier_releases_still_load() {
        let stage = tempfile::tempdir().unwrap();
        std::fs::write(
            stage.path().join(STATE_FILE),
            r#"{"step": 3, "elapsed_seconds": 1.5}"#,
        )
        .unwrap();
        let state = TrainingState::resume(stage.path()).unwrap();
        assert_eq!((state.step, state.checkpoint), (3, None));
        assert_eq!(checkpoint_dir(stage.path()), stage.path());
    }

    #[test]
    fn metric_windows_sum_and_survive_a_round_trip() {
        let mut window = MetricWindow::default();
        window.add("loss", 1.5);
        window.add("loss", 2.5);
        window.add("steps", 2.0);
        assert_eq!(window.ratio("loss", "steps"), 2.0);
        assert!(window.ratio("loss", "missing").is_nan());
        let state = TrainingState {
            step: 2,
            elapsed_seconds: 0.25,
            window: window.clone(),
            checkpoint: None,
        };
        let json = serde_json::to_string(&state).unwrap();
        let back: TrainingState = serde_json::from_str(&json).unwrap();
        assert_eq!(back, state);
        window.add("loss", f64::NAN);
        assert!(!window.is_finite());
    }
}
