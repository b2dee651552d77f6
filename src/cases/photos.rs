//! Case photos: what is kept of an uploaded photo, and the rules it passes first — plain data
//! and byte-level work, no I/O.
//!
//! [`process`], in order:
//!
//! 1. **Sniff** the format from the bytes ([`sniff`]), never from a header or a file name: JPEG
//!    and PNG are accepted; HEIC/HEIF, AVIF, WebP, GIF, TIFF, BMP and anything else are refused
//!    with a message naming the format found and what to do ([`PhotoError::Unsupported`]).
//! 2. **Bound the pixels** from the image header before decoding (a small file may declare a
//!    huge image: a decompression bomb): at most `max_pixels`.
//! 3. **Strip the metadata**, losslessly: of a JPEG every APP1–APP15 segment (EXIF with its GPS
//!    position, XMP, ICC profiles, maker notes, MPF) and every COM segment is dropped and
//!    anything after the end-of-image marker (trailing images, vendor trailers); the pixels'
//!    compressed data is kept byte for byte. The EXIF orientation is the one item kept: when it
//!    is not 1, a minimal EXIF segment holding only the Orientation tag is written back, so that
//!    viewers show the photo upright as before. Of a PNG only the critical chunks and those that
//!    affect how pixels look (`PLTE`, `tRNS`, `gAMA`, `cHRM`, `sRGB`, `sBIT`, `bKGD`, `pHYs`) are
//!    kept; text (`tEXt`, `zTXt`, `iTXt`), `eXIf`, `tIME`, `iCCP` and private chunks go.
//!    A JPEG that ends before its end-of-image marker, or a PNG before `IEND`, is refused as
//!    truncated ([`PhotoError::Damaged`]).
//! 4. **Decode** the stripped image (any decoder error: [`PhotoError::Damaged`], never a panic)
//!    and make the **thumbnail**: upright (orientation applied), longest side at most
//!    [`THUMB_SIDE`] pixels, JPEG.
//! 5. The capture time (EXIF `DateTimeOriginal`, with `OffsetTimeOriginal` when the camera
//!    recorded one) is read before stripping and returned as a field: it is kept in the database,
//!    never in the served file.

use std::fmt;
use std::io::Cursor;

/// Longest side of a thumbnail, pixels.
pub const THUMB_SIDE: u32 = 320;

/// JPEG quality of thumbnails.
pub const THUMB_QUALITY: u8 = 80;

/// What a photo shows in the life of a case.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PhotoKind {
    /// Taken when the case was reported.
    Report,
    /// Before disposal, by whoever disposes of the case.
    Before,
    /// After disposal: the proof the problem is solved.
    After,
}

impl PhotoKind {
    /// Every kind, in order.
    pub const ALL: [PhotoKind; 3] = [PhotoKind::Report, PhotoKind::Before, PhotoKind::After];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PhotoKind::Report => "report",
            PhotoKind::Before => "before",
            PhotoKind::After => "after",
        }
    }
}

impl std::str::FromStr for PhotoKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PhotoKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a photo kind (report, before, after)"))
    }
}

/// A stored photo of a case: where its bytes are and what is known of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    /// The store's id (ignored when adding).
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// What it shows.
    pub kind: PhotoKind,
    /// Key of the stripped photo in the photo store.
    pub object_key: String,
    /// Key of the thumbnail in the photo store.
    pub thumb_key: String,
    /// `image/jpeg` or `image/png`.
    pub content_type: String,
    /// Size of the stored (stripped) photo, bytes.
    pub bytes: i64,
    /// Width as shown, pixels.
    pub width: u32,
    /// Height as shown, pixels.
    pub height: u32,
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
    /// The capture time as the camera recorded it (see [`Processed::taken_at`]).
    pub taken_at: Option<String>,
    /// When it was uploaded.
    pub uploaded_at: chrono::DateTime<chrono::Utc>,
    /// Who uploaded it (the token's name).
    pub uploaded_by: String,
}

/// An accepted image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JPEG (JFIF or EXIF).
    Jpeg,
    /// PNG.
    Png,
}

