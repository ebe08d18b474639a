//! JD image content: rule **X** of spec jd.md §2.6, the inspection table under it, and the
//! similarity score of §3.15.
//!
//! This module owns:
//! - [`parse`]: one JSON image-content value → [`ContentField`] (absent, invalid, or a [`Content`]
//!   keyed by its URL string or its decoded bytes);
//! - [`check`]: the §2.6 inspection table, first failure wins, as a [`Rejection`] (which knows each
//!   product family's spelling of it);
//! - [`score`]: the §3.15 similarity of two contents;
//! - the snapshot form of a content (§8.2 `content` / `content_url`).
//!
//! It does not decide which operation reports which failure where (index, search, product add: their
//! handlers do), nor the ranking order of equal scores. Pixel-level work is [`crate::similarity`]'s.

use std::fmt;
use std::sync::OnceLock;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::similarity::{self, ImageInfo};

/// The largest decoded content JD accepts: 3.75 MiB. One byte more is [`Rejection::TooManyBytes`].
pub const MAX_CONTENT_BYTES: usize = 3_932_160;
/// The smallest width and height JD accepts, in pixels.
pub const MIN_SIDE: u32 = 201;
/// The largest width and height JD accepts, in pixels.
pub const MAX_SIDE: u32 = 4096;

/// RFC 4648 standard alphabet; padding optional (see [`decode_standard`]); non-zero trailing bits tolerated (RFC 4648 §3.5
/// lets decoders accept them, and the servers' decoders do).
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// What an image-content field holds, by rule X.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentField {
    /// Absent, `null`, not a string, or empty after trimming.
    Absent,
    /// Present but neither URL content nor decodable, non-empty Base64 (`BROKEN_BASE64_OR_URL`).
    Invalid,
    /// URL or Base64 content.
    Present(Content),
}

/// The identity of a content: two contents with equal keys are the same image (score 1.0).
///
/// A URL and bytes are never equal keys, even if the bytes spell the URL.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum ContentKey {
    /// URL content: the trimmed string, as sent (never fetched).
    Url(String),
    /// Base64 content: the decoded bytes (never empty).
    Bytes(Vec<u8>),
}

impl ContentKey {
    /// The key as bytes: the URL's UTF-8, or the decoded bytes. Used for the §3.15 fallback score.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Url(url) => url.as_bytes(),
            Self::Bytes(bytes) => bytes,
        }
    }
}

impl fmt::Debug for ContentKey {
    /// Never prints the bytes themselves: a content may be megabytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url(url) => f.debug_tuple("Url").field(url).finish(),
            Self::Bytes(bytes) => write!(f, "Bytes({} bytes)", bytes.len()),
        }
    }
}

/// One image content: its key, the header inspection of its bytes and, on demand, their average
/// hash.
///
/// Inspection is header-only and done on construction. The average hash costs one full decode (up
/// to 4096 × 4096 pixels), so it is computed on first use of [`Content::average_hash`] and cached:
/// contents that fail [`check`] or are never compared never pay it. A caller about to store a
/// content behind a shared lock can call `average_hash()` first to pay the decode outside it.
///
/// Equality is equality of keys: the rest is derived from the key.
#[derive(Debug, Clone)]
pub struct Content {
    key: ContentKey,
    /// `None` for URLs and for bytes that are not a PNG/JPEG header.
    info: Option<ImageInfo>,
    /// The average hash, once computed (`Some(None)`: computed, there is none).
    hash: OnceLock<Option<u64>>,
}

impl PartialEq for Content {
    fn eq(&self, other: &Self) -> bool {
        self.same_content(other)
    }
}

impl Eq for Content {}

impl Content {
    /// URL content; the caller has checked the URL rule.
    fn from_url(url: String) -> Self {
        Self {
            key: ContentKey::Url(url),
            info: None,
            hash: OnceLock::from(None),
        }
    }

    /// Base64 content from its decoded, non-empty bytes.
    fn from_bytes(bytes: Vec<u8>) -> Self {
        Self {
            info: similarity::inspect(&bytes),
            key: ContentKey::Bytes(bytes),
            hash: OnceLock::new(),
        }
    }

