//! ld4lg's special tokens. Their ids are fixed so that models and tokenizers can be checked
//! against each other: every trained tokenizer places them first, in this order.

/// Padding token, id 0.
pub const PAD: &str = "<pad>";
/// Beginning of sequence, id 1.
pub const BOS: &str = "<s>";
/// End of sequence, id 2.
pub const EOS: &str = "</s>";
/// Unknown token, id 3 (never produced by byte-level BPE).
pub const UNK: &str = "<unk>";
/// Mask token, id 4.
pub const MASK: &str = "<mask>";

/// Id of [`PAD`].
pub const PAD_ID: u32 = 0;
/// Id of [`BOS`].
pub const BOS_ID: u32 = 1;
/// Id of [`EOS`].
pub const EOS_ID: u32 = 2;
/// Id of [`UNK`].
pub const UNK_ID: u32 = 3;
/// Id of [`MASK`].
pub const MASK_ID: u32 = 4;

/// All special tokens with their ids, in id order.
pub const ALL: [(&str, u32); 5] = [
    (PAD, PAD_ID),
    (BOS, BOS_ID),
    (EOS, EOS_ID),
    (UNK, UNK_ID),
    (MASK, MASK_ID),
];