impl Format {
    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
        }
    }
}

/// What the first bytes of an upload are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// An accepted format.
    Accepted(Format),
    /// A known image format that is refused: its short name and the advice to give.
    Refused {
        /// Short lowercase name (`heic`, `webp`, …).
        format: &'static str,
        /// The sentence naming the format and what to do.
        message: String,
    },
}

/// The format of `bytes`, from their first bytes (magic numbers; the ISO-BMFF brand of
/// HEIC/HEIF/AVIF).
pub fn sniff(bytes: &[u8]) -> Sniffed {
    const SEND: &str = "send JPEG or PNG";
    let refused = |format: &'static str, message: String| Sniffed::Refused { format, message };
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Accepted(Format::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Sniffed::Accepted(Format::Png);
    }
    if bytes.get(4..8) == Some(b"ftyp") {
        // ISO base media file: the major brand, then the compatible brands up to the box's end.
        let size = bytes
            .get(0..4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
        let end = size.clamp(12, 256).min(bytes.len());
        let mut brands: Vec<&[u8]> = bytes.get(8..12).into_iter().collect();
        if end > 16 {
            brands.extend(bytes[16..end].chunks_exact(4));
        }
        let has = |names: &[&[u8]]| brands.iter().any(|b| names.contains(b));
        if has(&[b"avif", b"avis"]) {
            return refused(
                "avif",
                format!(
                    "photo is AVIF; {SEND} — export or share the photo as JPEG (most galleries offer it)"
                ),
            );
        }
        if has(&[b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"]) {
            return refused(
                "heic",
                format!(
                    "photo is HEIC (iPhone 'High Efficiency'); {SEND} — on iPhone choose Settings › Camera › Formats › Most Compatible, or share the photo as JPEG"
                ),
            );
        }
        if has(&[b"mif1", b"msf1"]) {
            return refused(
                "heif",
                format!(
                    "photo is HEIF (a 'High Efficiency' image); {SEND} — on the phone choose the camera's most compatible format (JPEG), or share the photo as JPEG"
                ),
            );
        }
        return refused(
            "iso-bmff",
            format!(
                "photo is an ISO media file (brand {:?}), a video or an image this server does not take; {SEND}",
                String::from_utf8_lossy(bytes.get(8..12).unwrap_or_default())
            ),
        );
    }
    if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        return refused(
            "webp",
            format!(
                "photo is WebP; {SEND} — save or share it as JPEG (a screenshot of it is a PNG)"
            ),
        );
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return refused(
            "gif",
            format!("photo is GIF; {SEND} (a still photo from the camera)"),
        );
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return refused(
            "tiff",
            format!("photo is TIFF (or a camera RAW file); {SEND}"),
        );
    }
    if bytes.starts_with(b"BM") {
        return refused("bmp", format!("photo is BMP; {SEND}"));
    }
    if bytes.starts_with(b"%PDF") {
        return refused("pdf", format!("photo is a PDF document; {SEND}"));
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    refused(
        "unknown",
        if bytes.is_empty() {
            format!("photo is empty (0 bytes); {SEND}")
        } else {
            format!(
                "photo is not an image format this server recognises (it starts with bytes {}); {SEND}",
                head.join(" ")
            )
        },
    )
}

/// Why a photo is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoError {
    /// Not JPEG or PNG.
    Unsupported {
        /// Short lowercase name of the format found.
        format: &'static str,
        /// Names the format and what to do.
        message: String,
    },
    /// More pixels than allowed (read from the header, before decoding).
    TooManyPixels {
        /// Width, pixels.
        width: u32,
        /// Height, pixels.
        height: u32,
        /// The limit, pixels.
        limit: u64,
    },
    /// The file is truncated or damaged: names the problem.
    Damaged(String),
}

impl fmt::Display for PhotoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhotoError::Unsupported { message, .. } => f.write_str(message),
            PhotoError::TooManyPixels {
                width,
                height,
                limit,
            } => write!(
                f,
                "photo is {width} × {height} pixels ({:.1} megapixels), over the limit of {:.1} megapixels; send a smaller photo (the phone's 'medium' or 'large' size)",
                f64::from(*width) * f64::from(*height) / 1e6,
                *limit as f64 / 1e6
            ),
            PhotoError::Damaged(d) => f.write_str(d),
        }
    }
}