    /// The decoded bytes, for Base64 content.
    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.key {
            ContentKey::Url(_) => None,
            ContentKey::Bytes(bytes) => Some(bytes),
        }
    }

    /// The decoded length in bytes, for Base64 content.
    pub fn byte_len(&self) -> Option<usize> {
        self.bytes().map(<[u8]>::len)
    }

    /// The header inspection of Base64 content (`None` for URLs and undecodable bytes).
    pub fn info(&self) -> Option<ImageInfo> {
        self.info
    }

    /// The average hash (DESIGN §7) of Base64 content that decodes as PNG or JPEG of at most
    /// 4096 × 4096; `None` otherwise, and always for URLs. Computed once, on first call.
    pub fn average_hash(&self) -> Option<u64> {
        *self.hash.get_or_init(|| {
            self.info?; // no header, no decode attempt
            self.bytes().and_then(similarity::average_hash)
        })
    }

    /// Whether two contents are the same image: equal keys (same decoded bytes, or same URL).
    pub fn same_content(&self, other: &Content) -> bool {
        self.key == other.key
    }

    /// This content's §2.6 inspection: see the free function [`check`].
    pub fn check(&self) -> Result<Option<ImageInfo>, Rejection> {
        check(self)
    }

    /// The §8.2 snapshot fields: `(content, content_url)`, exactly one of them `Some`; `content` is
    /// standard Base64 with padding.
    pub fn to_snapshot(&self) -> (Option<String>, Option<String>) {
        match &self.key {
            ContentKey::Url(url) => (None, Some(url.clone())),
            ContentKey::Bytes(bytes) => (Some(STANDARD.encode(bytes)), None),
        }
    }

    /// Rebuilds a content from its §8.2 snapshot fields, recomputing the inspection (the hash is
    /// recomputed on first use). `content` is standard Base64, padding optional, no whitespace or
    /// `data:` prefix; `content_url` must be URL content by rule X and already trimmed.
    pub fn from_snapshot(
        content: Option<&str>,
        content_url: Option<&str>,
    ) -> Result<Self, SnapshotError> {
        match (content, content_url) {
            (Some(_), Some(_)) => Err(SnapshotError::Both),
            (None, None) => Err(SnapshotError::Missing),
            (Some(text), None) => {
                let bytes = decode_standard(text).ok_or(SnapshotError::Base64)?;
                if bytes.is_empty() {
                    return Err(SnapshotError::Empty);
                }
                Ok(Self::from_bytes(bytes))
            }
            (None, Some(url)) if is_url(url) && url.trim() == url => {
                Ok(Self::from_url(url.to_owned()))
            }
            (None, Some(_)) => Err(SnapshotError::NotAUrl),
        }
    }
}

/// Why snapshot fields do not make a [`Content`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// Neither `content` nor `content_url` is present.
    #[error("an image needs `content` or `content_url`")]
    Missing,
    /// Both `content` and `content_url` are present.
    #[error("an image has both `content` and `content_url`; keep one")]
    Both,
    /// `content` is not standard Base64.
    #[error("`content` is not standard Base64")]
    Base64,
    /// `content` decodes to no bytes.
    #[error("`content` is empty")]
    Empty,
    /// `content_url` is not `http://` or `https://` plus at least one character, trimmed.
    #[error("`content_url` must be an http:// or https:// URL without surrounding whitespace")]
    NotAUrl,
}

/// Applies rule X to a JSON value (the field's value, `None` when the key is absent).
///
/// Trimming removes Unicode whitespace (`str::trim`). URL content is `http://` or `https://`
/// (ASCII case-insensitive) plus at least one character; other text containing `://` is invalid.
/// Anything else is Base64: an optional `data:<anything without a comma>;base64,` prefix (ASCII
/// case-insensitive) is dropped, then all whitespace, then the rest is decoded with the standard
/// alphabet, padding optional (none, or complete); failure or 0 bytes is invalid.
pub fn parse(value: Option<&Value>) -> ContentField {
    let Some(Value::String(text)) = value else {
        return ContentField::Absent;
    };
    let text = text.trim();
    if text.is_empty() {
        ContentField::Absent
    } else if is_url(text) {
        ContentField::Present(Content::from_url(text.to_owned()))
    } else if text.contains("://") {
        ContentField::Invalid
    } else {
        decode_base64(text).map_or(ContentField::Invalid, |bytes| {
            ContentField::Present(Content::from_bytes(bytes))
        })
    }
}

