use burn::tensor::{Bool, Device, Int, Tensor};

/// What a denoiser is conditioned on, batched. All fields are optional: the empty value is
/// unconditional generation.
///
/// `null[b] = true` asks the denoiser to drop example `b`'s conditioning and use its learned
/// null class / null context instead: this is how classifier-free guidance gets its
/// unconditional branch in the same batch.
#[derive(Debug, Clone, Default)]
pub struct Conditioning {
    /// Class ids, `[batch]`.
    pub class_labels: Option<Tensor<1, Int>>,
    /// Context sequence for cross-attention (e.g. an encoded source text), `[batch, seq, d]`.
    pub context: Option<Tensor<3>>,
    /// Padding mask of the context, `true` at padding, `[batch, seq]`.
    pub context_mask: Option<Tensor<2, Bool>>,
    /// Per-example "use the null condition" flags, `[batch]`; absent means all false.
    pub null: Option<Tensor<1, Bool>>,
}

impl Conditioning {
    /// No conditioning at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Class conditioning.
    pub fn classes(class_labels: Tensor<1, Int>) -> Self {
        Self {
            class_labels: Some(class_labels),
            ..Self::default()
        }
    }

    /// Cross-attention context with its padding mask.
    pub fn context(context: Tensor<3>, mask: Tensor<2, Bool>) -> Self {
        Self {
            context: Some(context),
            context_mask: Some(mask),
            ..Self::default()
        }
    }

    /// Whether there is anything to condition on (a class or a context).
    pub fn is_conditional(&self) -> bool {
        self.class_labels.is_some() || self.context.is_some()
    }

    /// The batch twice: first as given, then with every example's condition nulled, for one
    /// batched forward of both guidance branches.
    pub fn with_null_branch(&self, batch: usize, device: &Device) -> Self {
        let twice_int = |t: &Tensor<1, Int>| Tensor::cat(vec![t.clone(), t.clone()], 0);
        let given = self
            .null
            .clone()
            .unwrap_or_else(|| Tensor::<1, Int>::zeros([batch], device).equal_elem(1));
        let nulled = Tensor::<1, Int>::ones([batch], device).equal_elem(1);
        Self {
            class_labels: self.class_labels.as_ref().map(twice_int),
            context: self
                .context
                .as_ref()
                .map(|c| Tensor::cat(vec![c.clone(), c.clone()], 0)),
            context_mask: self
                .context_mask
                .as_ref()
                .map(|m| Tensor::cat(vec![m.clone(), m.clone()], 0)),
            null: Some(Tensor::cat(vec![given, nulled], 0)),
        }
    }
}