/// A photo as it is kept: its stripped bytes and thumbnail, and what was read from it.
#[derive(Debug, Clone)]
pub struct Processed {
    /// JPEG or PNG.
    pub format: Format,
    /// The photo without its metadata (what is stored and served).
    pub bytes: Vec<u8>,
    /// Width as shown (orientation applied), pixels.
    pub width: u32,
    /// Height as shown (orientation applied), pixels.
    pub height: u32,
    /// The thumbnail (JPEG, upright, longest side at most [`THUMB_SIDE`]).
    pub thumb: Vec<u8>,
    /// The capture time as the camera recorded it (`2026-02-13T16:00:00`, with the offset when
    /// recorded: `2026-02-13T16:00:00+08:00`).
    pub taken_at: Option<String>,
}

/// Checks, strips and decodes an uploaded photo and makes its thumbnail (the steps of the
/// module documentation).
pub fn process(bytes: &[u8], max_pixels: u64) -> Result<Processed, PhotoError> {
    let format = match sniff(bytes) {
        Sniffed::Accepted(f) => f,
        Sniffed::Refused { format, message } => {
            return Err(PhotoError::Unsupported { format, message });
        }
    };
    let name = match format {
        Format::Jpeg => "JPEG",
        Format::Png => "PNG",
    };
    let damaged = |e: &dyn fmt::Display| {
        PhotoError::Damaged(format!(
            "photo is a {name} that cannot be read: {e}; send the original photo again"
        ))
    };
    // 2. the pixels, from the header only
    let mut reader = image::ImageReader::new(Cursor::new(bytes));
    reader.set_format(match format {
        Format::Jpeg => image::ImageFormat::Jpeg,
        Format::Png => image::ImageFormat::Png,
    });
    let (w, h) = reader.into_dimensions().map_err(|e| damaged(&e))?;
    if u64::from(w) * u64::from(h) > max_pixels {
        return Err(PhotoError::TooManyPixels {
            width: w,
            height: h,
            limit: max_pixels,
        });
    }
    // 3. strip
    let stripped = match format {
        Format::Jpeg => strip_jpeg(bytes)?,
        Format::Png => strip_png(bytes)?,
    };
    // 4. decode what is kept, bounded by the header's size
    let mut reader = image::ImageReader::new(Cursor::new(&stripped.bytes[..]));
    reader.set_format(match format {
        Format::Jpeg => image::ImageFormat::Jpeg,
        Format::Png => image::ImageFormat::Png,
    });
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    reader.limits(limits);
    let mut img = reader.decode().map_err(|e| damaged(&e))?;
    if let Some(o) = image::metadata::Orientation::from_exif(stripped.orientation) {
        img.apply_orientation(o);
    }
    let (width, height) = (img.width(), img.height());
    let small = if width.max(height) > THUMB_SIDE {
        img.thumbnail(THUMB_SIDE, THUMB_SIDE)
    } else {
        img
    };
    let mut thumb = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut thumb, THUMB_QUALITY)
        .encode_image(&small.to_rgb8())
        .map_err(|e| damaged(&e))?;
    Ok(Processed {
        format,
        bytes: stripped.bytes,
        width,
        height,
        thumb,
        taken_at: stripped.taken_at,
    })
}

/// A stripped image, and what was read from the metadata dropped.
struct Stripped {
    bytes: Vec<u8>,
    /// EXIF orientation (1 to 8; 1 when none).
    orientation: u8,
    taken_at: Option<String>,
}