/// `http://` or `https://`, ASCII case-insensitive, plus at least one character.
fn is_url(text: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        text.len() > scheme.len() && starts_with_ignore_case(text.as_bytes(), scheme.as_bytes())
    })
}

/// Whether `text` starts with `prefix`, ASCII case-insensitive.
fn starts_with_ignore_case(text: &[u8], prefix: &[u8]) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// The Base64 branch of rule X: `None` when the text does not decode to at least one byte.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let payload = strip_data_url_prefix(text);
    let compact: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    decode_standard(&compact).filter(|bytes| !bytes.is_empty())
}

/// Standard-alphabet Base64 with optional padding: none at all, or complete (`Zg` and `Zg==`, not
/// `Zg=`, which the engine alone would accept).
fn decode_standard(text: &str) -> Option<Vec<u8>> {
    if text.ends_with('=') && !text.len().is_multiple_of(4) {
        return None;
    }
    LENIENT_BASE64.decode(text).ok()
}

/// Drops a `data:…;base64,` prefix (RFC 2397: media type and parameters, no comma), if present.
fn strip_data_url_prefix(text: &str) -> &str {
    if !starts_with_ignore_case(text.as_bytes(), b"data:") {
        return text;
    }
    match text.split_once(',') {
        Some((head, rest)) if ends_with_ignore_case(head.as_bytes(), b";base64") => rest,
        _ => text,
    }
}

/// Whether `text` ends with `suffix`, ASCII case-insensitive.
fn ends_with_ignore_case(text: &[u8], suffix: &[u8]) -> bool {
    text.len() >= suffix.len()
        && text
            .get(text.len() - suffix.len()..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(suffix))
}

/// A failed §2.6 inspection check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Rejection {
    /// Not a PNG or JPEG header, or a 0 dimension.
    #[error("the content is not a decodable PNG or JPEG image")]
    Undecodable,
    /// More than [`MAX_CONTENT_BYTES`] decoded bytes.
    #[error("the image is larger than {MAX_CONTENT_BYTES} bytes")]
    TooManyBytes,
    /// Width or height below [`MIN_SIDE`].
    #[error("the image is narrower or shorter than {MIN_SIDE} px")]
    TooSmall,
    /// Width or height above [`MAX_SIDE`].
    #[error("the image is wider or taller than {MAX_SIDE} px")]
    TooManyPixels,
}

/// The §2.6 inspection table, first failure wins: undecodable, > [`MAX_CONTENT_BYTES`], a side
/// < [`MIN_SIDE`], a side > [`MAX_SIDE`]. URL content passes with no info; passing Base64 content
/// returns its header info (the search rectangle is its size).
pub fn check(content: &Content) -> Result<Option<ImageInfo>, Rejection> {
    let Some(len) = content.byte_len() else {
        return Ok(None); // URL content: never fetched, never inspected
    };
    let info = content.info().ok_or(Rejection::Undecodable)?;
    if len > MAX_CONTENT_BYTES {
        return Err(Rejection::TooManyBytes);
    }
    if info.width < MIN_SIDE || info.height < MIN_SIDE {
        return Err(Rejection::TooSmall);
    }
    if info.width > MAX_SIDE || info.height > MAX_SIDE {
        return Err(Rejection::TooManyPixels);
    }
    Ok(Some(info))
}

/// The §3.15 similarity of two contents, in [0, 1], symmetric:
/// - equal keys (same decoded bytes, or same URL string): 1.0;
/// - both have an average hash: 0.99 × (1 − d/64), d their Hamming distance;
/// - otherwise 0.5 × u / 2^64, u the big-endian first 8 bytes of SHA-256(kmin ‖ 0x00 ‖ kmax), kmin
///   and kmax the two keys' bytes in bytewise order (a stable pseudo-random score below 0.5).
pub fn score(a: &Content, b: &Content) -> f64 {
    if a.same_content(b) {
        return 1.0;
    }
    if let (Some(ha), Some(hb)) = (a.average_hash(), b.average_hash()) {
        let d = f64::from(similarity::hamming(ha, hb));
        return 0.99 * (1.0 - d / 64.0);
    }
    0.5 * fallback_unit(a.key.as_bytes(), b.key.as_bytes())
}

