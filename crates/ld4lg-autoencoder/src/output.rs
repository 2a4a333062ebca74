use burn::module::Param;
use burn::nn::Linear;
use burn::tensor::Tensor;

/// Token scores of both decoders: their own output matrix, or — tied — the given token
/// embeddings plus a bias of their own.
///
/// # Shapes
/// - `hidden`: `[batch, seq, d_model]`; `token_embeddings`: `[vocab, d_model]`
/// - output: `[batch, seq, vocab]`
///
/// # Panics
/// When a tied decoder is given no embeddings, or a decoder has neither form (programming
/// errors).
pub(crate) fn token_scores(
    hidden: Tensor<3>,
    head: Option<&Linear>,
    tied_bias: Option<&Param<Tensor<1>>>,
    token_embeddings: Option<&Tensor<2>>,
) -> Tensor<3> {
    match (head, tied_bias) {
        (Some(head), _) => head.forward(hidden),
        (None, Some(bias)) => {
            let embeddings = token_embeddings
                .expect("a tied decoder needs the token embeddings")
                .clone();
            hidden.matmul(embeddings.transpose().unsqueeze::<3>()) + bias.val().unsqueeze::<3>()
        }
        (None, None) => unreachable!("a decoder has an output matrix or a tied bias"),
    }
}