/// What is read of an EXIF block (a TIFF structure): orientation and capture time.
fn read_exif(tiff: &[u8]) -> (Option<u8>, Option<String>) {
    let Ok(exif) = exif::Reader::new().read_raw(tiff.to_vec()) else {
        return (None, None);
    };
    let orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u8::try_from(o).ok())
        .filter(|o| (1..=8).contains(o));
    let ascii = |tag| match exif.get_field(tag, exif::In::PRIMARY).map(|f| &f.value) {
        Some(exif::Value::Ascii(v)) => v.first().cloned(),
        _ => None,
    };
    let taken = ascii(exif::Tag::DateTimeOriginal).and_then(|raw| {
        let mut t = exif::DateTime::from_ascii(&raw).ok()?;
        if let Some(off) = ascii(exif::Tag::OffsetTimeOriginal) {
            let _ = t.parse_offset(&off);
        }
        let valid = (1..=12).contains(&t.month)
            && (1..=31).contains(&t.day)
            && t.hour < 24
            && t.minute < 60
            && t.second < 61;
        valid.then(|| {
            let mut s = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                t.year,
                t.month,
                t.day,
                t.hour,
                t.minute,
                t.second.min(59)
            );
            if let Some(m) = t.offset {
                let sign = if m < 0 { '-' } else { '+' };
                let m = m.unsigned_abs();
                s.push_str(&format!("{sign}{:02}:{:02}", m / 60, m % 60));
            }
            s
        })
    });
    (orientation, taken)
}

/// A minimal EXIF APP1 segment holding only the Orientation tag (big-endian TIFF, one IFD
/// entry, no next IFD).
fn orientation_segment(o: u8) -> Vec<u8> {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08"); // header, IFD0 at offset 8
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count 1
    tiff.extend_from_slice(&[0, o, 0, 0]); // the value, left-justified
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut seg = vec![0xFF, 0xE1];
    let len = (2 + 6 + tiff.len()) as u16;
    seg.extend_from_slice(&len.to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&tiff);
    seg
}

/// The JPEG without APP1–APP15, COM and what follows EOI (see the module documentation).
fn strip_jpeg(bytes: &[u8]) -> Result<Stripped, PhotoError> {
    let truncated = || {
        PhotoError::Damaged(
            "photo is a JPEG that is truncated: it ends before its end-of-image marker (was the upload cut off?); send the original photo again".into(),
        )
    };
    let bad = |at: usize, what: &str| {
        PhotoError::Damaged(format!(
            "photo is a damaged JPEG: {what} at byte {at}; send the original photo again"
        ))
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut orientation = None;
    let mut taken_at = None;
    // where the orientation segment goes: after SOI and a JFIF APP0, before anything else
    let mut insert_at = out.len();
    let mut i = 2;
    loop {
        // a marker: 0xFF (fill bytes allowed), then its code
        if bytes.get(i) != Some(&0xFF) {
            return Err(if i >= bytes.len() {
                truncated()
            } else {
                bad(i, "no marker where one must be")
            });
        }
        while bytes.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&code) = bytes.get(i) else {
            return Err(truncated());
        };
        i += 1;
        match code {
            0xD9 => {
                out.extend_from_slice(&[0xFF, 0xD9]);
                break;
            }
            // markers without a length
            0x01 | 0xD0..=0xD7 => {
                out.extend_from_slice(&[0xFF, code]);
                continue;
            }
            0xD8 | 0x00 => return Err(bad(i - 1, "an unexpected marker")),
            _ => {}
        }
        let len = match bytes.get(i..i + 2) {
            Some(l) => usize::from(u16::from_be_bytes([l[0], l[1]])),
            None => return Err(truncated()),
        };
        if len < 2 {
            return Err(bad(i, "a segment length below 2"));
        }
        let Some(seg) = bytes.get(i..i + len) else {
            return Err(truncated());
        };
        let body = &seg[2..];
        i += len;
        match code {
            // APP1: read EXIF (orientation, capture time), then drop it with every APPn and COM
            0xE1 => {
                if let Some(tiff) = body.strip_prefix(b"Exif\0\0") {
                    if orientation.is_none() && taken_at.is_none() {
                        let (o, t) = read_exif(tiff);
                        orientation = o;
                        taken_at = t;
                    }
                }
            }
            0xE2..=0xEF | 0xFE => {}
            _ => {
                out.extend_from_slice(&[0xFF, code]);
                out.extend_from_slice(seg);
                if code == 0xE0 && insert_at == 2 {
                    insert_at = out.len();
                }
            }
        }
        if code == 0xDA {
            // entropy-coded data up to the next marker that is not a stuffed 0xFF00 or a restart
            let start = i;
            loop {
                let Some(rel) = bytes
                    .get(i..)
                    .and_then(|r| r.iter().position(|&b| b == 0xFF))
                else {
                    return Err(truncated());
                };
                i += rel;
                match bytes.get(i + 1) {
                    None => return Err(truncated()),
                    Some(0x00) | Some(0xD0..=0xD7) | Some(0xFF) => i += 1,
                    Some(_) => break,
                }
            }
            out.extend_from_slice(&bytes[start..i]);
        }
    }
    let orientation = orientation.unwrap_or(1);
    if orientation != 1 {
        out.splice(insert_at..insert_at, orientation_segment(orientation));
    }
    Ok(Stripped {
        bytes: out,
        orientation,
        taken_at,
    })
}

