//! Alibaba's checks of `PicContent` (spec §2.6): URL refusal, Base64 decoding and the 4 MiB cap
//! (checks 1–3), then format, decoding, pixel size and Exif orientation (checks 4–6).

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

use super::errors::AliError;
use crate::similarity::{self, content_digest};

/// Largest decoded image.
pub(crate) const MAX_BYTES: usize = 4 * 1024 * 1024;
/// Smallest accepted width or height.
pub(crate) const MIN_SIDE: u32 = 100;
/// Largest accepted width or height.
pub(crate) const MAX_SIDE: u32 = 4096;

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What the emulator keeps of an accepted picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Picture {
    pub bytes: Vec<u8>,
    pub digest: [u8; 32],
    pub ahash: Option<u64>,
    pub width: u32,
    pub height: u32,
}

/// Checks 1–3: a URL is refused; the Base64 text must decode (ASCII whitespace ignored, spaces
/// read as `+`) to at most 4 MiB.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, AliError> {
    let lower = text
        .trim_start()
        .get(..8)
        .unwrap_or("")
        .to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(AliError::new(
            "InvalidPicUrl",
            "PicContent is a URL; the emulator never fetches",
        ));
    }
    let cleaned: String = text
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('+'),
            c if c.is_ascii_whitespace() => None,
            c => Some(c),
        })
        .collect();
    let bytes = BASE64.decode(cleaned.as_bytes()).map_err(|e| {
        AliError::new(
            "UnsupportedPicFormat",
            format!("PicContent is not Base64: {e}"),
        )
    })?;
    if bytes.is_empty() {
        return Err(AliError::new(
            "UnsupportedPicFormat",
            "PicContent decodes to nothing",
        ));
    }
    if bytes.len() > MAX_BYTES {
        return Err(AliError::new(
            "InvalidPicContent",
            format!("{} bytes decoded", bytes.len()),
        ));
    }
    Ok(bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Jpeg,
    Png,
    HeaderOnly,
}

fn format(bytes: &[u8]) -> Option<Format> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(Format::Png)
    } else if bytes.starts_with(b"GIF87a")
        || bytes.starts_with(b"GIF89a")
        || bytes.starts_with(b"BM")
        || (bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP")
    {
        Some(Format::HeaderOnly)
    } else {
        None
    }
}

/// Checks 4–6 on decoded bytes.
pub(crate) fn inspect(bytes: Vec<u8>) -> Result<Picture, AliError> {
    let unsupported = |why: &str| AliError::new("UnsupportedPicFormat", why.to_string());
    let kind = format(&bytes).ok_or_else(|| unsupported("not JPEG, PNG, GIF, BMP or WEBP"))?;
    let (width, height) = match kind {
        Format::Jpeg | Format::Png => {
            let info = similarity::inspect(&bytes)
                .ok_or_else(|| unsupported("unreadable image header"))?;
            (info.width, info.height)
        }
        Format::HeaderOnly => {
            let size =
                imagesize::blob_size(&bytes).map_err(|_| unsupported("unreadable image header"))?;
            (
                u32::try_from(size.width).unwrap_or(u32::MAX),
                u32::try_from(size.height).unwrap_or(u32::MAX),
            )
        }
    };
    let pixels =
        |w: u32, h: u32| (MIN_SIDE..=MAX_SIDE).contains(&w) && (MIN_SIDE..=MAX_SIDE).contains(&h);
    if !pixels(width, height) {
        return Err(AliError::new(
            "UnsupportedPicPixels",
            format!("{width}x{height}"),
        ));
    }
    let ahash = match kind {
        Format::Jpeg | Format::Png => Some(
            similarity::average_hash(&bytes)
                .ok_or_else(|| unsupported("the image does not decode"))?,
        ),
        Format::HeaderOnly => None,
    };
    if kind == Format::Jpeg && exif_orientation(&bytes).is_some_and(|o| o != 1) {
        return Err(AliError::new(
            "IncorrectOrientation",
            "Exif Orientation is not 1",
        ));
    }
    Ok(Picture {
        digest: content_digest(&bytes),
        bytes,
        ahash,
        width,
        height,
    })
}

