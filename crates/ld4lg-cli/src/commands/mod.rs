pub mod info;
pub mod tokenizer;
