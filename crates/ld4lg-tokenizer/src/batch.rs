use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// How a batch is padded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Padding {
    /// Pad to the longest sequence of the batch (after truncation).
    #[default]
    Longest,
    /// Pad every sequence to the maximum length.
    MaxLength,
}

/// Options of [`Tokenizer::encode_batch`](crate::Tokenizer::encode_batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Maximum length in tokens, bos and eos included; longer texts are truncated and keep
    /// their eos. Must be at least 3.
    pub max_len: usize,
    /// How sequences are padded.
    pub padding: Padding,
}

impl EncodeOptions {
    /// Truncates to `max_len` and pads to the longest sequence of the batch.
    pub fn new(max_len: usize) -> Self {
        Self {
            max_len,
            padding: Padding::Longest,
        }
    }

    /// Sets the padding strategy.
    pub fn with_padding(mut self, padding: Padding) -> Self {
        self.padding = padding;
        self
    }
}

/// A padded batch of token ids.
///
/// Row `i` holds `lengths[i]` real tokens (bos … eos) followed by `<pad>`; `padding_mask[i][j]`
/// is `true` where position `j` is padding, Burn's convention for attention masks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedBatch {
    /// Token ids, `batch × seq_len`.
    pub ids: Vec<Vec<u32>>,
    /// `true` at padding positions, `batch × seq_len`.
    pub padding_mask: Vec<Vec<bool>>,
    /// Number of real tokens per row (bos and eos included).
    pub lengths: Vec<usize>,
    /// Common length of all rows.
    pub seq_len: usize,
    /// How many texts were truncated to fit the maximum length.
    pub truncated: usize,
}

impl EncodedBatch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the batch has no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The ids as an integer tensor.
    ///
    /// # Shapes
    /// - output: `[batch, seq_len]`
    pub fn ids_tensor(&self, device: &Device) -> Tensor<2, Int> {
        let flat: Vec<i64> = self.ids.iter().flatten().map(|&id| i64::from(id)).collect();
        Tensor::from_data(TensorData::new(flat, [self.len(), self.seq_len]), device)
    }

    /// The padding mask as a boolean tensor, `true` at padding.
    ///
    /// # Shapes
    /// - output: `[batch, seq_len]`
    pub fn mask_tensor(&self, device: &Device) -> Tensor<2, Bool> {
        let flat: Vec<bool> = self.padding_mask.iter().flatten().copied().collect();
        Tensor::from_data(TensorData::new(flat, [self.len(), self.seq_len]), device)
    }

    /// Both tensors: `(ids, padding_mask)`.
    ///
    /// # Shapes
    /// - ids: `[batch, seq_len]`
    /// - padding_mask: `[batch, seq_len]`
    pub fn to_tensors(&self, device: &Device) -> (Tensor<2, Int>, Tensor<2, Bool>) {
        (self.ids_tensor(device), self.mask_tensor(device))
    }
}
