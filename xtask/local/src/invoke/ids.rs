//! Random ids in the forms Lambda uses (request ids, X-Ray trace headers).

use std::time::{SystemTime, UNIX_EPOCH};

use xtask::util::random::random_u128;

/// A version-4 UUID, the form of Lambda's request ids.
pub fn new_request_id() -> String {
    let r = random_u128();
    let r = (r & !(0xF000u128 << 64)) | (0x4000u128 << 64); // version 4
    let r = (r & !(0xC000u128 << 48)) | (0x8000u128 << 48); // RFC 4122 variant
    let hex = format!("{r:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// An X-Ray trace header of the form Lambda passes in Lambda-Runtime-Trace-Id.
pub fn new_trace_id() -> String {
    let r = random_u128();
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    format!(
        "Root=1-{secs:08x}-{:024x};Parent={:016x};Sampled=0",
        r >> 32,
        r as u64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4() {
        let id = new_request_id();
        assert_eq!(id.len(), 36, "{id}");
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{id}");
        assert!("89ab".contains(&parts[3][..1]), "{id}");
        assert_ne!(id, new_request_id());
    }
}
