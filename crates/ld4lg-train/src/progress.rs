//! How a training call behaves, and what it reports as it goes. The library draws nothing:
//! it logs through `tracing` and hands every event to the caller's callback, from which the
//! CLI draws its progress bar.

use std::fmt;
use std::sync::Arc;

/// What a training loop reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TrainingEvent {
    /// The loop starts, or resumes, at `step` of `total` optimiser steps.
    Started {
        /// One line on the model and the data.
        intro: String,
        /// Steps already done.
        step: u64,
        /// Steps of the whole run.
        total: u64,
    },
    /// An optimiser step is done; `summary` carries the running loss and learning rate at
    /// the steps where they are read.
    Step {
        /// Steps done.
        step: u64,
        /// E.g. `loss 0.4123 lr 1.00e-3`.
        summary: Option<String>,
    },
    /// A line for the user: validation results, preview samples.
    Line(String),
    /// The loop ended: finished, or stopped by [`RunOptions::stop_after`].
    Finished,
}

/// A callback that receives every [`TrainingEvent`].
pub type ProgressCallback = Arc<dyn Fn(&TrainingEvent) + Send + Sync>;

/// How a training call behaves, as opposed to what it trains.
///
/// ```
/// use ld4lg_train::{RunOptions, TrainingEvent};
/// use std::sync::Arc;
///
/// let options = RunOptions {
///     progress: Some(Arc::new(|event: &TrainingEvent| {
///         if let TrainingEvent::Line(line) = event {
///             eprintln!("{line}");
///         }
///     })),
///     ..RunOptions::default()
/// };
/// # let _ = options;
/// ```
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Receives the loop's events (start, every step, validation lines, end); without one,
    /// they are only logged through `tracing`.
    pub progress: Option<ProgressCallback>,
    /// Stop (with a checkpoint) after this many optimiser steps in total, as if interrupted;
    /// a later call resumes from there.
    pub stop_after: Option<u64>,
}

impl fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunOptions")
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .field("stop_after", &self.stop_after)
            .finish()
    }
}

/// Sends a loop's events to the callback of its options, and its lines to `tracing`.
pub(crate) struct Reporter<'a> {
    callback: Option<&'a ProgressCallback>,
}

impl<'a> Reporter<'a> {
    pub(crate) fn new(options: &'a RunOptions) -> Self {
        Self {
            callback: options.progress.as_ref(),
        }
    }

    fn send(&self, event: TrainingEvent) {
        if let Some(callback) = self.callback {
            callback(&event);
        }
    }

    pub(crate) fn started(&self, intro: String, step: u64, total: u64) {
        tracing::info!("{intro}");
        self.send(TrainingEvent::Started { intro, step, total });
    }

    pub(crate) fn step(&self, step: u64, summary: Option<String>) {
        if self.callback.is_some() {
            self.send(TrainingEvent::Step { step, summary });
        }
    }

    pub(crate) fn line(&self, line: String) {
        tracing::info!("{line}");
        self.send(TrainingEvent::Line(line));
    }

    pub(crate) fn finished(&self) {
        self.send(TrainingEvent::Finished);
    }
}
