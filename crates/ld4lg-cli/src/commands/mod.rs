pub mod autoencoder;
pub mod diffusion;
pub mod info;
pub mod tokenizer;