/// The Exif Orientation of a JPEG (APP1 `Exif\0\0`, IFD0 tag 0x0112), header-only.
fn exif_orientation(jpeg: &[u8]) -> Option<u16> {
    let mut at = 2;
    while at + 4 <= jpeg.len() {
        if jpeg[at] != 0xFF {
            return None;
        }
        let marker = jpeg[at + 1];
        if marker == 0xDA || marker == 0xD9 {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        let segment = jpeg.get(at + 4..at + 2 + len)?;
        if marker == 0xE1 && segment.starts_with(b"Exif\0\0") {
            return tiff_orientation(&segment[6..]);
        }
        at += 2 + len;
    }
    None
}

fn tiff_orientation(tiff: &[u8]) -> Option<u16> {
    let little = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |i: usize| -> Option<u16> {
        let b = tiff.get(i..i + 2)?;
        Some(if little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    };
    let u32_at = |i: usize| -> Option<u32> {
        let b = tiff.get(i..i + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let entries = usize::from(u16_at(ifd)?);
    (0..entries).find_map(|i| {
        let entry = ifd + 2 + i * 12;
        (u16_at(entry)? == 0x0112)
            .then(|| u16_at(entry + 8))
            .flatten()
    })
}

/// The score of a stored picture against a query (spec §2.6): 1.0 for identical bytes, else
/// ⌊99·(64 − d)/64⌋/100 with a hash on both sides, else 0.
pub(crate) fn score(query: &Picture, digest: &[u8; 32], ahash: Option<u64>) -> f64 {
    if &query.digest == digest {
        return 1.0;
    }
    match (query.ahash, ahash) {
        (Some(a), Some(b)) => f64::from((99 * (64 - similarity::hamming(a, b))) / 64) / 100.0,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exif_jpeg(orientation: u16) -> Vec<u8> {
        let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
        tiff.extend_from_slice(&1u16.to_be_bytes());
        tiff.extend_from_slice(&0x0112u16.to_be_bytes());
        tiff.extend_from_slice(&3u16.to_be_bytes());
        tiff.extend_from_slice(&1u32.to_be_bytes());
        tiff.extend_from_slice(&orientation.to_be_bytes());
        tiff.extend_from_slice(&[0, 0]);
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
        jpeg.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        jpeg.extend_from_slice(&app1);
        jpeg.extend_from_slice(&[0xFF, 0xD9]);
        jpeg
    }

    #[test]
    fn orientation_is_read_from_the_exif_header() {
        assert_eq!(exif_orientation(&exif_jpeg(6)), Some(6));
        assert_eq!(exif_orientation(&exif_jpeg(1)), Some(1));
        assert_eq!(exif_orientation(&[0xFF, 0xD8, 0xFF]), None);
        for cut in 0..exif_jpeg(6).len() {
            let _ = exif_orientation(&exif_jpeg(6)[..cut]);
        }
    }

    #[test]
    fn decoding_rules() {
        assert_eq!(decode("https://x/y.jpg").unwrap_err().code, "InvalidPicUrl");
        assert_eq!(decode("***").unwrap_err().code, "UnsupportedPicFormat");
        assert_eq!(
            decode("aGVs bG8=").map(|_| ()).unwrap_err().code,
            "UnsupportedPicFormat",
            "space read as +"
        );
        assert_eq!(decode("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(
            inspect(b"hello".to_vec()).unwrap_err().code,
            "UnsupportedPicFormat"
        );
        assert_eq!(
            inspect(b"GIF89a\x10\x00\x10\x00\x00\x00\x00\x3b".to_vec())
                .unwrap_err()
                .code,
            "UnsupportedPicPixels"
        );
    }
}
