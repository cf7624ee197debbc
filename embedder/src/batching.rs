//! Length-sorted batches under a token budget: a batch pads only to its own longest text,
//! and short texts travel in large batches while long ones go a few at a time.

/// Groups of indices into `lengths`, longest texts first, each group's
/// `len × longest` within `max_batch_tokens` (a single text always forms a batch).
pub fn token_budget_batches(
    lengths: &[usize],
    max_batch_tokens: usize,
    max_batch_size: usize,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by(|a, b| lengths[*b].cmp(&lengths[*a]).then(a.cmp(b)));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut longest = 0;
    for index in order {
        let length = lengths[index].max(1);
        let longest_if_added = longest.max(length);
        if !current.is_empty()
            && ((current.len() + 1) * longest_if_added > max_batch_tokens
                || current.len() >= max_batch_size)
        {
            batches.push(std::mem::take(&mut current));
            longest = 0;
        }
        longest = longest.max(length);
        current.push(index);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_the_budget_and_cover_every_text_once() {
        let lengths = [5, 200, 7, 7, 256, 3, 64, 64, 1, 0];
        let batches = token_budget_batches(&lengths, 512, 64);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
        for batch in &batches {
            let longest = batch.iter().map(|i| lengths[*i].max(1)).max().unwrap();
            assert!(
                batch.len() == 1 || batch.len() * longest <= 512,
                "{batch:?}"
            );
        }
        assert_eq!(
            batches[0],
            vec![4, 1],
            "the two longest share a batch: 2 x 256 = 512"
        );
    }

    #[test]
    fn batch_size_is_capped() {
        let lengths = vec![4; 100];
        let batches = token_budget_batches(&lengths, 1_000_000, 32);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            [32, 32, 32, 4]
        );
    }
}
