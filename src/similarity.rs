//! Image content similarity shared by the image-search vendors (JD today, Alibaba later).
//!
//! This module owns the vendor-neutral half of DESIGN §7:
//! - [`inspect`]: header-only format and pixel size of PNG and JPEG content;
//! - [`average_hash`]: the 64-bit average hash searches rank by, and [`hamming`] between two hashes;
//! - [`content_digest`]: SHA-256, for "identical bytes score 1.0".
//!
//! It does not own any vendor's limits (minimum/maximum sizes, byte caps), its mapping from a Hamming
//! distance to a score, or what a vendor does for content without a hash: those live with the vendor.
//!
//! Every function is total: any byte string, however truncated or hostile, yields `None` (or a
//! value), never a panic, and nothing is decoded whose header declares more than
//! [`MAX_HASH_DIMENSION`] pixels on a side.

use std::panic::{self, AssertUnwindSafe};

use sha2::{Digest, Sha256};

/// The largest width or height [`average_hash`] decodes. Larger images get no hash: every vendor that
/// uses this module rejects them before they could be compared, and the cap bounds the memory one
/// decode may take (at most 4096 × 4096 × 4 bytes of decoded pixels, 64 MiB, transiently).
pub const MAX_HASH_DIMENSION: u32 = 4096;

/// The PNG file signature.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// A JPEG starts with SOI (`FF D8`) followed by the first byte of the next marker.
const JPEG_PREFIX: [u8; 3] = [0xFF, 0xD8, 0xFF];
/// Allocation budget handed to the PNG decoder for its own buffers (chunks, metadata, rows).
const PNG_DECODER_LIMIT_BYTES: usize = 64 << 20;
/// Side of the average-hash grid.
const GRID: usize = 8;

/// An image format [`inspect`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// PNG: the 8-byte signature followed by an `IHDR` chunk.
    Png,
    /// JPEG: `FF D8 FF` and a frame header (SOF) before the first scan.
    Jpeg,
}

/// What [`inspect`] reads from an image's header: its format and pixel size (both sides ≥ 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ImageInfo {
    /// The container format.
    pub format: ImageFormat,
    /// Width in pixels, ≥ 1.
    pub width: u32,
    /// Height in pixels, ≥ 1.
    pub height: u32,
}

/// The fields of a JPEG frame header (SOF segment) this module needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameHeader {
    /// Sample precision in bits (8 for ordinary JPEGs).
    precision: u8,
    width: u16,
    height: u16,
}

/// Reads the format and pixel size from an image's header, without decoding pixels.
///
/// - PNG: the signature `89 50 4E 47 0D 0A 1A 0A`, then a chunk typed `IHDR` (which the PNG standard
///   requires first); width and height are its first two big-endian `u32`s. The chunk's length and
///   CRC are not checked: this is a header probe, not validation.
/// - JPEG: `FF D8 FF`, then segments are walked by their length fields until a SOF marker (`C0`–`C3`,
///   `C5`–`C7`, `C9`–`CB`, `CD`–`CF`); its height and width are the size. Reaching SOS (`DA`) or EOI
///   (`D9`) first, a byte that is not a marker where one must be, or the end of input: `None`.
///
/// Anything else, or a width or height of 0, is `None`.
///
/// The walker is written here rather than taken from `imagesize` because the rule must be exactly
/// this one: `imagesize` keeps scanning past SOS into entropy-coded data (and counts nested SOI/EOI
/// pairs), and probes many other formats first; a 30-line walker states the rule directly.
pub fn inspect(bytes: &[u8]) -> Option<ImageInfo> {
    let (format, width, height) = if bytes.starts_with(&PNG_SIGNATURE) {
        let (width, height) = png_size(bytes)?;
        (ImageFormat::Png, width, height)
    } else if bytes.starts_with(&JPEG_PREFIX) {
        let frame = jpeg_frame_header(bytes)?;
        (
            ImageFormat::Jpeg,
            u32::from(frame.width),
            u32::from(frame.height),
        )
    } else {
        return None;
    };
    (width > 0 && height > 0).then_some(ImageInfo {
        format,
        width,
        height,
    })
}

/// Width and height from the `IHDR` chunk that must follow the PNG signature.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let chunk = bytes.get(PNG_SIGNATURE.len()..)?;
    if chunk.get(4..8)? != b"IHDR" {
        return None;
    }
    Some((be_u32(chunk.get(8..12)?)?, be_u32(chunk.get(12..16)?)?))
}

/// Walks JPEG marker segments from just after SOI to the first SOF, stopping (with `None`) at SOS,
/// EOI, a non-marker byte or the end of input.
fn jpeg_frame_header(bytes: &[u8]) -> Option<FrameHeader> {
    let mut pos = 2; // just after SOI
    loop {
        if *bytes.get(pos)? != 0xFF {
            return None;
        }
        // A marker may be preceded by any number of 0xFF fill bytes.
        while *bytes.get(pos)? == 0xFF {
            pos += 1;
        }
        let marker = *bytes.get(pos)?;
        pos += 1;
        match marker {
            m if is_sof(m) => return parse_sof(bytes.get(pos..)?),
            0xDA | 0xD9 => return None, // SOS or EOI before any frame header
            0x00 => return None,        // a stuffed zero is not a marker
            0x01 | 0xD0..=0xD8 => {}    // TEM, RSTn, SOI: no length field
            _ => {
                let length = usize::from(be_u16(bytes.get(pos..pos + 2)?)?);
                if length < 2 {
                    return None;
                }
                pos += length;
            }
        }
    }
}

