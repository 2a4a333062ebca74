use serde::{Deserialize, Serialize};

/// Shape of the learning rate after warm-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decay {
    /// Half a cosine from the peak down to `min_ratio × peak`.
    #[default]
    Cosine,
    /// A straight line from the peak down to `min_ratio × peak`.
    Linear,
    /// Stay at the peak.
    Constant,
}

/// Linear warm-up to `peak`, then [`Decay`] until `total_steps`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LrSchedule {
    /// Peak learning rate. Default: 3e-4.
    pub peak: f64,
    /// Warm-up steps. Default: 200.
    pub warmup_steps: u64,
    /// Decay after warm-up. Default: cosine.
    pub decay: Decay,
    /// Final learning rate as a fraction of the peak. Default: 0.1.
    pub min_ratio: f64,
}

impl Default for LrSchedule {
    fn default() -> Self {
        Self {
            peak: 3e-4,
            warmup_steps: 200,
            decay: Decay::Cosine,
            min_ratio: 0.1,
        }
    }
}

impl LrSchedule {
    /// The learning rate at optimiser step `step` (0-based) of `total_steps`.
    pub fn at(&self, step: u64, total_steps: u64) -> f64 {
        if step < self.warmup_steps {
            return self.peak * (step + 1) as f64 / self.warmup_steps as f64;
        }
        let span = total_steps.saturating_sub(self.warmup_steps).max(1) as f64;
        let progress = ((step - self.warmup_steps) as f64 / span).min(1.0);
        let floor = self.peak * self.min_ratio;
        match self.decay {
            Decay::Constant => self.peak,
            Decay::Linear => self.peak - (self.peak - floor) * progress,
            Decay::Cosine => {
                floor + (self.peak - floor) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_decay_by_hand() {
        let schedule = LrSchedule {
            peak: 1.0,
            warmup_steps: 10,
            decay: Decay::Cosine,
            min_ratio: 0.0,
        };
        assert!((schedule.at(0, 110) - 0.1).abs() < 1e-12);
        assert!((schedule.at(9, 110) - 1.0).abs() < 1e-12);
        assert!((schedule.at(10, 110) - 1.0).abs() < 1e-12);
        assert!(
            (schedule.at(60, 110) - 0.5).abs() < 1e-12,
            "half way down the cosine"
        );
        assert!(schedule.at(110, 110).abs() < 1e-12);
        let linear = LrSchedule {
            decay: Decay::Linear,
            min_ratio: 0.2,
            ..schedule
        };
        assert!((linear.at(60, 110) - 0.6).abs() < 1e-12);
    }
}
