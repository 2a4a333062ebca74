//! Layers shared by ld4lg's models: [`Attention`] on Burn's fused attention op (key padding,
//! causal masking, query-key RMSNorm), the pre-LN [`TransformerBlock`] with optional
//! cross-attention, [`LearnedPositions`], and a [`Gelu`] that runs fused and multi-threaded on
//! the Flex CPU backend.

#![warn(missing_docs)]

mod attention;
mod block;
mod gelu;
mod positions;

pub use attention::{Attention, AttentionConfig, KeyValue};
pub use block::{BlockCache, CrossAttention, TransformerBlock, TransformerBlockConfig};
pub use gelu::{Gelu, gelu};
pub use positions::LearnedPositions;
