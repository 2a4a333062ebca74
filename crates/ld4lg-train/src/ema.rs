//! Exponential moving average of a module's weights, with warm-up as in `ema_pytorch`.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// EMA settings. The decay at update `k` is `clamp(1 − (1 + k/γ)^(−power), min, max)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmaConfig {
    /// Largest decay. Default: 0.9999.
    pub max_decay: f64,
    /// Smallest decay. Default: 0.
    pub min_decay: f64,
    /// Warm-up power. Default: 3/4.
    pub power: f64,
    /// Warm-up time scale γ. Default: 1.
    pub inv_gamma: f64,
    /// Copy the weights (no averaging) for this many optimiser steps. Default: 100.
    pub update_after_step: u64,
}

impl Default for EmaConfig {
    fn default() -> Self {
        Self {
            max_decay: 0.9999,
            min_decay: 0.0,
            power: 0.75,
            inv_gamma: 1.0,
            update_after_step: 100,
        }
    }
}

impl EmaConfig {
    /// The decay after `step` optimiser steps.
    pub fn decay(&self, step: u64) -> f64 {
        let k = step.saturating_sub(self.update_after_step + 1) as f64;
        if step <= self.update_after_step {
            return 0.0;
        }
        (1.0 - (1.0 + k / self.inv_gamma).powf(-self.power)).clamp(self.min_decay, self.max_decay)
    }
}

/// Collects every float parameter of a module, flattened and without autodiff.
struct Collect(HashMap<ParamId, Tensor<1>>);

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val().without_autodiff();
        let n = value.shape().num_elements();
        self.0.insert(param.id, value.reshape([n]));
    }
}

/// `shadow ← decay·shadow + (1 − decay)·current`, parameter by parameter.
struct Blend {
    current: HashMap<ParamId, Tensor<1>>,
    decay: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(current) = self.current.remove(&param.id) else {
            return param;
        };
        let decay = self.decay;
        param.map(|shadow| {
            let current = current.reshape(shadow.shape());
            shadow.mul_scalar(decay) + current.mul_scalar(1.0 - decay)
        })
    }
}

/// Updates `shadow` (a copy of the model without autodiff) towards `model`'s weights after
/// optimiser step `step`.
pub fn update_ema<M: Module>(shadow: M, model: &M, config: &EmaConfig, step: u64) -> M {
    let mut collect = Collect(HashMap::new());
    model.visit(&mut collect);
    shadow.map(&mut Blend {
        current: collect.0,
        decay: config.decay(step),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::{Linear, LinearConfig};
    use burn::tensor::Device;

    #[test]
    fn decay_warms_up_as_ema_pytorch() {
        let config = EmaConfig {
            update_after_step: 0,
            ..EmaConfig::default()
        };
        assert_eq!(config.decay(0), 0.0);
        // k = step − 1: decay(2) = 1 − 2^(−3/4) = 0.40539644.
        assert!((config.decay(2) - (1.0 - 2f64.powf(-0.75))).abs() < 1e-12);
        assert!((config.decay(10_001) - (1.0 - 10_001f64.powf(-0.75))).abs() < 1e-12);
        assert_eq!(config.decay(u64::MAX / 2), 0.9999);
    }

    #[test]
    fn shadow_moves_towards_the_model() {
        let device = Device::flex();
        let model: Linear = LinearConfig::new(2, 2).init(&device);
        let shadow = model.clone().map(&mut Scale(0.0));
        let config = EmaConfig {
            update_after_step: 0,
            ..EmaConfig::default()
        };
        // decay(2) ≈ 0.405: the zeroed shadow becomes 0.595 × the model.
        let updated = update_ema(shadow, &model, &config, 2);
        let ratio = (updated.weight.val() / model.weight.val())
            .mean()
            .into_scalar::<f32>();
        assert!(
            (f64::from(ratio) - (1.0 - config.decay(2))).abs() < 1e-5,
            "{ratio}"
        );
        // Before warm-up ends the weights are copied.
        let copied = update_ema(
            model.clone().map(&mut Scale(0.0)),
            &model,
            &EmaConfig::default(),
            5,
        );
        let diff = (copied.weight.val() - model.weight.val())
            .abs()
            .max()
            .into_scalar::<f32>();
        assert_eq!(diff, 0.0);
    }

    struct Scale(f64);
    impl ModuleMapper for Scale {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let s = self.0;
            param.map(|t| t.mul_scalar(s))
        }
    }
}
