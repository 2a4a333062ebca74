//! The order in which training examples are drawn: a function of the seed and the batch
//! index alone, so a resumed run sees exactly the batches it would have seen.

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;
use rand::seq::SliceRandom;

/// Batches sorted together when grouping by length: large enough that most batches hold
/// texts of nearly one length, small enough that the order stays well mixed.
const POOL_BATCHES: usize = 100;

/// Data order: epoch `e` visits the examples in a permutation seeded by `seed + e`, so the
/// `i`-th example drawn is a function of `(seed, i)` alone.
///
/// With [`DataOrder::grouped_by_length`], each epoch is instead a list of whole batches of
/// similar length (pools of [`POOL_BATCHES`] batches sorted by length, then the batches
/// shuffled); the few examples that do not fill a last batch wait for a later epoch.
pub(crate) struct DataOrder {
    n: usize,
    /// The example behind each of the `n` items an epoch permutes (several items per example
    /// when oversampling); `None` = item `i` is example `i`.
    items: Option<Vec<usize>>,
    seed: u64,
    lengths: Option<Vec<usize>>,
    epoch: Option<usize>,
    order: Vec<usize>,
}

impl DataOrder {
    pub(crate) fn new(n: usize, seed: u64) -> Self {
        Self {
            n,
            items: None,
            seed,
            lengths: None,
            epoch: None,
            order: Vec::new(),
        }
    }

    /// Draws batches of similar `lengths` (one per example).
    pub(crate) fn grouped_by_length(mut self, lengths: Vec<usize>) -> Self {
        // Lengths per item, through the repeats.
        let lengths = (0..self.n)
            .map(|item| lengths[self.example(item)])
            .collect();
        self.lengths = Some(lengths);
        self.epoch = None;
        self
    }

    /// Each epoch visits example `i` `repeats[i]` times (at least once), e.g. to show rare
    /// long texts more often. Call before [`Self::grouped_by_length`].
    pub(crate) fn with_repeats(mut self, repeats: &[usize]) -> Self {
        debug_assert_eq!(repeats.len(), self.n);
        let items: Vec<usize> = repeats
            .iter()
            .enumerate()
            .flat_map(|(i, &r)| std::iter::repeat_n(i, r.max(1)))
            .collect();
        self.n = items.len();
        self.items = Some(items);
        self.epoch = None;
        self
    }

    fn example(&self, item: usize) -> usize {
        self.items.as_ref().map_or(item, |items| items[item])
    }