/// Whether `marker` starts a frame header: `C0`–`CF` except DHT (`C4`), JPG (`C8`) and DAC (`CC`).
fn is_sof(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF)
}

/// Parses a SOF segment starting at its length field: `Lf(2) P(1) Y(2) X(2) …`.
fn parse_sof(segment: &[u8]) -> Option<FrameHeader> {
    Some(FrameHeader {
        precision: *segment.get(2)?,
        height: be_u16(segment.get(3..5)?)?,
        width: be_u16(segment.get(5..7)?)?,
    })
}

/// A big-endian `u16` from exactly two bytes.
fn be_u16(bytes: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.try_into().ok()?))
}

/// A big-endian `u32` from exactly four bytes.
fn be_u32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// The 64-bit average hash of a PNG or JPEG image (DESIGN §7), or `None` for any other content,
/// an image larger than [`MAX_HASH_DIMENSION`] on a side, or a decode error.
///
/// The image is decoded to 8-bit RGB (PNG: palette expanded, 16-bit samples reduced to their high
/// byte, gray replicated, alpha dropped; JPEG: gray, RGB or CMYK output of the decoder), each pixel
/// becomes gray = (299·R + 587·G + 114·B) / 1000 in integer arithmetic, and the image is cut into an
/// 8 × 8 grid: cell column `i` covers x in [⌊i·W/8⌋, ⌊(i+1)·W/8⌋), rows likewise. A cell's value is
/// the integer mean of its gray values; **a cell with no pixels (possible only when W or H < 8) has
/// value 0**. Bit `r·8 + c`, counted from the most significant bit, is set when cell (r, c) is greater
/// than the integer mean of the 64 cell values.
///
/// Cost: one full decode, bounded by the size cap (at most 64 MiB of decoded pixels, transiently).
pub fn average_hash(bytes: &[u8]) -> Option<u64> {
    // The decoders are third-party code run on untrusted input; a panic inside one (a bug we do not
    // own) must cost this image its hash, not the caller its task or a lock-holding state update.
    panic::catch_unwind(AssertUnwindSafe(|| decode_to_grid(bytes)))
        .ok()?
        .ok()
        .map(|grid| grid.hash())
}

