//! Pieces every signature scheme shares (JD, Alibaba and Huawei): the canonical unreserved byte
//! set of percent-encoding, and an infallible HMAC constructor.

use hmac::digest::{Digest, KeyInit};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// Bytes left bare by the canonical percent-encoding of all three schemes: `A–Z a–z 0–9 - _ . ~`
/// (the `percent-encoding` crate writes the others as `%XX`, upper-case).
pub(crate) const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A MAC `M` (HMAC over digest `D`) keyed with `key` of any length, without a fallible
/// constructor: as RFC 2104 says, a key longer than the hash block is hashed first, then the key
/// is zero-padded to a full block, which is the fixed-size key the infallible constructor takes.
pub(crate) fn keyed<M: KeyInit, D: Digest>(key: &[u8]) -> M {
    let mut block = hmac::digest::Key::<M>::default();
    let hashed;
    let key = if key.len() > block.len() {
        hashed = D::digest(key);
        hashed.as_slice()
    } else {
        key
    };
    for (slot, byte) in block.iter_mut().zip(key) {
        *slot = *byte;
    }
    M::new(&block)
}

#[cfg(test)]
mod tests {
    use hmac::{Hmac, Mac};
    use sha1::Sha1;
    use sha2::Sha256;

    use super::*;

    type HmacSha256 = Hmac<Sha256>;
    type HmacSha1 = Hmac<Sha1>;

    #[test]
    fn keyed_matches_the_fallible_constructors_for_every_key_length() {
        for len in [0, 1, 19, 20, 31, 32, 63, 64, 65, 128, 1000] {
            let key: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let mut ours = keyed::<HmacSha256, Sha256>(&key);
            let mut reference = <HmacSha256 as Mac>::new_from_slice(&key).unwrap();
            ours.update(b"data");
            reference.update(b"data");
            assert_eq!(
                ours.finalize().into_bytes(),
                reference.finalize().into_bytes(),
                "{len}"
            );
            let mut ours = keyed::<HmacSha1, Sha1>(&key);
            let mut reference = <HmacSha1 as Mac>::new_from_slice(&key).unwrap();
            ours.update(b"data");
            reference.update(b"data");
            assert_eq!(
                ours.finalize().into_bytes(),
                reference.finalize().into_bytes(),
                "{len}"
            );
        }
    }
}
