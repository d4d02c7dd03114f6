//! Reciprocal rank fusion: several rankings of the same kind of item made one, each item scored by the sum of
//! `1 / (K + rank)` over the rankings it is in. Scales of the rankings' own scores do not matter, only ranks, so
//! rankings from different indexes (or lexical and dense retrieval) fuse without calibration.

/// The constant of the original paper (Cormack, Clarke and Büttcher, 2009): it damps the weight of the very top.
pub const RRF_K: f64 = 60.0;

/// The items of `rankings` (each best first), fused and best first, at most `limit`, each with its fusion score;
/// an item is identified by `key`, and the first ranking's copy of it is kept. Ties go to the item first seen.
pub fn reciprocal_rank_fusion<T, K: PartialEq>(
    rankings: Vec<Vec<T>>,
    key: impl Fn(&T) -> K,
    limit: usize,
) -> Vec<(T, f64)> {
    let mut fused: Vec<(K, f64, T)> = Vec::new();
    for ranking in rankings {
        for (rank, item) in ranking.into_iter().enumerate() {
            let weight = 1.0 / (RRF_K + rank as f64 + 1.0);
            let id = key(&item);
            match fused.iter_mut().find(|(k, _, _)| *k == id) {
                Some(entry) => entry.1 += weight,
                None => fused.push((id, weight, item)),
            }
        }
    }
    // A stable sort keeps first-seen order among equal scores.
    fused.sort_by(|a, b| b.1.total_cmp(&a.1));
    fused.into_iter().take(limit).map(|(_, score, item)| (item, score)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_in_several_rankings_rise_and_first_seen_wins_ties() {
        let fused = reciprocal_rank_fusion(vec![vec!["a", "b", "c"], vec!["c", "d"]], |s| *s, 10);
        assert_eq!(fused.iter().map(|(item, _)| *item).collect::<Vec<_>>(), ["c", "a", "b", "d"]);
        assert!((fused[0].1 - (1.0 / 63.0 + 1.0 / 61.0)).abs() < 1e-12);
        let fused = reciprocal_rank_fusion(vec![vec!["x"], vec!["y"]], |s| *s, 1);
        assert_eq!(fused, [("x", 1.0 / 61.0)]);
        assert!(reciprocal_rank_fusion(Vec::<Vec<u8>>::new(), |s| *s, 5).is_empty());
    }
}
