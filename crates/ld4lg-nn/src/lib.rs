//! Layers shared by ld4lg's models: [`Attention`] on Burn's fused attention op (key padding,
//! causal masking, query-key RMSNorm), the pre-LN [`TransformerBlock`] with optional
//! cross-attention, and [`LearnedPositions`].

#![warn(missing_docs)]

mod attention;
mod block;
mod positions;

pub use attention::{Attention, AttentionConfig, KeyValue};
pub use block::{BlockCache, CrossAttention, TransformerBlock, TransformerBlockConfig};
pub use positions::LearnedPositions;