/// u / 2^64 for the fallback score, u from SHA-256(kmin ‖ 0x00 ‖ kmax).
fn fallback_unit(a: &[u8], b: &[u8]) -> f64 {
    let (kmin, kmax) = if a <= b { (a, b) } else { (b, a) };
    let digest = Sha256::new()
        .chain_update(kmin)
        .chain_update([0u8])
        .chain_update(kmax)
        .finalize();
    let head = digest.first_chunk::<8>().copied().unwrap_or_default();
    // u64 → f64 rounds to 53 bits; the score only orders, so that is fine.
    u64::from_be_bytes(head) as f64 / 18_446_744_073_709_551_616.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::similarity::ImageFormat;
    use serde_json::json;

    /// `scripts/gen-jd-fixture-images.py` output: `ramp_lr` (256×256) and `tiny` (100×100).
    const RAMP_LR: &str = "iVBORw0KGgoAAAANSUhEUgAAAQAAAAEACAIAAADTED8xAAAB/klEQVR42u3TMQ0AAAzDsJY/6d3FMBtCpDRJ4S0DYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgAAxgAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABsAABsAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwAAYQAQOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADADrAHNe/h9ZNXJBAAAAAElFTkSuQmCC";
    const TINY: &str = "iVBORw0KGgoAAAANSUhEUgAAAGQAAABkCAIAAAD/gAIDAAAAsElEQVR42u3QuQkAMAwDQD/775w2pHXAzTUGuZDgMiKqqrvv+8Th82/b4kTCggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggVre+IAGGcrSN4gT1oAAAAASUVORK5CYII=";

    fn parsed(value: Value) -> ContentField {
        parse(Some(&value))
    }

    fn content(value: Value) -> Content {
        match parsed(value) {
            ContentField::Present(content) => content,
            other => panic!("expected content, got {other:?}"),
        }
    }

    fn ramp_lr_bytes() -> Vec<u8> {
        STANDARD.decode(RAMP_LR).unwrap()
    }

    /// The ramp_lr PNG with its IHDR size replaced: the header is all `check` reads.
    fn png_sized(width: u32, height: u32) -> Content {
        let mut bytes = ramp_lr_bytes();
        bytes[16..20].copy_from_slice(&width.to_be_bytes());
        bytes[20..24].copy_from_slice(&height.to_be_bytes());
        Content::from_bytes(bytes)
    }

    /// A content of exactly `len` bytes starting with a PNG header of the given size.
    fn png_padded(width: u32, height: u32, len: usize) -> Content {
        let mut bytes = png_sized(width, height).bytes().unwrap().to_vec();
        bytes.resize(len, 0);
        Content::from_bytes(bytes)
    }

    #[test]
    fn absent_values() {
        assert_eq!(parse(None), ContentField::Absent);
        for value in [
            json!(null),
            json!(12),
            json!(true),
            json!([]),
            json!({}),
            json!(""),
            json!("  \n\t "),
            json!("\u{3000}"),
        ] {
            assert_eq!(parsed(value.clone()), ContentField::Absent, "{value}");
        }
    }

    #[test]
    fn url_content_is_kept_trimmed_and_never_inspected() {
        for (raw, key) in [
            ("http://x", "http://x"),
            (
                "  HTTPS://example.com/a.jpg \n",
                "HTTPS://example.com/a.jpg",
            ),
            ("hTtP://中文", "hTtP://中文"),
            ("https:// x", "https:// x"),
        ] {
            let content = content(json!(raw));
            assert_eq!(content.key, ContentKey::Url(key.to_owned()));
            assert_eq!((content.bytes(), content.byte_len()), (None, None));
            assert_eq!((content.info(), content.average_hash()), (None, None));
            assert_eq!(check(&content), Ok(None));
        }
    }

    #[test]
    fn invalid_values() {
        for raw in [
            "http://",
            " https:// ",
            "ftp://example.com/a.png",
            "file:///etc/passwd",
            "://",
            "data://x",
            "not base64!",
            "====",
            "Zg=",
            "Zm9v=",
            "Zm9v====",
            "Z",
            "data:image/png;base64,",
            "data:image/png;base64,  \n",
            "data:image/png,Zm9v",
            "Zm9v\u{00e9}",
        ] {
            assert_eq!(parsed(json!(raw)), ContentField::Invalid, "{raw:?}");
        }
    }

    #[test]
    fn base64_forms_decode_to_the_same_bytes() {
        let expected = ContentKey::Bytes(b"foob".to_vec());
        for raw in [
            "Zm9vYg==",
            "Zm9vYg",
            " Zm9v\r\nYg== ",
            "Zm 9v Yg\t==",
            "data:image/png;base64,Zm9vYg==",
            "DATA:IMAGE/PNG;BASE64,Zm9vYg",
            "data:;base64,Zm9v\nYg==",
            "data:image/jpeg;name=a.jpg;base64, Zm9vYg==",
            "Zm9vYh", // non-zero trailing bits are tolerated
        ] {
            assert_eq!(content(json!(raw)).key, expected, "{raw:?}");
        }
    }

    #[test]
    fn base64_content_is_inspected() {
        let milk = content(json!(RAMP_LR));
        let info = milk.info().unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (ImageFormat::Png, 256, 256)
        );
        assert_eq!(milk.byte_len(), Some(ramp_lr_bytes().len()));
        assert_eq!(milk.average_hash(), Some(0x0F0F_0F0F_0F0F_0F0F));
        let text = content(json!("Zm9v"));
        assert_eq!((text.info(), text.average_hash()), (None, None));
    }

    #[test]
    fn check_accepts_fixture_images() {
        let info = check(&content(json!(RAMP_LR))).unwrap().unwrap();
        assert_eq!((info.width, info.height), (256, 256));
        assert_eq!(
            check(&png_sized(201, 4096)),
            Ok(png_sized(201, 4096).info())
        );
        assert!(check(&png_padded(300, 300, MAX_CONTENT_BYTES)).is_ok());
    }

    #[test]
    fn check_rejects_in_table_order() {
        let undecodable = Content::from_bytes(vec![0; MAX_CONTENT_BYTES + 1]);
        assert_eq!(check(&undecodable), Err(Rejection::Undecodable));
        assert_eq!(check(&content(json!("Zm9v"))), Err(Rejection::Undecodable));
        assert_eq!(check(&png_sized(0, 300)), Err(Rejection::Undecodable));
        // Bytes before size: a tiny image over the byte cap is too many bytes.
        assert_eq!(
            check(&png_padded(100, 100, MAX_CONTENT_BYTES + 1)),
            Err(Rejection::TooManyBytes)
        );
        assert_eq!(check(&content(json!(TINY))), Err(Rejection::TooSmall));
        assert_eq!(check(&png_sized(200, 300)), Err(Rejection::TooSmall));
        assert_eq!(check(&png_sized(300, 200)), Err(Rejection::TooSmall));
        // Too small before too large.
        assert_eq!(check(&png_sized(5000, 100)), Err(Rejection::TooSmall));
        assert_eq!(check(&png_sized(4097, 300)), Err(Rejection::TooManyPixels));
        assert_eq!(check(&png_sized(300, 4097)), Err(Rejection::TooManyPixels));
    }

    #[test]
    fn equal_keys_score_one() {
        let a = content(json!(RAMP_LR));
        let b = content(json!(format!("data:image/png;base64,{RAMP_LR}")));
        assert_eq!(score(&a, &b), 1.0);
        let url = content(json!("http://a/1.png"));
        assert_eq!(score(&url, &content(json!(" http://a/1.png "))), 1.0);
        let text = content(json!("Zm9v"));
        assert_eq!(score(&text, &text.clone()), 1.0);
    }

    #[test]
    fn hashed_contents_score_by_hamming_distance() {
        let lr = content(json!(RAMP_LR));
        // The same pixels as a different PNG file: distance 0 but not identical bytes.
        let mut other = ramp_lr_bytes();
        other.extend(b"trailing bytes after IEND");
        let other = Content::from_bytes(other);
        assert_eq!(score(&lr, &other), 0.99);
        // tiny is a ramp too (same hash); scoring does not check sizes.
        assert_eq!(score(&lr, &content(json!(TINY))), 0.99);
    }

    #[test]
    fn unhashed_contents_score_by_key_digest() {
        let a = content(json!("http://a"));
        let b = content(json!("http://b"));
        // 0.5 × 0x0FFBB600760D85E2 / 2^64, checked with Python's hashlib.
        assert!((score(&a, &b) - 0.031_217_277_103_702_52).abs() < 1e-15);
        let url = content(json!("https://example.com/milk.jpg"));
        let foo = content(json!("Zm9v"));
        assert!((score(&url, &foo) - 0.484_442_251_097_056_2).abs() < 1e-15);
        // URL vs image bytes: the image has a hash, the URL has none.
        let lr = content(json!(RAMP_LR));
        let s = score(&url, &lr);
        assert!((0.0..0.5).contains(&s));
    }

    #[test]
    fn scores_are_symmetric_and_bounded() {
        let contents = [
            content(json!(RAMP_LR)),
            content(json!(TINY)),
            content(json!("Zm9v")),
            content(json!("http://a")),
            content(json!("https://b")),
            png_sized(300, 300),
        ];
        for a in &contents {
            for b in &contents {
                let s = score(a, b);
                assert_eq!(s, score(b, a));
                assert!((0.0..=1.0).contains(&s));
            }
        }
    }

    #[test]
    fn snapshot_round_trips() {
        for value in [json!(RAMP_LR), json!("  Zm9v YQ "), json!("HTTP://x/y")] {
            let original = content(value);
            let (bytes, url) = original.to_snapshot();
            let restored = Content::from_snapshot(bytes.as_deref(), url.as_deref()).unwrap();
            assert_eq!(restored, original);
            assert_eq!(restored.info(), original.info());
            assert_eq!(restored.average_hash(), original.average_hash());
            assert_eq!(restored.to_snapshot(), (bytes, url));
        }
        let (bytes, url) = content(json!("Zm9vYQ")).to_snapshot();
        assert_eq!((bytes.as_deref(), url), (Some("Zm9vYQ=="), None));
    }

    #[test]
    fn snapshot_errors() {
        use SnapshotError::*;
        let from = Content::from_snapshot;
        assert_eq!(from(None, None), Err(Missing));
        assert_eq!(from(Some("Zm9v"), Some("http://x")), Err(Both));
        assert_eq!(from(Some("Zm9v!"), None), Err(Base64));
        assert_eq!(from(Some("Zm 9v"), None), Err(Base64));
        assert_eq!(from(Some("Zg="), None), Err(Base64));
        assert_eq!(from(Some("Zg"), None).unwrap().bytes(), Some(&b"f"[..]));
        assert_eq!(from(Some(""), None), Err(Empty));
        for url in ["ftp://x", "http://", " http://x", "Zm9v"] {
            assert_eq!(from(None, Some(url)), Err(NotAUrl), "{url:?}");
        }
        assert!(from(Some("Zm9v"), None).is_ok());
    }

    #[test]
    fn debug_output_does_not_dump_bytes() {
        let text = format!("{:?}", content(json!(RAMP_LR)));
        assert!(
            text.contains(&format!("Bytes({} bytes)", ramp_lr_bytes().len())),
            "{text}"
        );
        assert!(text.len() < 300, "{text}");
    }

    #[test]
    fn parse_never_panics_on_odd_strings() {
        let pieces = [
            "data:", ";base64,", ",", "://", "http", "s", "=", "Zm9v", " ", "\n", "é", "中",
            "\u{3000}", "+/", "A", "\0",
        ];
        let mut state = 0x1234_5678_u64;
        for _ in 0..5000 {
            let mut text = String::new();
            for _ in 0..(state % 7) {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                text.push_str(pieces[(state >> 33) as usize % pieces.len()]);
            }
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            if let ContentField::Present(content) = parsed(json!(text)) {
                let _ = (
                    check(&content),
                    content.average_hash(),
                    content.to_snapshot(),
                );
            }
        }
    }
}