    fn permutation(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.n).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(
            self.seed.wrapping_add(epoch as u64),
        ));
        order
    }

    /// The examples of micro-batch number `global` (counting from 0 over the whole run).
    pub(crate) fn batch(&mut self, batch: usize, global: u64) -> Vec<usize> {
        // Grouping needs at least one full batch per epoch.
        let items = if self.lengths.is_some() && batch > 0 && self.n >= batch {
            self.grouped_batch(batch, global)
        } else {
            self.plain_batch(batch, global)
        };
        items.into_iter().map(|item| self.example(item)).collect()
    }

    fn plain_batch(&mut self, batch: usize, global: u64) -> Vec<usize> {
        let start = global as usize * batch;
        (start..start + batch)
            .map(|i| {
                let (epoch, offset) = (i / self.n, i % self.n);
                if self.epoch != Some(epoch) {
                    self.order = self.permutation(epoch);
                    self.epoch = Some(epoch);
                }
                self.order[offset]
            })
            .collect()
    }

    fn grouped_batch(&mut self, batch: usize, global: u64) -> Vec<usize> {
        let per_epoch = self.n / batch;
        let (epoch, index) = (global as usize / per_epoch, global as usize % per_epoch);
        if self.epoch != Some(epoch) {
            let mut order = self.permutation(epoch);
            order.truncate(per_epoch * batch);
            let lengths = self.lengths.as_deref().unwrap_or_default();
            // A stable sort keeps the shuffled order among texts of equal length.
            for pool in order.chunks_mut(POOL_BATCHES * batch) {
                pool.sort_by_key(|&i| lengths[i]);
            }
            let mut batches: Vec<&[usize]> = order.chunks(batch).collect();
            // A different stream from the permutation's, so the two draws are independent.
            batches.shuffle(&mut ChaCha8Rng::seed_from_u64(
                self.seed.wrapping_add(epoch as u64) ^ 0x5EED_0FBA_7C4E_0005,
            ));
            self.order = batches.concat();
            self.epoch = Some(epoch);
        }
        self.order[index * batch..(index + 1) * batch].to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_cover_each_epoch_once_and_resume_identically() {
        let n = 10;
        let mut order = DataOrder::new(n, 7);
        let mut seen: Vec<usize> = (0..5).flat_map(|g| order.batch(2, g)).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..n).collect::<Vec<_>>());
        // A fresh order (a resumed run) gives the same batch for the same index.
        let later = order.batch(3, 11);
        assert_eq!(DataOrder::new(n, 7).batch(3, 11), later);
        let mut order = DataOrder::new(n, 7);
        assert_ne!(order.batch(10, 0), order.batch(10, 1), "epochs reshuffle");
    }

    #[test]
    fn repeated_examples_come_that_many_times_per_epoch() {
        let repeats = [1, 3, 0, 2];
        let mut order = DataOrder::new(4, 5).with_repeats(&repeats);
        // An epoch is 1 + 3 + 1 + 2 = 7 items (a repeat of 0 still visits once).
        let mut seen: Vec<usize> = (0..7).flat_map(|g| order.batch(1, g)).collect();
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1, 1, 1, 2, 3, 3]);
        let fresh = DataOrder::new(4, 5).with_repeats(&repeats).batch(2, 9);
        assert_eq!(order.batch(2, 9), fresh, "resumes identically");
        // Grouping by length still sees every repeat.
        let mut grouped = DataOrder::new(4, 5)
            .with_repeats(&repeats)
            .grouped_by_length(vec![9, 4, 7, 1]);
        let mut seen: Vec<usize> = (0..7).flat_map(|g| grouped.batch(1, g)).collect();
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 1, 1, 1, 2, 3, 3]);
    }

    /// Lengths 0..n in a scrambled order, so sorting has work to do.
    fn scrambled_lengths(n: usize) -> Vec<usize> {
        (0..n).map(|i| (i * 7919) % n).collect()
    }

    #[test]
    fn grouped_batches_hold_similar_lengths_and_cover_an_epoch_once() {
        let (n, batch) = (1000, 10);
        let lengths = scrambled_lengths(n);
        let mut order = DataOrder::new(n, 3).grouped_by_length(lengths.clone());
        let batches: Vec<Vec<usize>> = (0..100).map(|g| order.batch(batch, g)).collect();
        let mut seen: Vec<usize> = batches.concat();
        seen.sort_unstable();
        assert_eq!(
            seen,
            (0..n).collect::<Vec<_>>(),
            "one epoch, each example once"
        );
        // One pool holds the whole epoch here, so each batch is a run of 10 consecutive
        // lengths: the spread inside a batch is exactly 9.
        for b in &batches {
            let ls: Vec<usize> = b.iter().map(|&i| lengths[i]).collect();
            assert_eq!(ls.iter().max().unwrap() - ls.iter().min().unwrap(), 9);
        }
        // Batches come in shuffled order, not sorted by length.
        let firsts: Vec<usize> = batches.iter().map(|b| lengths[b[0]]).collect();
        assert!(firsts.windows(2).any(|w| w[0] > w[1]));
    }

    #[test]
    fn grouped_order_resumes_identically_and_reshuffles_each_epoch() {
        let (n, batch) = (1005, 10);
        let lengths = scrambled_lengths(n);
        let mut order = DataOrder::new(n, 3).grouped_by_length(lengths.clone());
        let run: Vec<Vec<usize>> = (0..250).map(|g| order.batch(batch, g)).collect();
        let mut fresh = DataOrder::new(n, 3).grouped_by_length(lengths.clone());
        assert_eq!(
            fresh.batch(batch, 217),
            run[217],
            "a resumed run continues exactly"
        );
        assert_ne!(run[0..100], run[100..200], "epochs differ");
        assert!(run.iter().all(|b| b.len() == batch));
    }

    #[test]
    fn grouping_falls_back_when_the_corpus_is_smaller_than_a_batch() {
        let mut order = DataOrder::new(3, 1).grouped_by_length(vec![5, 1, 3]);
        let mut seen = order.batch(6, 0);
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 0, 1, 1, 2, 2]);
    }
}