/// Why an image has no average hash. Internal: callers only see `None`, tests see the reason.
#[derive(Debug, thiserror::Error)]
enum HashError {
    /// Not a PNG or JPEG header, or a 0 dimension.
    #[error("not a PNG or JPEG image")]
    NotAnImage,
    /// Wider or taller than [`MAX_HASH_DIMENSION`].
    #[error("image is {width}x{height}, larger than {MAX_HASH_DIMENSION} on a side")]
    TooLarge {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// The PNG decoder failed.
    #[error("PNG decode failed: {0}")]
    Png(#[from] png::DecodingError),
    /// The JPEG decoder failed.
    #[error("JPEG decode failed: {0}")]
    Jpeg(#[from] jpeg_decoder::Error),
    /// The decoder produced a layout this module does not handle, or too few bytes.
    #[error("unexpected decoder output: {0}")]
    Output(&'static str),
}

/// Decodes the image and sums its gray values into the 8 × 8 grid. The header size is checked
/// against the cap before any decoder runs, and again with the decoder's own reading of it.
fn decode_to_grid(bytes: &[u8]) -> Result<Grid, HashError> {
    let info = inspect(bytes).ok_or(HashError::NotAnImage)?;
    check_dimensions(info.width, info.height)?;
    match info.format {
        ImageFormat::Png => png_grid(bytes),
        ImageFormat::Jpeg => jpeg_grid(bytes),
    }
}

/// Refuses to decode a 0-sized image or one beyond the cap.
fn check_dimensions(width: u32, height: u32) -> Result<(), HashError> {
    if width == 0 || height == 0 {
        return Err(HashError::NotAnImage);
    }
    if width > MAX_HASH_DIMENSION || height > MAX_HASH_DIMENSION {
        return Err(HashError::TooLarge { width, height });
    }
    Ok(())
}

/// How one decoded pixel is laid out, and how it becomes gray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PixelLayout {
    /// One 8-bit gray sample.
    Gray8,
    /// 8-bit gray then 8-bit alpha (alpha ignored).
    GrayAlpha8,
    /// 8-bit R, G, B.
    Rgb8,
    /// 8-bit R, G, B, A (alpha ignored).
    Rgba8,
    /// One native-endian `u16` gray sample of `precision` bits (lossless JPEG).
    Gray16 {
        /// Significant bits per sample, 9..=16.
        precision: u8,
    },
    /// 8-bit C, M, Y, K ink amounts (0 = no ink), as jpeg-decoder outputs them.
    Cmyk8,
}

impl PixelLayout {
    /// Bytes per pixel.
    fn bytes(self) -> usize {
        match self {
            Self::Gray8 => 1,
            Self::GrayAlpha8 | Self::Gray16 { .. } => 2,
            Self::Rgb8 => 3,
            Self::Rgba8 | Self::Cmyk8 => 4,
        }
    }

    /// The gray value of one pixel of exactly [`Self::bytes`] bytes (0 if it is short, which the
    /// callers rule out by chunking exactly).
    fn gray(self, px: &[u8]) -> u8 {
        let at = |i: usize| px.get(i).copied().unwrap_or(0);
        match self {
            Self::Gray8 | Self::GrayAlpha8 => at(0),
            Self::Rgb8 | Self::Rgba8 => luma(at(0), at(1), at(2)),
            Self::Gray16 { precision } => {
                let sample = u16::from_ne_bytes([at(0), at(1)]);
                let shift = precision.saturating_sub(8).min(8);
                u8::try_from(sample >> shift).unwrap_or(u8::MAX)
            }
            Self::Cmyk8 => {
                let (c, m, y, k) = (at(0), at(1), at(2), at(3));
                luma(ink_to_rgb(c, k), ink_to_rgb(m, k), ink_to_rgb(y, k))
            }
        }
    }
}

/// DESIGN §7 gray: (299·R + 587·G + 114·B) / 1000, truncating.
fn luma(r: u8, g: u8, b: u8) -> u8 {
    let sum = 299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b);
    // ≤ 255 · 1000 / 1000, so the conversion cannot fail.
    u8::try_from(sum / 1000).unwrap_or(u8::MAX)
}

/// One RGB channel from its CMYK ink and the black ink: (255 − ink) · (255 − k) / 255.
fn ink_to_rgb(ink: u8, k: u8) -> u8 {
    let value = u32::from(255 - ink) * u32::from(255 - k) / 255;
    u8::try_from(value).unwrap_or(u8::MAX)
}

/// Decodes a PNG, normalised to 8 bits per sample, into the grid.
fn png_grid(bytes: &[u8]) -> Result<Grid, HashError> {
    let limits = png::Limits {
        bytes: PNG_DECODER_LIMIT_BYTES,
    };
    let mut decoder = png::Decoder::new_with_limits(bytes, limits);
    // EXPAND: palette → RGB(A), gray < 8 bits → 8 bits, tRNS → alpha; STRIP_16: keep the high byte.
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info()?;
    let (width, height) = reader.info().size();
    check_dimensions(width, height)?;
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer)?;
    if frame.bit_depth != png::BitDepth::Eight {
        return Err(HashError::Output("PNG bit depth not normalised to 8"));
    }
    let layout = match frame.color_type {
        png::ColorType::Grayscale => PixelLayout::Gray8,
        png::ColorType::GrayscaleAlpha => PixelLayout::GrayAlpha8,
        png::ColorType::Rgb => PixelLayout::Rgb8,
        png::ColorType::Rgba => PixelLayout::Rgba8,
        png::ColorType::Indexed => return Err(HashError::Output("PNG palette not expanded")),
    };
    let pixels = Pixels {
        data: &buffer,
        width: frame.width,
        height: frame.height,
        stride: frame.line_size,
        layout,
    };
    pixels.to_grid()
}

/// Decodes a JPEG into the grid.
fn jpeg_grid(bytes: &[u8]) -> Result<Grid, HashError> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info()?;
    let info = decoder
        .info()
        .ok_or(HashError::Output("JPEG header without frame"))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    check_dimensions(width, height)?;
    let max_pixels = (MAX_HASH_DIMENSION as usize).pow(2);
    decoder.set_max_decoding_buffer_size(max_pixels * info.pixel_format.pixel_bytes());
    let layout = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => PixelLayout::Gray8,
        jpeg_decoder::PixelFormat::L16 => PixelLayout::Gray16 {
            precision: jpeg_frame_header(bytes).map_or(16, |frame| frame.precision),
        },
        jpeg_decoder::PixelFormat::RGB24 => PixelLayout::Rgb8,
        jpeg_decoder::PixelFormat::CMYK32 => PixelLayout::Cmyk8,
    };
    let data = decoder.decode()?;
    let pixels = Pixels {
        data: &data,
        width,
        height,
        stride: width as usize * layout.bytes(),
        layout,
    };
    pixels.to_grid()
}

/// A decoded image: rows of `stride` bytes, each starting with `width` pixels in `layout`.
struct Pixels<'a> {
    data: &'a [u8],
    width: u32,
    height: u32,
    stride: usize,
    layout: PixelLayout,
}

impl Pixels<'_> {
    /// Sums every pixel's gray value into its grid cell.
    fn to_grid(&self) -> Result<Grid, HashError> {
        let mut grid = Grid::new(self.width, self.height);
        let row_bytes = self.width as usize * self.layout.bytes();
        for y in 0..self.height as usize {
            let start = y * self.stride;
            let row = self
                .data
                .get(start..start + row_bytes)
                .ok_or(HashError::Output("decoded image shorter than its size"))?;
            let grays = row
                .chunks_exact(self.layout.bytes())
                .map(|px| self.layout.gray(px));
            grid.add_row(y, grays);
        }
        Ok(grid)
    }
}

/// Gray sums over the 8 × 8 grid of DESIGN §7.
#[derive(Debug)]
struct Grid {
    /// Grid column of each pixel column x.
    column_cell: Vec<usize>,
    /// Grid row of each pixel row y.
    row_cell: Vec<usize>,
    /// Pixels per grid column (0 when W < 8 leaves it empty).
    column_width: [u64; GRID],
    /// Pixels per grid row.
    row_height: [u64; GRID],
    /// Sum of gray values per cell, row-major.
    sums: [u64; GRID * GRID],
}

impl Grid {
    /// An empty grid for a `width` × `height` image.
    fn new(width: u32, height: u32) -> Self {
        let (column_cell, column_width) = cell_map(width as usize);
        let (row_cell, row_height) = cell_map(height as usize);
        Self {
            column_cell,
            row_cell,
            column_width,
            row_height,
            sums: [0; GRID * GRID],
        }
    }

    /// Adds pixel row `y`, given as gray values from x = 0.
    fn add_row(&mut self, y: usize, grays: impl Iterator<Item = u8>) {
        let Some(&row) = self.row_cell.get(y) else {
            return;
        };
        for (&column, gray) in self.column_cell.iter().zip(grays) {
            if let Some(sum) = self.sums.get_mut(row * GRID + column) {
                *sum += u64::from(gray);
            }
        }
    }

