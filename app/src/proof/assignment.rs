//! Which arm a browser is in: a hash of the experiment's salt and the browser id, so every
//! surface that knows the id (the block through the App Proxy, a headless frontend, the
//! report reading the pixel's events) reaches the same answer, on every reload, with
//! nothing stored per shopper.

use sha2::{Digest, Sha256};

/// Buckets of the unit interval: shares are kept in basis points (5% = 500).
pub const BUCKETS: u32 = 10_000;

/// The browser's bucket, 0 to 9,999, for this salt. SHA-256 rather than a fast hash: the
/// same on every platform and release, and no shopper can pick an id to choose an arm.
pub fn bucket(salt: &str, client_id: &str) -> u32 {
    let digest = Sha256::new()
        .chain_update(salt.as_bytes())
        .chain_update([0u8])
        .chain_update(client_id.as_bytes())
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(BUCKETS)) as u32
}

/// The arm, by index, whose share of the buckets holds `bucket`; weights are relative.
pub fn arm_of(bucket: u32, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    if total == 0 {
        return 0;
    }
    // Where the bucket falls in [0, total): arms own consecutive ranges, in their order.
    let point = u64::from(bucket) * total / u64::from(BUCKETS);
    let mut upper = 0u64;
    for (index, weight) in weights.iter().enumerate() {
        upper += u64::from(*weight);
        if point < upper {
            return index;
        }
    }
    weights.len() - 1
}

/// A fresh salt for a new experiment or holdout period.
pub fn new_salt() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 12];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignment_is_stable_and_splits_by_weight() {
        assert_eq!(bucket("s", "client-1"), bucket("s", "client-1"));
        assert_ne!(
            (0..50)
                .map(|i| bucket("a", &format!("c{i}")))
                .collect::<Vec<_>>(),
            (0..50)
                .map(|i| bucket("b", &format!("c{i}")))
                .collect::<Vec<_>>()
        );
        let mut counts = [0u32; 2];
        for i in 0..20_000 {
            counts[arm_of(bucket("salt", &format!("browser-{i}")), &[95, 5])] += 1;
        }
        // 5% of 20,000 is 1,000; three standard deviations are about 92.
        assert!((900..1_100).contains(&counts[1]), "{counts:?}");
        assert_eq!(arm_of(0, &[1, 1]), 0);
        assert_eq!(arm_of(BUCKETS - 1, &[1, 1]), 1);
        assert_eq!(arm_of(7, &[0, 3]), 1);
    }
}
