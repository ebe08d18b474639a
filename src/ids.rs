//! Random identifiers (request ids, image and job ids): version-4 UUIDs drawn from the thread's
//! user-space RNG, so minting one costs no system call (`Uuid::new_v4` asks the kernel each time).

use rand::Rng;

/// A fresh random (version 4) UUID.
pub fn uuid_v4() -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rand::rng().random()).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_version_4_and_distinct() {
        let (a, b) = (uuid_v4(), uuid_v4());
        assert_eq!(a.get_version_num(), 4);
        assert_eq!(a.get_variant(), uuid::Variant::RFC4122);
        assert_ne!(a, b);
    }
}