/// PNG chunks kept: the critical ones and those that change how the pixels look.
const PNG_KEPT: [&[u8; 4]; 10] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"sBIT", b"bKGD",
];

/// The PNG without its ancillary chunks but those of [`PNG_KEPT`] and `pHYs`.
fn strip_png(bytes: &[u8]) -> Result<Stripped, PhotoError> {
    let truncated = || {
        PhotoError::Damaged(
            "photo is a PNG that is truncated: it ends before its IEND chunk (was the upload cut off?); send the original image again".into(),
        )
    };
    let mut out = bytes[..8].to_vec();
    let mut taken_at = None;
    let mut i = 8;
    loop {
        let Some(head) = bytes.get(i..i + 8) else {
            return Err(truncated());
        };
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        let Some(chunk) = len
            .checked_add(12)
            .and_then(|n| i.checked_add(n))
            .and_then(|end| bytes.get(i..end))
        else {
            return Err(truncated());
        };
        if kind == b"eXIf" {
            taken_at = read_exif(&chunk[8..8 + len]).1;
        }
        if PNG_KEPT.iter().any(|k| k.as_slice() == kind) || kind == b"pHYs" {
            out.extend_from_slice(chunk);
        }
        i += len + 12;
        if kind == b"IEND" {
            break;
        }
    }
    Ok(Stripped {
        bytes: out,
        orientation: 1,
        taken_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&img)
            .expect("encode");
        out
    }

    #[test]
    fn formats_are_sniffed_from_the_bytes() {
        assert_eq!(sniff(&jpeg(4, 4)), Sniffed::Accepted(Format::Jpeg));
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert!(
            matches!(sniff(heic), Sniffed::Refused { format: "heic", message } if message.contains("Most Compatible"))
        );
        assert!(matches!(
            sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Sniffed::Refused { format: "webp", .. }
        ));
        assert!(matches!(
            sniff(b"GIF89a.."),
            Sniffed::Refused { format: "gif", .. }
        ));
        assert!(matches!(
            sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf"),
            Sniffed::Refused { format: "avif", .. }
        ));
        assert!(matches!(
            sniff(b"hello"),
            Sniffed::Refused {
                format: "unknown",
                ..
            }
        ));
        assert!(matches!(
            sniff(b""),
            Sniffed::Refused {
                format: "unknown",
                ..
            }
        ));
    }

    #[test]
    fn a_truncated_jpeg_is_refused_at_any_cut() {
        let j = jpeg(40, 30);
        for cut in [3, 10, 100, j.len() / 2, j.len() - 2, j.len() - 1] {
            let e = process(&j[..cut], 1 << 30).expect_err("truncated");
            assert!(matches!(e, PhotoError::Damaged(_)), "{cut}: {e:?}");
        }
        let p = process(&j, 1 << 30).expect("whole");
        assert_eq!((p.width, p.height), (40, 30));
    }

    #[test]
    fn orientation_is_kept_alone() {
        let seg = orientation_segment(6);
        let (o, t) = read_exif(&seg[10..]);
        assert_eq!((o, t), (Some(6), None));
    }
}
