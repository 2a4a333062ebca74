//! A small causal transformer language model over ld4lg's token ids ([`CausalLm`]).
//!
//! Its use is to judge generated texts: the mean log-probability per token of a candidate
//! ranks blends ("The Fitzbillies is an coffee shop Blue Spice is in riverside.") below real
//! sentences where a word n-gram model, which sees five words at a time, cannot tell them
//! apart; fused into the decoder's beam search ([`CausalLm::step_log_probs`], with key/value
//! caches) it steers each decoding the same way. It shares its tokenizer with the autoencoder
//! but no weights.

#![warn(missing_docs)]

mod lm;

pub use ld4lg_nn::BlockCache;
pub use lm::{CausalLm, CausalLmConfig};
