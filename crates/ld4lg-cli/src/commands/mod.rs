pub mod autoencoder;
pub mod info;
pub mod tokenizer;
