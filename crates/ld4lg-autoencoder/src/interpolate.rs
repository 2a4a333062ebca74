use burn::tensor::Tensor;

/// Linear interpolation `(1 − w)·a + w·b`.
///
/// # Shapes
/// - `a`, `b`: `[batch, l, d]` → `[batch, l, d]`
pub fn lerp(a: Tensor<3>, b: Tensor<3>, weight: f64) -> Tensor<3> {
    a.mul_scalar(1.0 - weight) + b.mul_scalar(weight)
}

/// Spherical interpolation per latent vector (along the last axis): moves along the great
/// circle from `a` to `b` while interpolating the norm linearly; falls back to `lerp` where
/// the vectors are (anti-)parallel.
///
/// # Shapes
/// - `a`, `b`: `[batch, l, d]` → `[batch, l, d]`
pub fn slerp(a: Tensor<3>, b: Tensor<3>, weight: f64) -> Tensor<3> {
    let norm_a = a.clone().powi_scalar(2).sum_dim(2).sqrt().clamp_min(1e-12);
    let norm_b = b.clone().powi_scalar(2).sum_dim(2).sqrt().clamp_min(1e-12);
    let unit_a = a.clone() / norm_a.clone();
    let unit_b = b.clone() / norm_b.clone();
    let cos = (unit_a.clone() * unit_b.clone())
        .sum_dim(2)
        .clamp(-1.0, 1.0);
    let omega = cos.clone().acos();
    let sin = omega.clone().sin();
    // Where sin ω ≈ 0 the two directions coincide: use the linear weights instead.
    let degenerate = sin.clone().abs().lower_elem(1e-6);
    let safe_sin = sin.mask_fill(degenerate.clone(), 1.0);
    let wa = (omega.clone().mul_scalar(1.0 - weight)).sin() / safe_sin.clone();
    let wb = (omega.mul_scalar(weight)).sin() / safe_sin;
    let wa = wa.mask_fill(degenerate.clone(), 1.0 - weight);
    let wb = wb.mask_fill(degenerate, weight);
    let direction = unit_a * wa + unit_b * wb;
    direction * (norm_a.mul_scalar(1.0 - weight) + norm_b.mul_scalar(weight))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn t(values: &[f32], d: usize) -> Tensor<3> {
        Tensor::from_data(
            TensorData::new(values.to_vec(), [1, values.len() / d, d]),
            &Device::flex(),
        )
    }

    #[test]
    fn slerp_of_orthogonal_unit_vectors_stays_on_the_circle() {
        let a = t(&[1.0, 0.0], 2);
        let b = t(&[0.0, 1.0], 2);
        let mid: Vec<f32> = slerp(a.clone(), b.clone(), 0.5)
            .into_data()
            .try_to_vec_as()
            .unwrap();
        let h = 0.5f32.sqrt();
        assert!(
            (mid[0] - h).abs() < 1e-6 && (mid[1] - h).abs() < 1e-6,
            "{mid:?}"
        );
        let ends: Vec<f32> = slerp(a.clone(), b, 0.0)
            .into_data()
            .try_to_vec_as()
            .unwrap();
        assert!((ends[0] - 1.0).abs() < 1e-6 && ends[1].abs() < 1e-6);
        let lin: Vec<f32> = lerp(a, t(&[0.0, 1.0], 2), 0.5)
            .into_data()
            .try_to_vec_as()
            .unwrap();
        assert_eq!(lin, [0.5, 0.5]);
    }

    #[test]
    fn slerp_of_parallel_vectors_interpolates_the_norm() {
        let got: Vec<f32> = slerp(t(&[2.0, 0.0], 2), t(&[4.0, 0.0], 2), 0.25)
            .into_data()
            .try_to_vec_as()
            .unwrap();
        assert!(
            (got[0] - 2.5).abs() < 1e-5 && got[1].abs() < 1e-6,
            "{got:?}"
        );
    }
}