    /// The 64 cell values: integer means, 0 for an empty cell.
    fn cells(&self) -> [u64; GRID * GRID] {
        let mut cells = [0; GRID * GRID];
        for (index, cell) in cells.iter_mut().enumerate() {
            let count = self.row_height[index / GRID] * self.column_width[index % GRID];
            *cell = self.sums[index].checked_div(count).unwrap_or(0);
        }
        cells
    }

    /// The hash: bit (63 − index) set when the cell exceeds the integer mean of all 64 cells.
    fn hash(&self) -> u64 {
        let cells = self.cells();
        let mean = cells.iter().sum::<u64>() / cells.len() as u64;
        cells
            .iter()
            .fold(0, |hash, &cell| (hash << 1) | u64::from(cell > mean))
    }
}

/// For a side of `n` pixels: the grid index of each pixel, and the pixel count of each grid index.
/// Index `i` covers [⌊i·n/8⌋, ⌊(i+1)·n/8⌋); the ranges partition 0..n, some empty when n < 8.
fn cell_map(n: usize) -> (Vec<usize>, [u64; GRID]) {
    let mut index_of = Vec::with_capacity(n);
    let mut counts = [0; GRID];
    for (i, count) in counts.iter_mut().enumerate() {
        let (start, end) = (i * n / GRID, (i + 1) * n / GRID);
        index_of.extend(std::iter::repeat_n(i, end - start));
        *count = (end - start) as u64;
    }
    (index_of, counts)
}

