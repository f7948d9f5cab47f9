//! Random bits without a dependency, for names that must not collide (scratch directories,
//! Lambda's request and trace ids).

use std::time::{SystemTime, UNIX_EPOCH};

/// 128 random bits from the standard library's per-process random hash keys.
pub fn random_u128() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let word = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        h.finish()
    };
    (u128::from(word()) << 64) | u128::from(word())
}
