//! GELU whose forward and backward run as one multi-threaded pass on the Flex CPU backend.
//!
//! Burn Flex evaluates GELU and its derivative one element at a time on one thread, with
//! libm's branching `erff`, which made them the largest cost after the matrix products (a
//! quarter of the CPU time of generation). Here both run over chunks on rayon's pool with a
//! branch-free erf that vectorises and is as accurate as libm's (within 0.53 ulp of the exact
//! value, so within about one ulp of Burn's GELU). Other backends, and dtypes other than f32,
//! use Burn's own `gelu`.

use burn::module::Module;
use burn::tensor::Tensor;

/// The exact GELU, `x Φ(x) = ½ x (1 + erf(x / √2))`, as a parameter-free module.
#[derive(Module, Debug, Default)]
pub struct Gelu;

impl Gelu {
    /// A GELU module.
    pub fn new() -> Self {
        Self
    }

    /// Applies GELU element-wise.
    ///
    /// # Shapes
    /// - `input`: `[..]`, any rank
    /// - output: the same shape
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> Tensor<D> {
        gelu(input)
    }
}

/// GELU of every element (see [`Gelu`]).
///
/// # Shapes
/// - `input`: `[..]` → the same shape
pub fn gelu<const D: usize>(input: Tensor<D>) -> Tensor<D> {
    #[cfg(feature = "flex")]
    if flex::runs_on_flex(&input.device()) {
        use burn::backend::Dispatch;
        let output = <Dispatch as flex::FusedGelu>::fused_gelu(input.into_dispatch());
        return Tensor::from_dispatch(output);
    }
    burn::tensor::activation::gelu(input)
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::autodiff::NodeId;
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
    use burn::backend::flex::FlexTensor;
    use burn::backend::ops::ActivationOps;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Autodiff, Backend, DType, DispatchDevice, Flex, backend_extension};
    use burn::tensor::Device;
    use rayon::prelude::*;

    /// Elements per task: large enough that scheduling costs little, small enough that both
    /// threads get work on the denoiser's activations (about 1.5 M elements).
    const CHUNK: usize = 1 << 15;

    /// Whether `device` is Flex, with or without autodiff.
    pub(super) fn runs_on_flex(device: &Device) -> bool {
        matches!(
            device.clone().inner().as_dispatch(),
            DispatchDevice::Flex(_)
        )
    }

    /// GELU and its input gradient as backend operations, so that Flex can run them fused.
    #[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
    pub(super) trait FusedGelu: Backend {
        /// GELU of every element.
        fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
            Self::gelu(x)
        }

        /// `grad · GELU'(x)`, element-wise.
        fn fused_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
            Self::gelu_backward(x, grad)
        }
    }

    /// Coefficients of erf(x) ≈ x P(x²) / Q(x²) on [−4, 4], fitted for relative error
    /// (4.6e-9 in f64); beyond ±4, erf rounds to ±1 in f32.
    const ERF_P: [f64; 7] = [
        1.128_379_169_447_098_8,
        0.185_145_194_535_928_6,
        0.054_306_011_197_765_81,
        0.003_846_896_707_982_496,
        0.000_379_423_977_090_079_9,
        4.680_640_613_153_949_5e-6,
        -1.317_375_662_637_992_1e-8,
    ];
    const ERF_Q: [f64; 6] = [
        1.0,
        0.497_414_072_207_859,
        0.113_931_605_726_395_7,
        0.015_455_907_081_365_612,
        0.001_306_784_038_488_616_7,
        6.307_362_125_708_202e-5,
    ];

    /// erf in f32, evaluated in f64 without branches so that loops over slices vectorise
    /// (libm's `erff` branches per element and was the largest cost of GELU): at most 0.53
    /// ulp from the exact value, as close as libm's.
    #[inline]
    pub(super) fn erf(x: f32) -> f32 {
        let x = f64::from(x).clamp(-4.0, 4.0);
        let t = x * x;
        let p = ERF_P.iter().rev().fold(0.0, |acc, &c| acc * t + c);
        let q = ERF_Q.iter().rev().fold(0.0, |acc, &c| acc * t + c);
        (x * p / q).clamp(-1.0, 1.0) as f32
    }

    /// Φ(x), the standard normal CDF, in the form Burn's GELU uses.
    #[inline]
    fn cdf(x: f32) -> f32 {
        0.5 * (1.0 + erf(x / core::f32::consts::SQRT_2))
    }

    #[inline]
    fn gelu_f32(x: f32) -> f32 {
        x * cdf(x)
    }

    #[inline]
    fn gelu_grad_f32(x: f32, g: f32) -> f32 {
        let inv_sqrt_2pi: f32 = 1.0 / (2.0 * core::f32::consts::PI).sqrt();
        let pdf = inv_sqrt_2pi * (-0.5 * x * x).exp();
        g * (cdf(x) + x * pdf)
    }

    // Not inlined into rayon's generic code: the loops vectorise on their own, and profiles
    // name them.
    #[inline(never)]
    fn gelu_chunk(out: &mut [f32], input: &[f32]) {
        for (o, &x) in out.iter_mut().zip(input) {
            *o = gelu_f32(x);
        }
    }

    #[inline(never)]
    fn gelu_grad_chunk(out: &mut [f32], input: &[f32], upstream: &[f32]) {
        for ((o, &x), &g) in out.iter_mut().zip(input).zip(upstream) {
            *o = gelu_grad_f32(x, g);
        }
    }

    /// A contiguous f32 copy of the tensor's values (no copy when already contiguous).
    fn contiguous_f32(tensor: &FlexTensor) -> FlexTensor {
        if tensor.is_contiguous() {
            tensor.clone()
        } else {
            tensor.to_contiguous()
        }
    }

    impl FusedGelu for Flex {
        fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
            if x.dtype() != DType::F32 {
                return Flex::gelu(x);
            }
            let x = contiguous_f32(&x);
            let input = x.as_slice::<f32>().expect("contiguous f32 storage");
            let mut output = FlexTensor::empty(x.layout().shape().clone(), DType::F32);
            output
                .storage_mut::<f32>()
                .par_chunks_mut(CHUNK)
                .zip(input.par_chunks(CHUNK))
                .for_each(|(out, inp)| gelu_chunk(out, inp));
            output
        }

        fn fused_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
            if x.dtype() != DType::F32
                || grad.dtype() != DType::F32
                || x.layout().shape() != grad.layout().shape()
            {
                return Flex::gelu_backward(x, grad);
            }
            let (x, grad) = (contiguous_f32(&x), contiguous_f32(&grad));
            let input = x.as_slice::<f32>().expect("contiguous f32 storage");
            let upstream = grad.as_slice::<f32>().expect("contiguous f32 storage");
            let mut output = FlexTensor::empty(x.layout().shape().clone(), DType::F32);
            output
                .storage_mut::<f32>()
                .par_chunks_mut(CHUNK)
                .zip(input.par_chunks(CHUNK).zip(upstream.par_chunks(CHUNK)))
                .for_each(|(out, (inp, up))| gelu_grad_chunk(out, inp, up));
            output
        }
    }

    /// The backward step of [`FusedGelu::fused_gelu`] under autodiff: keeps the input, and
    /// maps the output gradient through the inner backend's fused derivative.
    #[derive(Debug)]
    struct FusedGeluStep;

    impl<B: Backend + FusedGelu> Backward<B, 1> for FusedGeluStep {
        type State = NodeId;

        fn backward(
            self,
            ops: Ops<Self::State, 1>,
            grads: &mut Gradients,
            checkpointer: &mut Checkpointer,
        ) {
            let input: FloatTensor<B> = checkpointer.retrieve_node_output(ops.state);
            unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                B::fused_gelu_backward(input, grad)
            });
        }
    }

    impl<B: Backend + FusedGelu, C: CheckpointStrategy> FusedGelu for Autodiff<B, C> {
        fn fused_gelu(x: FloatTensor<Self>) -> FloatTensor<Self> {
            match FusedGeluStep
                .prepare::<C>([x.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(mut prep) => {
                    let state = prep.checkpoint(&x);
                    let output = B::fused_gelu(x.primitive().clone());
                    prep.finish(state, output)
                }
                OpsKind::UnTracked(prep) => prep.finish(B::fused_gelu(x.into_primitive())),
            }
        }

        fn fused_gelu_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
            // A gradient of the gradient is not needed by any of ld4lg's models.
            Self::gelu_backward(x, grad)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution, TensorData};

    #[cfg(feature = "flex")]
    #[test]
    fn erf_is_within_one_ulp_of_the_exact_value() {
        // Python: numpy.float32(math.erf(x)), the correctly rounded f32 of the exact value.
        let cases: [(f32, f64); 12] = [
            (1e-6, 1.128_379_153_669_811_8e-6),
            (0.1, 0.112_462_915_480_136_87),
            (0.5, 0.520_499_885_082_244_9),
            (1.0, 0.842_700_779_438_018_8),
            (1.5, 0.966_105_163_097_381_6),
            (2.5, 0.999_593_019_485_473_6),
            (3.5, 0.999_999_284_744_262_7),
            (3.9, 0.999_999_940_395_355_2),
            (-0.75, -0.711_155_652_999_877_9),
            (-2.0, -0.995_322_287_082_672_1),
            (6.0, 1.0),
            (-30.0, -1.0),
        ];
        for (x, exact) in cases {
            let exact = exact as f32;
            let got = flex::erf(x);
            let ulp = f32::EPSILON * exact.abs().max(f32::MIN_POSITIVE);
            assert!(
                (got - exact).abs() <= ulp,
                "erf({x}) = {got}, exact {exact}"
            );
        }
        assert!(flex::erf(f32::NAN).is_nan());
    }

    #[test]
    fn values_match_burns_gelu_and_reference_points() {
        let device = Device::flex();
        // Large enough to span several parallel chunks, strided to exercise the copy.
        let x = Tensor::<3>::random([4, 300, 97], Distribution::Normal(0.0, 3.0), &device)
            .swap_dims(1, 2);
        let inputs: Vec<f32> = x.clone().into_data().try_to_vec_as().unwrap();
        let ours: Vec<f32> = gelu(x.clone()).into_data().try_to_vec_as().unwrap();
        let burns: Vec<f32> = burn::tensor::activation::gelu(x)
            .into_data()
            .try_to_vec_as()
            .unwrap();
        for ((x, a), b) in inputs.iter().zip(&ours).zip(&burns) {
            // One ulp of erf near ±1 is 6e-8, scaled by x / 2 in GELU.
            assert!(
                (a - b).abs() <= 1e-7 * (1.0 + x.abs()),
                "gelu({x}): {a} vs {b}"
            );
        }
        // Python: x * 0.5 * (1 + math.erf(x / math.sqrt(2))) at -3, -1, 0, 0.5, 2.
        let points = Tensor::<1>::from_data(
            TensorData::new(vec![-3.0f32, -1.0, 0.0, 0.5, 2.0], [5]),
            &device,
        );
        let expected = [
            -0.004_049_694,
            -0.158_655_25,
            0.0,
            0.345_731_23,
            1.954_499_7,
        ];
        let got: Vec<f32> = gelu(points).into_data().try_to_vec_as().unwrap();
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6, "{got:?}");
        }
    }

    #[test]
    fn gradients_match_burns_gelu() {
        let device = Device::flex().autodiff();
        let values = Tensor::<2>::random([70, 1000], Distribution::Normal(0.0, 2.0), &device);
        let weights = Tensor::<2>::random([70, 1000], Distribution::Normal(0.0, 1.0), &device);
        let grad_of = |f: fn(Tensor<2>) -> Tensor<2>| {
            let x = values.clone().detach().require_grad();
            let grads = (f(x.clone()) * weights.clone()).sum().backward();
            let grad: Vec<f32> = x.grad(&grads).unwrap().into_data().try_to_vec_as().unwrap();
            grad
        };
        let ours = grad_of(gelu::<2>);
        let burns = grad_of(burn::tensor::activation::gelu::<2>);
        let weights: Vec<f32> = weights.into_data().try_to_vec_as().unwrap();
        for ((a, b), w) in ours.iter().zip(&burns).zip(&weights) {
            assert!((a - b).abs() <= 2e-7 * (1.0 + w.abs()), "{a} vs {b}");
        }
        // Python: Φ(0.7) + 0.7 φ(0.7) with Φ from math.erf, φ the normal density.
        let x = Tensor::<1>::from_data(TensorData::new(vec![0.7f32], [1]), &device).require_grad();
        let grads = gelu(x.clone()).sum().backward();
        let analytic: f32 = x.grad(&grads).unwrap().into_scalar();
        assert!((analytic - 0.976_614_1).abs() < 1e-6, "{analytic}");
    }
}
