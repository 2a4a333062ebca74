use burn::module::{Module, Param};
use burn::tensor::{Device, Distribution, Tensor};

/// Learned absolute position embeddings, `[max_len, d_model]`.
#[derive(Module, Debug)]
pub struct LearnedPositions {
    table: Param<Tensor<2>>,
}

impl LearnedPositions {
    /// A table for `max_len` positions, initialised N(0, 0.02²) as in GPT-2.
    pub fn new(max_len: usize, d_model: usize, device: &Device) -> Self {
        Self {
            table: Param::from_tensor(Tensor::random(
                [max_len, d_model],
                Distribution::Normal(0.0, 0.02),
                device,
            )),
        }
    }

    /// Number of positions.
    pub fn max_len(&self) -> usize {
        self.table.dims()[0]
    }

    /// The first `len` positions, broadcastable over a batch.
    ///
    /// # Shapes
    /// - output: `[1, len, d_model]`
    pub fn first(&self, len: usize) -> Tensor<3> {
        self.table.val().narrow(0, 0, len).unsqueeze()
    }

    /// The embedding of one position, broadcastable over a batch.
    ///
    /// # Shapes
    /// - output: `[1, 1, d_model]`
    pub fn at(&self, position: usize) -> Tensor<3> {
        self.table.val().narrow(0, position, 1).unsqueeze()
    }
}