/// The number of differing bits between two hashes (0 = same hash, 64 = complements).
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// SHA-256 of the content, the identity behind "identical bytes score 1.0".
pub fn content_digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;

    /// `scripts/gen-jd-fixture-images.py` output for `ramp_lr` (256×256 RGB, v = x).
    const SCRIPT_RAMP_LR: &str = "iVBORw0KGgoAAAANSUhEUgAAAQAAAAEACAIAAADTED8xAAAB/klEQVR42u3TMQ0AAAzDsJY/6d3FMBtCpDRJ4S0DYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgAAxgAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwABgADAAGAAMAAYAA4ABwAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABgADgAHAAGAAMAAYAAwABsAABsAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwAAYQAQOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADAAGAAOAAcAAYAAwABgADADrAHNe/h9ZNXJBAAAAAElFTkSuQmCC";
    /// The script's `tiny` (100×100 RGB ramp, v = x·255/99).
    const SCRIPT_TINY: &str = "iVBORw0KGgoAAAANSUhEUgAAAGQAAABkCAIAAAD/gAIDAAAAsElEQVR42u3QuQkAMAwDQD/775w2pHXAzTUGuZDgMiKqqrvv+8Th82/b4kTCggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggULFixYsGDBggVre+IAGGcrSN4gT1oAAAAASUVORK5CYII=";
    /// cjpeg -quality 85 of a 64×64 RGB ramp, v = 4x + 2 (baseline, SOF0, 4:2:0).
    const JPEG_RAMP_RGB: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEPERETFhwXExQaFRERGCEYGh0dHx8fExciJCIeJBweHx7/2wBDAQUFBQcGBw4ICA4eFBEUHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh7/wAARCABAAEADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD5M0f+Guz0f+GuM0f+Guz0f+GgDs9H/hrs9H/hrjNH/hrs9H/hoA7TR/4a7PR/4a4zR/4a7PR/4aAOz0f+Guz0f+GuM0f+Guz0f+GgD8mdH/hrs9H/AIa4zR/4a7PR/wCGgDs9H/hrs9H/AIa4zR/4a7PR/wCGgDtNH/hrs9H/AIa4zR/4a7PR/wCGgDs9H/hrs9H/AIa4zR/4a7PR/wCGgD8mdH/hrs9H/hrjNH/hrs9H/hoA7PR/4a7PR/4a4zR/4a7PR/4aAO00f+Guz0f+GuM0f+Guz0f+GgDs9H/hrs9H/hrjNH/hrs9H/hoA/JnR/wCGuz0f+GuM0f8Ahrs9H/hoA7PR/wCGuz0f+GuM0f8Ahrs9H/hoA7TR/wCGuz0f+GuM0f8Ahrs9H/hoA7PR/wCGuz0f+GuM0f8Ahrs9H/hoA//Z";
    /// cjpeg -quality 85 -grayscale -progressive of a 64×64 checkerboard of 8 px squares, black
    /// first (SOF2, one component).
    const JPEG_CHECKER_GRAY_PROGRESSIVE: &str = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAUDBAQEAwUEBAQFBQUGBwwIBwcHBw8LCwkMEQ8SEhEPERETFhwXExQaFRERGCEYGh0dHx8fExciJCIeJBweHx7/wgALCABAAEABAREA/8QAFgABAQEAAAAAAAAAAAAAAAAACAAH/9oACAEBAAAAAcYZgzZgzZgzZkM2YM2YM2YM5mDNmDNmDNmQzZgzZgzZgzmYM2YM2YM2ZDNmDNmDNmDOZgzZgzZgzZkM2YM2YM2YM//EABQQAQAAAAAAAAAAAAAAAAAAAGD/2gAIAQEAAQUCAf/EABQQAQAAAAAAAAAAAAAAAAAAAGD/2gAIAQEABj8CAf/EABQQAQAAAAAAAAAAAAAAAAAAAGD/2gAIAQEAAT8hAf/aAAgBAQAAABD/AP8A/wD/AP8A/wD/AP8A/8QAFBABAAAAAAAAAAAAAAAAAAAAYP/aAAgBAQABPxAB/9k=";
    /// A 16×16 8-bit gray PNG, Adam7-interlaced, v = 16x + 8 (written by a few lines of Python).
    const PNG_INTERLACED_GRAY: &str = "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAAAAAFNn5ArAAAAQklEQVR42mPg6GAAIo8TIMTh0QElNDJWvEAnODQ8MjpWnMDLkLCIqJix48YPShkcEhoWHhEZFR0zVuw4cePFQAkAAI3LgAE7mWSVAAAAAElFTkSuQmCC";

    const RAMP_LR_HASH: u64 = 0x0F0F_0F0F_0F0F_0F0F;

    fn b64(text: &str) -> Vec<u8> {
        STANDARD.decode(text).unwrap()
    }

    /// Encodes raw samples as a PNG with the png crate.
    fn encode_png(
        (width, height): (u32, u32),
        color: png::ColorType,
        depth: png::BitDepth,
        palette: Option<Vec<u8>>,
        data: &[u8],
    ) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, width, height);
            encoder.set_color(color);
            encoder.set_depth(depth);
            if let Some(palette) = palette {
                encoder.set_palette(palette);
            }
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(data).unwrap();
        }
        out
    }

    /// An 8-bit RGB PNG whose pixel (x, y) is gray `value(x, y)`.
    fn gray_rgb_png(width: u32, height: u32, value: impl Fn(u32, u32) -> u8) -> Vec<u8> {
        let mut data = Vec::new();
        for y in 0..height {
            for x in 0..width {
                data.extend([value(x, y); 3]);
            }
        }
        encode_png(
            (width, height),
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            None,
            &data,
        )
    }

    /// The six JD default-fixture patterns, mirrored from scripts/gen-jd-fixture-images.py.
    fn fixture_pattern(name: &str) -> fn(u32, u32) -> u8 {
        fn checker(x: u32, y: u32, size: u32) -> u8 {
            if (x / size + y / size) % 2 == 1 {
                255
            } else {
                0
            }
        }
        match name {
            "ramp_lr" => |x, _| x as u8,
            "ramp_tb" => |_, y| y as u8,
            "checker32" => |x, y| checker(x, y, 32),
            "ramp_diag" => |x, y| ((x + y) / 2) as u8,
            "ramp_rl" => |x, _| 255 - x as u8,
            "checker64" => |x, y| checker(x, y, 64),
            _ => unreachable!("unknown pattern {name}"),
        }
    }

    /// Pinned hashes of the six fixture patterns (also computed by an independent Python
    /// implementation of DESIGN §7 over the script's own PNGs).
    const FIXTURE_HASHES: [(&str, u64); 6] = [
        ("ramp_lr", 0x0F0F_0F0F_0F0F_0F0F),
        ("ramp_tb", 0x0000_0000_FFFF_FFFF),
        ("checker32", 0x55AA_55AA_55AA_55AA),
        ("ramp_diag", 0x0001_0307_0F1F_3F7F),
        ("ramp_rl", 0xF0F0_F0F0_F0F0_F0F0),
        ("checker64", 0x3333_CCCC_3333_CCCC),
    ];

    #[test]
    fn inspect_reads_png_size_from_ihdr() {
        let info = inspect(&b64(SCRIPT_RAMP_LR)).unwrap();
        assert_eq!(
            info,
            ImageInfo {
                format: ImageFormat::Png,
                width: 256,
                height: 256
            }
        );
        let tiny = inspect(&b64(SCRIPT_TINY)).unwrap();
        assert_eq!((tiny.width, tiny.height), (100, 100));
    }

    #[test]
    fn inspect_reads_jpeg_size_from_baseline_and_progressive_sof() {
        for jpeg in [JPEG_RAMP_RGB, JPEG_CHECKER_GRAY_PROGRESSIVE] {
            let info = inspect(&b64(jpeg)).unwrap();
            assert_eq!(
                info,
                ImageInfo {
                    format: ImageFormat::Jpeg,
                    width: 64,
                    height: 64
                }
            );
        }
    }

    /// A JPEG made of the given marker segments after SOI: (marker, payload after the length).
    fn jpeg_segments(segments: &[(u8, &[u8])]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        for (marker, payload) in segments {
            out.extend([0xFF, *marker]);
            out.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
            out.extend(*payload);
        }
        out
    }

    /// A SOF payload: precision 8, height, width, one component.
    fn sof_payload(width: u16, height: u16) -> Vec<u8> {
        let mut payload = vec![8];
        payload.extend(height.to_be_bytes());
        payload.extend(width.to_be_bytes());
        payload.extend([1, 1, 0x11, 0]);
        payload
    }

    #[test]
    fn inspect_walks_jpeg_segments_to_the_first_sof() {
        let sof = sof_payload(640, 480);
        // APP0, DQT-ish, DHT (C4 is not a SOF), then SOF1 (C1).
        let jpeg = jpeg_segments(&[
            (0xE0, b"JFIF\0"),
            (0xDB, &[0; 65]),
            (0xC4, &[0; 20]),
            (0xC1, &sof),
        ]);
        let info = inspect(&jpeg).unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (ImageFormat::Jpeg, 640, 480)
        );
        // Every SOF marker of the rule is accepted; C4, C8 and CC are not frame headers.
        for marker in 0xC0..=0xCF_u8 {
            let jpeg = jpeg_segments(&[(marker, &sof)]);
            let expected = !matches!(marker, 0xC4 | 0xC8 | 0xCC);
            assert_eq!(inspect(&jpeg).is_some(), expected, "marker {marker:02X}");
        }
    }

    #[test]
    fn inspect_accepts_fill_bytes_and_standalone_markers() {
        let sof = sof_payload(300, 200);
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xFF, 0xFF, 0xD0]; // fill bytes, then RST0
        jpeg.extend(&jpeg_segments(&[(0xC0, &sof)])[2..]);
        let info = inspect(&jpeg).unwrap();
        assert_eq!((info.width, info.height), (300, 200));
    }

    #[test]
    fn inspect_rejects_jpeg_without_sof_before_sos() {
        let sof = sof_payload(300, 200);
        let sos_first = jpeg_segments(&[(0xDA, &[1, 1, 0, 0, 63, 0]), (0xC0, &sof)]);
        assert_eq!(inspect(&sos_first), None);
        let eoi_first = [0xFF, 0xD8, 0xFF, 0xD9];
        assert_eq!(inspect(&eoi_first), None);
        let no_marker = jpeg_segments(&[(0xE0, b"JFIF\0")])
            .into_iter()
            .chain([0x12, 0x34]);
        assert_eq!(inspect(&no_marker.collect::<Vec<_>>()), None);
        let bad_length = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0xFF, 0xC0];
        assert_eq!(inspect(&bad_length), None);
    }

    #[test]
    fn inspect_rejects_zero_dimensions() {
        assert_eq!(
            inspect(&jpeg_segments(&[(0xC0, &sof_payload(0, 10))])),
            None
        );
        assert_eq!(
            inspect(&jpeg_segments(&[(0xC0, &sof_payload(10, 0))])),
            None
        );
        let mut png = b64(SCRIPT_TINY);
        png[16..20].copy_from_slice(&0u32.to_be_bytes());
        assert_eq!(inspect(&png), None);
    }

    #[test]
    fn inspect_rejects_other_content() {
        let mut wrong_chunk = b64(SCRIPT_TINY);
        wrong_chunk[12..16].copy_from_slice(b"IDAT");
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;".to_vec();
        for bytes in [
            Vec::new(),
            b"hello".to_vec(),
            gif,
            PNG_SIGNATURE.to_vec(),
            wrong_chunk,
        ] {
            assert_eq!(inspect(&bytes), None);
            assert_eq!(average_hash(&bytes), None);
        }
    }

    #[test]
    fn ramp_left_to_right_hashes_to_0f_rows() {
        // Columns 32i..32i+31 average 32i + 15; the mean of those is 127, so cells 4..7 of every row
        // are above it: 0b00001111 per row.
        assert_eq!(average_hash(&b64(SCRIPT_RAMP_LR)), Some(RAMP_LR_HASH));
        let small = gray_rgb_png(8, 8, |x, _| x as u8 * 32);
        assert_eq!(average_hash(&small), Some(RAMP_LR_HASH));
    }

    #[test]
    fn fixture_patterns_have_pinned_hashes() {
        for (name, expected) in FIXTURE_HASHES {
            let png = gray_rgb_png(256, 256, fixture_pattern(name));
            assert_eq!(
                average_hash(&png),
                Some(expected),
                "{name}: {:#018X}",
                average_hash(&png).unwrap()
            );
        }
        // The script's 100×100 `tiny` ramp has the same shape as ramp_lr.
        assert_eq!(average_hash(&b64(SCRIPT_TINY)), Some(RAMP_LR_HASH));
    }

    #[test]
    fn fixture_patterns_hamming_table() {
        let distance = |a: &str, b: &str| {
            let hash = |n: &str| FIXTURE_HASHES.iter().find(|(k, _)| *k == n).unwrap().1;
            hamming(hash(a), hash(b))
        };
        assert_eq!(distance("ramp_lr", "ramp_rl"), 64);
        assert_eq!(distance("ramp_lr", "ramp_diag"), 16);
        assert_eq!(distance("ramp_tb", "ramp_diag"), 16);
        assert_eq!(distance("ramp_rl", "ramp_diag"), 48);
        assert_eq!(distance("checker32", "ramp_diag"), 36);
        assert_eq!(distance("checker64", "ramp_diag"), 36);
        for (a, b) in [
            ("ramp_lr", "ramp_tb"),
            ("ramp_lr", "checker32"),
            ("ramp_lr", "checker64"),
            ("ramp_tb", "checker32"),
            ("ramp_tb", "ramp_rl"),
            ("ramp_tb", "checker64"),
            ("checker32", "ramp_rl"),
            ("checker32", "checker64"),
            ("ramp_rl", "checker64"),
        ] {
            assert_eq!(distance(a, b), 32, "{a} vs {b}");
        }
    }

    #[test]
    fn identical_images_hash_identically() {
        let a = gray_rgb_png(300, 250, |x, y| ((x * 7 + y * 3) % 256) as u8);
        let b = gray_rgb_png(300, 250, |x, y| ((x * 7 + y * 3) % 256) as u8);
        assert_eq!(average_hash(&a), average_hash(&b));
        assert!(average_hash(&a).is_some());
    }

    #[test]
    fn uniform_image_hashes_to_zero() {
        assert_eq!(average_hash(&gray_rgb_png(20, 30, |_, _| 77)), Some(0));
    }

    #[test]
    fn empty_cells_of_images_under_8_px_count_as_zero() {
        // W = H = 4: grid columns 1, 3, 5, 7 hold pixel columns 0..3, the others are empty (0).
        // 16 cells of 200 and 48 of 0: mean 50, so the odd/odd cells are set.
        assert_eq!(
            average_hash(&gray_rgb_png(4, 4, |_, _| 200)),
            Some(0x0055_0055_0055_0055)
        );
        // 1 × 1: only cell (7, 7) holds the pixel; 9 > 9 / 64 = 0.
        assert_eq!(average_hash(&gray_rgb_png(1, 1, |_, _| 9)), Some(1));
        assert_eq!(average_hash(&gray_rgb_png(1, 1, |_, _| 0)), Some(0));
    }

    #[test]
    fn gray_uses_integer_bt601_weights() {
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(255, 0, 0), 76); // 299·255 / 1000 = 76.245
        assert_eq!(luma(0, 255, 0), 149); // 149.685
        assert_eq!(luma(0, 0, 255), 29); // 29.07
        assert_eq!(luma(10, 20, 30), 18); // (2990 + 11740 + 3420) / 1000 = 18.15
    }

    /// The same 64×64 gray ramp, v = 4x + 2, as 8-bit RGB.
    fn ramp64_samples(channels: usize) -> Vec<u8> {
        let mut data = Vec::new();
        for _ in 0..64 {
            for x in 0..64u8 {
                data.extend(std::iter::repeat_n(x * 4 + 2, channels));
            }
        }
        data
    }

    #[test]
    fn every_png_color_type_and_depth_normalises_to_the_same_hash() {
        use png::{BitDepth, ColorType};
        let size = (64, 64);
        let rgb = encode_png(
            size,
            ColorType::Rgb,
            BitDepth::Eight,
            None,
            &ramp64_samples(3),
        );
        let expected = average_hash(&rgb).unwrap();
        assert_eq!(expected, RAMP_LR_HASH);

        let gray = encode_png(
            size,
            ColorType::Grayscale,
            BitDepth::Eight,
            None,
            &ramp64_samples(1),
        );
        let gray16: Vec<u8> = ramp64_samples(1).iter().flat_map(|&v| [v, 0x5A]).collect();
        let gray16 = encode_png(size, ColorType::Grayscale, BitDepth::Sixteen, None, &gray16);
        let rgb16: Vec<u8> = ramp64_samples(3).iter().flat_map(|&v| [v, 0xFF]).collect();
        let rgb16 = encode_png(size, ColorType::Rgb, BitDepth::Sixteen, None, &rgb16);
        let rgba: Vec<u8> = ramp64_samples(1)
            .iter()
            .flat_map(|&v| [v, v, v, 0])
            .collect();
        let rgba = encode_png(size, ColorType::Rgba, BitDepth::Eight, None, &rgba);
        let gray_alpha: Vec<u8> = ramp64_samples(1).iter().flat_map(|&v| [v, 128]).collect();
        let gray_alpha = encode_png(
            size,
            ColorType::GrayscaleAlpha,
            BitDepth::Eight,
            None,
            &gray_alpha,
        );
        // Palette of the 64 ramp values; each pixel is its column's index.
        let palette: Vec<u8> = (0..64u8).flat_map(|x| [x * 4 + 2; 3]).collect();
        let indices: Vec<u8> = (0..64).flat_map(|_| 0..64u8).collect();
        let indexed = encode_png(
            size,
            ColorType::Indexed,
            BitDepth::Eight,
            Some(palette),
            &indices,
        );
        for (name, png) in [
            ("gray8", gray),
            ("gray16", gray16),
            ("rgb16", rgb16),
            ("rgba8", rgba),
            ("gray_alpha8", gray_alpha),
            ("indexed8", indexed),
        ] {
            assert_eq!(average_hash(&png), Some(expected), "{name}");
        }
    }

    #[test]
    fn one_bit_gray_png_expands_to_8_bit() {
        // 16×16, left half black, right half white: 1-bit rows of two bytes 0x00 0xFF.
        let data: Vec<u8> = (0..16).flat_map(|_| [0x00, 0xFF]).collect();
        let png = encode_png(
            (16, 16),
            png::ColorType::Grayscale,
            png::BitDepth::One,
            None,
            &data,
        );
        assert_eq!(average_hash(&png), Some(RAMP_LR_HASH));
    }

    #[test]
    fn interlaced_png_hashes_like_its_progressive_twin() {
        let interlaced = b64(PNG_INTERLACED_GRAY);
        let plain = gray_rgb_png(16, 16, |x, _| (x * 16 + 8) as u8);
        assert_eq!(average_hash(&interlaced), average_hash(&plain));
        assert_eq!(average_hash(&interlaced), Some(RAMP_LR_HASH));
    }

    #[test]
    fn png_and_jpeg_of_the_same_pattern_are_close() {
        let png = encode_png(
            (64, 64),
            png::ColorType::Rgb,
            png::BitDepth::Eight,
            None,
            &ramp64_samples(3),
        );
        let jpeg = average_hash(&b64(JPEG_RAMP_RGB)).unwrap();
        assert!(hamming(average_hash(&png).unwrap(), jpeg) <= 2);
        let checker = gray_rgb_png(
            64,
            64,
            |x, y| if (x / 8 + y / 8) % 2 == 1 { 255 } else { 0 },
        );
        let progressive = average_hash(&b64(JPEG_CHECKER_GRAY_PROGRESSIVE)).unwrap();
        assert!(hamming(average_hash(&checker).unwrap(), progressive) <= 2);
    }

    #[test]
    fn jpeg_hashes_are_pinned() {
        assert_eq!(average_hash(&b64(JPEG_RAMP_RGB)), Some(RAMP_LR_HASH));
        assert_eq!(
            average_hash(&b64(JPEG_CHECKER_GRAY_PROGRESSIVE)),
            Some(0x55AA_55AA_55AA_55AA)
        );
    }

    #[test]
    fn cmyk_and_16_bit_gray_pixels_convert_to_gray() {
        assert_eq!(PixelLayout::Cmyk8.gray(&[0, 0, 0, 0]), 255);
        assert_eq!(PixelLayout::Cmyk8.gray(&[0, 0, 0, 255]), 0);
        assert_eq!(PixelLayout::Cmyk8.gray(&[255, 255, 255, 0]), 0);
        assert_eq!(PixelLayout::Cmyk8.gray(&[0, 0, 0, 128]), 127); // 255·127/255
        let sample = |v: u16| v.to_ne_bytes();
        assert_eq!(
            PixelLayout::Gray16 { precision: 16 }.gray(&sample(0xABCD)),
            0xAB
        );
        assert_eq!(
            PixelLayout::Gray16 { precision: 12 }.gray(&sample(0x0FFF)),
            0xFF
        );
        assert_eq!(
            PixelLayout::Gray16 { precision: 12 }.gray(&sample(0x0800)),
            0x80
        );
    }

    /// A PNG header (signature + IHDR with a valid CRC) declaring the given size, then an empty
    /// IDAT and IEND: no pixel data at all.
    fn png_header_only(width: u32, height: u32) -> Vec<u8> {
        let mut small = gray_rgb_png(1, 1, |_, _| 0);
        small[16..20].copy_from_slice(&width.to_be_bytes());
        small[20..24].copy_from_slice(&height.to_be_bytes());
        small
    }

    #[test]
    fn huge_declared_dimensions_are_not_decoded() {
        let png = png_header_only(100_000, 100_000);
        assert_eq!(
            inspect(&png).map(|i| (i.width, i.height)),
            Some((100_000, 100_000))
        );
        assert!(matches!(
            decode_to_grid(&png),
            Err(HashError::TooLarge { .. })
        ));
        assert_eq!(average_hash(&png), None);
        let png = png_header_only(4097, 1);
        assert!(matches!(
            decode_to_grid(&png),
            Err(HashError::TooLarge { .. })
        ));
        let jpeg = jpeg_segments(&[(0xC0, &sof_payload(65_535, 65_535))]);
        assert!(matches!(
            decode_to_grid(&jpeg),
            Err(HashError::TooLarge { .. })
        ));
        let jpeg = jpeg_segments(&[(0xC0, &sof_payload(4096, 4097))]);
        assert!(matches!(
            decode_to_grid(&jpeg),
            Err(HashError::TooLarge { .. })
        ));
    }

    #[test]
    fn corrupt_bodies_behind_valid_headers_have_no_hash() {
        // Header says 1×1 but the CRC no longer matches the changed IHDR.
        let png = png_header_only(300, 300);
        assert!(inspect(&png).is_some());
        assert_eq!(average_hash(&png), None);
        let jpeg = jpeg_segments(&[(0xC0, &sof_payload(300, 300))]);
        assert!(inspect(&jpeg).is_some());
        assert_eq!(average_hash(&jpeg), None);
    }

    /// xorshift64*: a dependency-free deterministic byte source for the fuzz-ish tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn sample_images() -> Vec<Vec<u8>> {
        [
            SCRIPT_TINY,
            JPEG_RAMP_RGB,
            JPEG_CHECKER_GRAY_PROGRESSIVE,
            PNG_INTERLACED_GRAY,
        ]
        .iter()
        .map(|text| b64(text))
        .collect()
    }

    #[test]
    fn every_truncation_is_handled() {
        for image in sample_images() {
            for end in 0..image.len() {
                let prefix = &image[..end];
                let info = inspect(prefix);
                // Called without the catch_unwind of `average_hash`, so a panic fails the test.
                let grid = decode_to_grid(prefix);
                if end < 24 {
                    assert_eq!(info, None);
                    assert!(grid.is_err());
                }
            }
        }
    }

    #[test]
    fn random_corruption_never_panics() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for image in sample_images() {
            for _ in 0..1500 {
                let mut bytes = image.clone();
                for _ in 0..=rng.below(8) {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
                if rng.below(4) == 0 {
                    bytes.truncate(rng.below(bytes.len()) + 1);
                }
                let _ = inspect(&bytes);
                let _ = decode_to_grid(&bytes);
            }
        }
    }

    #[test]
    fn random_garbage_has_no_hash() {
        let mut rng = Rng(42);
        for len in [0, 1, 3, 8, 16, 33, 100, 4096] {
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            assert_eq!(average_hash(&bytes), None);
            // Behind real signatures too.
            bytes.splice(0..0, PNG_SIGNATURE);
            assert_eq!(average_hash(&bytes), None);
            bytes.splice(0..PNG_SIGNATURE.len(), JPEG_PREFIX);
            assert_eq!(average_hash(&bytes), None);
        }
    }

    #[test]
    fn hamming_counts_differing_bits() {
        assert_eq!(hamming(0, 0), 0);
        assert_eq!(hamming(0, u64::MAX), 64);
        assert_eq!(hamming(0b1011, 0b0110), 3);
        assert_eq!(hamming(RAMP_LR_HASH, !RAMP_LR_HASH), 64);
    }

    #[test]
    fn content_digest_is_sha256() {
        let digest = content_digest(b"abc");
        assert_eq!(digest[..4], [0xBA, 0x78, 0x16, 0xBF]);
        assert_eq!(digest[28..], [0xF2, 0x00, 0x15, 0xAD]);
        assert_ne!(content_digest(b"abc"), content_digest(b"abd"));
    }
}
