//! Case photos over HTTP on both stores: a JPEG with GPS EXIF is served without it (and its
//! thumbnail is small and upright), PNG is accepted with its text chunks dropped, HEIC, WebP,
//! truncated, too large and too many pixels are refused with precise problems, the roles and
//! scopes that may not see the case are refused, the count per case holds and leaves no orphan
//! object, and the S3 photo store round-trips against a real S3-compatible server (moto, from
//! PyPI through scripts/s3-test-server).

#[macro_use]
#[path = "support/db.rs"]
mod db;
#[path = "support/http.rs"]
mod http_support;

use db::TestDb;
use geo::InteriorPoint;
use gridatlas::atlas::Atlas;
use gridatlas::http::{AppState, ServeConfig};
use gridatlas::model::{Feature, Layer};
use gridatlas::service::photos::Limits;
use gridatlas::store::objects::PhotoStore;
use gridatlas::store::{Store, TokenSpec};
use http_support::{demo, problem, run, serve};
use serde_json::{Value, json};
use std::sync::Arc;

struct Server {
    base: String,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    _photos: Option<tempfile::TempDir>,
    photo_dir: Option<std::path::PathBuf>,
}

/// A server with photos in a temporary directory (or in `photo_store`), with `limits`.
async fn start(db: &TestDb, limits: Limits, photo_store: Option<PhotoStore>) -> Server {
    let store: Arc<dyn Store> = Arc::from(db.open());
    let n = gridatlas::http::serve::bootstrap_demo(store.as_ref()).expect("demo");
    gridatlas::http::serve::bootstrap_categories(store.as_ref()).expect("categories");
    start_on(store, n, limits, photo_store).await
}

/// A second server on the store of a first one (generation `n`).
async fn start_on(
    store: Arc<dyn Store>,
    n: i32,
    limits: Limits,
    photo_store: Option<PhotoStore>,
) -> Server {
    let set = store.load_generation(n).expect("load");
    let (dir, spec) = match photo_store {
        Some(spec) => (None, spec),
        None => {
            let dir = tempfile::tempdir().expect("tempdir");
            let spec = PhotoStore::Dir(dir.path().join("photos"));
            (Some(dir), spec)
        }
    };
    let photo_dir = match &spec {
        PhotoStore::Dir(d) => Some(d.clone()),
        PhotoStore::S3 { .. } => None,
    };
    let config = ServeConfig {
        photo_store: Some(spec),
        photo_limits: limits,
        ..ServeConfig::default()
    };
    let state = AppState::with_store(
        Atlas::build(set).with_generation(i64::from(n)),
        config,
        Some(store.clone()),
    );
    Server {
        base: serve(state).await,
        client: reqwest::Client::new(),
        store,
        _photos: dir,
        photo_dir,
    }
}

impl Server {
    /// A token of `role` for `streets` or `grids`, held by `subject`.
    fn token(&self, role: &str, scope: &[&str], subject: &str) -> String {
        let secret = gridatlas::http::auth::new_secret();
        let list = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut spec = TokenSpec {
            role: role.into(),
            subject: Some(subject.into()),
            ..TokenSpec::default()
        };
        match role {
            "grid_worker" => spec.grids = list(scope),
            "department" => spec.department = scope.first().map(|d| (*d).to_owned()),
            _ => spec.streets = list(scope),
        }
        self.store.create_token_with(&spec, &secret).expect("token");
        secret
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut r = self.client.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.expect("request")
    }

    /// A case reported by an intake desk inside a block of a resident grid: (id, grid, street).
    async fn case(&self) -> (i64, String, String) {
        let (x, y, grid, street) = inside(Layer::ResidentGrid);
        let intake = self.token("intake", &[], "12345热线");
        let r = self
            .client
            .post(format!("{}/api/v1/cases", self.base))
            .bearer_auth(&intake)
            .json(
                &json!({"lon": x, "lat": y, "category": "RG0105", "source": "hotline",
                          "description": "楼上抛下花盆"}),
            )
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.json().await.expect("json");
        (v["id"].as_i64().expect("id"), grid, street)
    }

    /// Uploads `bytes` as the `photo` part (named `file_name`) with `kind`.
    async fn upload(
        &self,
        case: i64,
        token: Option<&str>,
        kind: Option<&str>,
        file_name: &str,
        bytes: Vec<u8>,
    ) -> reqwest::Response {
        let mut form = reqwest::multipart::Form::new().part(
            "photo",
            reqwest::multipart::Part::bytes(bytes)
                .file_name(file_name.to_owned())
                // what a phone's browser claims; the server reads the bytes
                .mime_str("image/jpeg")
                .expect("mime"),
        );
        if let Some(k) = kind {
            form = form.text("kind", k.to_owned());
        }
        let mut r = self
            .client
            .post(format!("{}/api/v1/cases/{case}/photos", self.base))
            .multipart(form);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().await.expect("request")
    }

    /// The files under the photo directory.
    fn stored_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(d: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        if let Some(d) = &self.photo_dir {
            walk(d, &mut out);
        }
        out.sort();
        out
    }
}

/// A point well inside a block of a grid of `layer`, with the block's grid and street codes.
fn inside(layer: Layer) -> (f64, f64, String, String) {
    let set = demo();
    for b in set.layer(Layer::Block) {
        let Some(grid) = set.parent_of(b).filter(|g| g.layer == layer) else {
            continue;
        };
        let Some(p) = b.geometry.as_area().and_then(|a| a.interior_point()) else {
            continue;
        };
        let street: Option<&Feature> = set.parent_of(grid);
        if let Some(street) = street {
            return (p.x(), p.y(), grid.code.clone(), street.code.clone());
        }
    }
    panic!("no block of a {layer:?}");
}

/// What the served bytes must never contain.
const SECRET: &[u8] = b"SECRET-LOCATION-30.7333N-121.3333E";

/// A JPEG of `w` × `h` pixels (a gradient).
fn plain_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 120])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .expect("encode");
    out
}

/// An EXIF APP1 segment written by hand (big-endian TIFF): IFD0 with Orientation 6 (rotate 90°
/// clockwise to view), the EXIF IFD with DateTimeOriginal, the GPS IFD with a position.
fn exif_segment() -> Vec<u8> {
    let mut t: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&typ.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    // IFD0 at 8: 3 entries → ends at 8 + 2 + 36 + 4 = 50
    t.extend_from_slice(&3u16.to_be_bytes());
    entry(&mut t, 0x0112, 3, 1, [0, 6, 0, 0]);
    entry(&mut t, 0x8769, 4, 1, 50u32.to_be_bytes());
    entry(&mut t, 0x8825, 4, 1, 88u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    // EXIF IFD at 50: 1 entry → ends at 68; its text at 68..88
    t.extend_from_slice(&1u16.to_be_bytes());
    entry(&mut t, 0x9003, 2, 20, 68u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(b"2026:02:13 16:00:00\0");
    // GPS IFD at 88: 4 entries → ends at 142; latitude at 142, longitude at 166
    t.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, 142u32.to_be_bytes());
    entry(&mut t, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, 5, 3, 166u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    for (d, m) in [(30u32, 44u32), (121, 20)] {
        for (n, den) in [(d, 1u32), (m, 1), (0, 1)] {
            t.extend_from_slice(&n.to_be_bytes());
            t.extend_from_slice(&den.to_be_bytes());
        }
    }
    assert_eq!(t.len(), 190);
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((2 + 6 + t.len()) as u16).to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&t);
    seg
}

/// A JPEG segment `marker` holding `body`.
fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// A JPEG of `w` × `h` as a phone writes it: EXIF with GPS, XMP with the position, a comment.
fn phone_jpeg(w: u32, h: u32) -> Vec<u8> {
    let plain = plain_jpeg(w, h);
    let mut xmp = b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><exif:GPSLatitude>".to_vec();
    xmp.extend_from_slice(SECRET);
    xmp.extend_from_slice(b"</exif:GPSLatitude></x:xmpmeta>");
    let mut out = plain[..2].to_vec();
    out.extend(exif_segment());
    out.extend(segment(0xE1, &xmp));
    out.extend(segment(0xFE, SECRET));
    out.extend_from_slice(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// A PNG of `w` × `h` with a `tEXt` chunk holding [`SECRET`] before `IEND`.
fn png_with_text(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(w, h, |x, y| image::Rgba([x as u8, y as u8, 7, 255]));
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(img.as_raw(), w, h, image::ExtendedColorType::Rgba8)
        .expect("png");
    let iend = png.len() - 12;
    let mut chunk_data = b"tEXt".to_vec();
    chunk_data.extend_from_slice(b"Comment\0");
    chunk_data.extend_from_slice(SECRET);
    let mut chunk = ((chunk_data.len() - 4) as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(&chunk_data);
    chunk.extend_from_slice(&crc32(&chunk_data).to_be_bytes());
    png.splice(iend..iend, chunk);
    png
}

use image::ImageEncoder;

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The status of the answer to a request head written by hand (no body sent).
async fn raw_status(base: &str, head: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
    conn.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match tokio::time::timeout(std::time::Duration::from_secs(10), conn.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let line = String::from_utf8_lossy(&answer);
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {line:?}"))
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

fn a_phone_photo_is_served_without_its_location(db: &TestDb) {
    run(async {
        let s = start(db, Limits::default(), None).await;
        let (id, grid, _) = s.case().await;
        let worker = s.token("grid_worker", &[&grid], "网格员 张强");
        let upload = phone_jpeg(800, 600);
        // the upload itself has the GPS position, in EXIF and in XMP
        let exif = exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(&upload))
            .expect("exif in the upload");
        assert!(
            exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
                .is_some()
        );
        assert!(contains(&upload, SECRET));

        let r = s
            .upload(id, Some(&worker), Some("before"), "IMG_0001.JPG", upload)
            .await;
        assert_eq!(r.status().as_u16(), 201);
        let location = header(&r, "location").expect("location").to_owned();
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["kind"], "before");
        assert_eq!(v["content_type"], "image/jpeg");
        // orientation 6: the 800 × 600 sensor image is shown 600 wide, 800 high
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(600), Some(800))
        );
        assert_eq!(v["taken_at"], "2026-02-13T16:00:00");
        assert_eq!(
            v["uploaded_by"]
                .as_str()
                .map(|s| s.starts_with("网格员 张强")),
            Some(true)
        );
        let photo = v["id"].as_i64().expect("id");
        assert_eq!(location, format!("/api/v1/cases/{id}/photos/{photo}"));
        assert_eq!(v["url"], location);

        // the served photo: no GPS, no XMP, no comment; only the orientation is left of EXIF
        let supervisor = s.token("supervisor", &[], "区督办");
        let r = s.get(&location, Some(&supervisor)).await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(header(&r, "content-type"), Some("image/jpeg"));
        assert!(header(&r, "cache-control").is_some_and(|c| c.starts_with("private")));
        let etag = header(&r, "etag").expect("etag").to_owned();
        let served = r.bytes().await.expect("bytes").to_vec();
        assert!(!contains(&served, SECRET));
        assert!(!contains(&served, b"http://ns.adobe.com/xap"));
        assert!(!contains(&served, b"2026:02:13"));
        let exif = exif::Reader::new()
            .read_from_container(&mut std::io::Cursor::new(&served))
            .expect("the orientation's EXIF");
        let tags: Vec<exif::Tag> = exif.fields().map(|f| f.tag).collect();
        assert_eq!(tags, vec![exif::Tag::Orientation], "{tags:?}");
        assert!(
            exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
                .is_none()
        );
        let img = image::load_from_memory(&served).expect("decodes");
        assert_eq!((img.width(), img.height()), (800, 600));
        // the stored object is the served one
        let files = s.stored_files();
        assert_eq!(files.len(), 2, "{files:?}");
        for f in &files {
            assert!(!contains(&std::fs::read(f).expect("read"), SECRET));
        }

        // 304 for the same ETag
        let r = s
            .client
            .get(format!("{}{location}", s.base))
            .bearer_auth(&supervisor)
            .header("if-none-match", &etag)
            .send()
            .await
            .expect("request");
        assert_eq!(r.status().as_u16(), 304);

        // the thumbnail: upright, longest side 320, no metadata
        let r = s.get(&format!("{location}/thumb"), Some(&worker)).await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(header(&r, "content-type"), Some("image/jpeg"));
        assert!(header(&r, "etag").is_some_and(|e| e != etag));
        let thumb = r.bytes().await.expect("bytes").to_vec();
        assert!(!contains(&thumb, SECRET));
        assert!(
            exif::Reader::new()
                .read_from_container(&mut std::io::Cursor::new(&thumb))
                .is_err()
        );
        let t = image::load_from_memory(&thumb).expect("thumb decodes");
        assert_eq!((t.width(), t.height()), (240, 320));

        // the list
        let r = s
            .get(&format!("/api/v1/cases/{id}/photos"), Some(&worker))
            .await;
        assert_eq!(r.status().as_u16(), 200);
        let list: Value = r.json().await.expect("json");
        assert_eq!(list["photos"].as_array().map(Vec::len), Some(1));
        assert_eq!(list["photos"][0]["id"], photo);
        assert_eq!(list["limit"], 20);
    });
}

fn png_is_accepted_without_its_text(db: &TestDb) {
    run(async {
        let s = start(db, Limits::default(), None).await;
        let (id, _, street) = s.case().await;
        let dispatcher = s.token("dispatcher", &[&street], "街镇分中心");
        let png = png_with_text(50, 40);
        assert!(contains(&png, SECRET));
        let r = s
            .upload(id, Some(&dispatcher), Some("report"), "screenshot.jpg", png)
            .await;
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.json().await.expect("json");
        assert_eq!(v["content_type"], "image/png");
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(50), Some(40))
        );
        assert_eq!(v["taken_at"], Value::Null);
        let r = s
            .get(v["url"].as_str().expect("url"), Some(&dispatcher))
            .await;
        assert_eq!(header(&r, "content-type"), Some("image/png"));
        let served = r.bytes().await.expect("bytes").to_vec();
        assert!(!contains(&served, SECRET));
        assert!(!contains(&served, b"tEXt"));
        let img = image::load_from_memory(&served).expect("decodes");
        assert_eq!((img.width(), img.height()), (50, 40));
        let r = s
            .get(v["thumb_url"].as_str().expect("thumb"), Some(&dispatcher))
            .await;
        let t = image::load_from_memory(&r.bytes().await.expect("bytes")).expect("thumb");
        assert_eq!((t.width(), t.height()), (50, 40));
    });
}

fn refused_formats_and_sizes_are_named(db: &TestDb) {
    run(async {
        let limits = Limits {
            max_bytes: 256 * 1024,
            max_per_case: 20,
            max_pixels: 2_000_000,
        };
        let s = start(db, limits, None).await;
        let (id, grid, _) = s.case().await;
        let worker = s.token("grid_worker", &[&grid], "网格员");
        let refused = |status: u16| move |r: reqwest::Response| problem(r, status);

        // HEIC: the iPhone's default
        let mut heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
        heic.extend_from_slice(&[0u8; 64]);
        let v = refused(415)(
            s.upload(id, Some(&worker), Some("report"), "IMG_0002.HEIC", heic)
                .await,
        )
        .await;
        assert_eq!(v["format"], "heic", "{v}");
        let d = v["detail"].as_str().expect("detail");
        assert!(
            d.contains("photo is HEIC") && d.contains("send JPEG or PNG"),
            "{d}"
        );
        assert!(
            d.contains("Settings › Camera › Formats › Most Compatible"),
            "{d}"
        );

        // WebP
        let webp = b"RIFF\x24\0\0\0WEBPVP8 \x18\0\0\0".to_vec();
        let v = refused(415)(
            s.upload(id, Some(&worker), Some("report"), "x.webp", webp)
                .await,
        )
        .await;
        assert_eq!(v["format"], "webp", "{v}");
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("photo is WebP")),
            "{v}"
        );
        assert_eq!(v["accepted"], json!(["image/jpeg", "image/png"]));

        // anything else, named by its first bytes
        let v = refused(415)(
            s.upload(
                id,
                Some(&worker),
                Some("report"),
                "x.jpg",
                b"hello, world".to_vec(),
            )
            .await,
        )
        .await;
        assert_eq!(v["format"], "unknown", "{v}");

        // a truncated JPEG
        let j = phone_jpeg(300, 200);
        let cut = j[..j.len() * 2 / 3].to_vec();
        let v = refused(422)(
            s.upload(id, Some(&worker), Some("report"), "cut.jpg", cut)
                .await,
        )
        .await;
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("truncated")),
            "{v}"
        );
        assert_eq!(v["field"], "photo");

        // over the size limit: a photo 100 bytes over it is refused by the handler, naming the
        // limit …
        let mut big = plain_jpeg(64, 64);
        big.resize(256 * 1024 + 100, 0);
        let v = refused(413)(
            s.upload(id, Some(&worker), Some("report"), "big.jpg", big)
                .await,
        )
        .await;
        assert!(
            v["detail"].as_str().is_some_and(|d| d.contains("262144")),
            "{v}"
        );
        assert_eq!(v["limit"], 256 * 1024);
        // … and a body declared larger than the photo limit and the form's room, by the edge on
        // its Content-Length, before any of it is read
        let status = raw_status(
            &s.base,
            &format!(
                "POST /api/v1/cases/{id}/photos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {worker}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000\r\n\r\n"
            ),
        )
        .await;
        assert_eq!(status, 413);

        // too many pixels: a small file whose header declares 20,000 × 20,000 (a bomb), refused
        // from the header before decoding
        let mut bomb = plain_jpeg(64, 64);
        let sof = bomb
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("SOF0");
        bomb[sof + 5..sof + 7].copy_from_slice(&20_000u16.to_be_bytes());
        bomb[sof + 7..sof + 9].copy_from_slice(&20_000u16.to_be_bytes());
        let v = refused(422)(
            s.upload(id, Some(&worker), Some("report"), "bomb.jpg", bomb)
                .await,
        )
        .await;
        assert_eq!(
            (v["width"].as_u64(), v["height"].as_u64()),
            (Some(20_000), Some(20_000)),
            "{v}"
        );
        assert_eq!(v["limit_pixels"], 2_000_000);
        assert!(
            v["detail"]
                .as_str()
                .is_some_and(|d| d.contains("400.0 megapixels")),
            "{v}"
        );

        // the form itself
        let v = refused(422)(
            s.upload(id, Some(&worker), None, "a.jpg", plain_jpeg(8, 8))
                .await,
        )
        .await;
        assert_eq!(v["field"], "kind");
        let v = refused(422)(
            s.upload(id, Some(&worker), Some("selfie"), "a.jpg", plain_jpeg(8, 8))
                .await,
        )
        .await;
        assert_eq!(v["field"], "kind");
        let r = s
            .client
            .post(format!("{}/api/v1/cases/{id}/photos", s.base))
            .bearer_auth(&worker)
            .json(&json!({"kind": "report"}))
            .send()
            .await
            .expect("request");
        problem(r, 415).await;
        let r = s
            .client
            .post(format!("{}/api/v1/cases/{id}/photos", s.base))
            .bearer_auth(&worker)
            .multipart(reqwest::multipart::Form::new().text("kind", "after"))
            .send()
            .await
            .expect("request");
        let v = problem(r, 422).await;
        assert_eq!(v["field"], "photo");
        // nothing was stored by any of them
        assert!(s.stored_files().is_empty(), "{:?}", s.stored_files());
        let r = s
            .get(&format!("/api/v1/cases/{id}/photos"), Some(&worker))
            .await;
        let list: Value = r.json().await.expect("json");
        assert_eq!(list["photos"], json!([]));
    });
}

fn only_those_who_see_the_case_see_its_photos(db: &TestDb) {
    run(async {
        let s = start(db, Limits::default(), None).await;
        let (id, grid, street) = s.case().await;
        let worker = s.token("grid_worker", &[&grid], "网格员");
        let r = s
            .upload(
                id,
                Some(&worker),
                Some("report"),
                "a.jpg",
                plain_jpeg(40, 30),
            )
            .await;
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.json().await.expect("json");
        let url = v["url"].as_str().expect("url").to_owned();
        let paths = [
            format!("/api/v1/cases/{id}/photos"),
            url.clone(),
            format!("{url}/thumb"),
        ];
        // no token: 401, for reads and the upload (checked before the body is read)
        for p in &paths {
            problem(s.get(p, None).await, 401).await;
        }
        problem(
            s.upload(id, None, Some("report"), "a.jpg", plain_jpeg(8, 8))
                .await,
            401,
        )
        .await;
        // a role that reads no cases
        let planner = s.token("planner", &[&street], "规划");
        for p in &paths {
            problem(s.get(p, Some(&planner)).await, 403).await;
        }
        problem(
            s.upload(
                id,
                Some(&planner),
                Some("report"),
                "a.jpg",
                plain_jpeg(8, 8),
            )
            .await,
            403,
        )
        .await;
        // another grid's worker, another street's dispatcher, a department not involved
        let others = [
            s.token("grid_worker", &["310116999001"], "别的网格员"),
            s.token("dispatcher", &["310116999"], "别的街镇"),
            s.token("department", &["区房管局"], "房管局"),
        ];
        for t in &others {
            for p in &paths {
                let v = problem(s.get(p, Some(t)).await, 403).await;
                assert!(
                    v["detail"]
                        .as_str()
                        .is_some_and(|d| d.contains("outside this token's scope")),
                    "{v}"
                );
            }
            problem(
                s.upload(id, Some(t), Some("after"), "a.jpg", plain_jpeg(8, 8))
                    .await,
                403,
            )
            .await;
        }
        // the case's street dispatcher may
        let dispatcher = s.token("dispatcher", &[&street], "街镇分中心");
        assert_eq!(s.get(&url, Some(&dispatcher)).await.status().as_u16(), 200);
        // unknown case, unknown photo, not ids
        let r = s
            .upload(
                999_999,
                Some(&dispatcher),
                Some("after"),
                "a.jpg",
                plain_jpeg(8, 8),
            )
            .await;
        problem(r, 404).await;
        problem(
            s.get(
                &format!("/api/v1/cases/{id}/photos/999999"),
                Some(&dispatcher),
            )
            .await,
            404,
        )
        .await;
        problem(
            s.get(&format!("/api/v1/cases/{id}/photos/x"), Some(&dispatcher))
                .await,
            400,
        )
        .await;
        // one file per object: the photo and its thumbnail
        assert_eq!(s.stored_files().len(), 2);
    });
}

fn the_count_per_case_holds_without_orphans(db: &TestDb) {
    run(async {
        let limits = Limits {
            max_per_case: 2,
            ..Limits::default()
        };
        let s = Arc::new(start(db, limits, None).await);
        let (id, grid, _) = s.case().await;
        let worker = s.token("grid_worker", &[&grid], "网格员");
        // four uploads at once to a case that takes two: two stored, two refused (409), and the
        // objects of the refused ones deleted
        let mut tasks = Vec::new();
        for i in 0..4u32 {
            let (s, worker) = (s.clone(), worker.clone());
            tasks.push(tokio::spawn(async move {
                s.upload(
                    id,
                    Some(&worker),
                    Some("after"),
                    "a.jpg",
                    plain_jpeg(30 + i, 20),
                )
                .await
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            let r = t.await.expect("join");
            let status = r.status().as_u16();
            if status == 409 {
                let v = problem(r, 409).await;
                assert_eq!(v["limit"], 2, "{v}");
            }
            statuses.push(status);
        }
        statuses.sort();
        assert_eq!(statuses, [201, 201, 409, 409]);
        assert_eq!(s.stored_files().len(), 4, "{:?}", s.stored_files());
        let r = s
            .get(&format!("/api/v1/cases/{id}/photos"), Some(&worker))
            .await;
        let list: Value = r.json().await.expect("json");
        assert_eq!(list["photos"].as_array().map(Vec::len), Some(2));
    });
}

/// moto's S3 server on a free port, stopped when dropped.
struct Moto {
    child: std::process::Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto() -> Moto {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/s3-test-server");
    let out = std::process::Command::new(script)
        .output()
        .expect("run scripts/s3-test-server");
    assert!(
        out.status.success(),
        "scripts/s3-test-server failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start moto_server");
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let t = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "moto_server did not start on port {port}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    moto
}

fn s3_spec(moto: &Moto, bucket: &str) -> PhotoStore {
    let option = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    PhotoStore::S3 {
        url: format!("s3://{bucket}/gridatlas"),
        options: vec![
            option("aws_endpoint", &moto.url),
            option("aws_access_key_id", "test"),
            option("aws_secret_access_key", "test"),
            option("aws_region", "us-east-1"),
            option("aws_allow_http", "true"),
        ],
    }
}

fn the_s3_photo_store_round_trips(db: &TestDb) {
    let moto = moto();
    run(async {
        let http = reqwest::Client::new();
        let r = http
            .put(format!("{}/case-photos", moto.url))
            .send()
            .await
            .expect("create bucket");
        assert!(r.status().is_success(), "{}", r.status());
        let s = start(db, Limits::default(), Some(s3_spec(&moto, "case-photos"))).await;
        let (id, grid, _) = s.case().await;
        let worker = s.token("grid_worker", &[&grid], "网格员");
        let r = s
            .upload(
                id,
                Some(&worker),
                Some("report"),
                "IMG.JPG",
                phone_jpeg(640, 480),
            )
            .await;
        assert_eq!(r.status().as_u16(), 201);
        let v: Value = r.json().await.expect("json");
        let url = v["url"].as_str().expect("url").to_owned();
        let r = s.get(&url, Some(&worker)).await;
        assert_eq!(r.status().as_u16(), 200);
        let served = r.bytes().await.expect("bytes").to_vec();
        assert!(!contains(&served, SECRET));
        assert_eq!(served.len() as u64, v["bytes"].as_u64().expect("bytes"));
        let r = s.get(&format!("{url}/thumb"), Some(&worker)).await;
        let t = image::load_from_memory(&r.bytes().await.expect("bytes")).expect("thumb");
        assert_eq!((t.width(), t.height()), (240, 320));
        // the objects are in the bucket, under the prefix and the case
        let listing = http
            .get(format!("{}/case-photos?list-type=2", moto.url))
            .send()
            .await
            .expect("list")
            .text()
            .await
            .expect("text");
        let keys = listing.matches("<Key>").count();
        assert_eq!(keys, 2, "{listing}");
        assert!(
            listing.contains(&format!("<Key>gridatlas/cases/{id}/")),
            "{listing}"
        );

        // a store whose bucket does not exist: the write fails, 503, and no row is left
        let broken = start_on(
            s.store.clone(),
            1,
            Limits::default(),
            Some(s3_spec(&moto, "no-such-bucket")),
        )
        .await;
        let (id2, _, _) = broken.case().await;
        let r = broken
            .upload(
                id2,
                Some(&worker),
                Some("report"),
                "a.jpg",
                plain_jpeg(20, 20),
            )
            .await;
        problem(r, 503).await;
        let r = broken
            .get(&format!("/api/v1/cases/{id2}/photos"), Some(&worker))
            .await;
        let list: Value = r.json().await.expect("json");
        assert_eq!(list["photos"], json!([]));
    });
}

/// A phone that lost the answer to an upload sends it again with the same `Idempotency-Key` (in a
/// new form, with another boundary): the photo is stored once and the first answer given again;
/// the key with another photo is refused.
fn an_upload_sent_again_with_its_key_is_stored_once(db: &TestDb) {
    run(async {
        let s = start(db, Limits::default(), None).await;
        let (id, _, street) = s.case().await;
        let dispatcher = s.token("dispatcher", &[&street], "街镇分中心");
        let send = |key: &'static str, bytes: Vec<u8>| {
            let form = reqwest::multipart::Form::new().text("kind", "report").part(
                "photo",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name("a.png")
                    .mime_str("image/png")
                    .expect("mime"),
            );
            s.client
                .post(format!("{}/api/v1/cases/{id}/photos", s.base))
                .bearer_auth(&dispatcher)
                .header("Idempotency-Key", key)
                .multipart(form)
                .send()
        };
        let first = send("photo-1", png_with_text(30, 20)).await.expect("send");
        assert_eq!(first.status().as_u16(), 201);
        let location = header(&first, "location").map(str::to_owned);
        assert_eq!(header(&first, "idempotent-replayed"), None);
        let v1: Value = first.json().await.expect("json");
        let again = send("photo-1", png_with_text(30, 20)).await.expect("send");
        assert_eq!(again.status().as_u16(), 201);
        assert_eq!(header(&again, "idempotent-replayed"), Some("true"));
        assert_eq!(header(&again, "location").map(str::to_owned), location);
        let v2: Value = again.json().await.expect("json");
        assert_eq!(v1, v2);
        let list: Value = s
            .get(&format!("/api/v1/cases/{id}/photos"), Some(&dispatcher))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(list["photos"].as_array().map(Vec::len), Some(1), "{list}");
        // the key with another photo: refused, nothing stored
        let other = send("photo-1", png_with_text(31, 20)).await.expect("send");
        assert_eq!(other.status().as_u16(), 422);
        let files = s.stored_files().len();
        assert_eq!(files, 2, "the photo and its thumbnail, once");
    });
}

suite!(
    an_upload_sent_again_with_its_key_is_stored_once,
    a_phone_photo_is_served_without_its_location,
    png_is_accepted_without_its_text,
    refused_formats_and_sizes_are_named,
    only_those_who_see_the_case_see_its_photos,
    the_count_per_case_holds_without_orphans,
    the_s3_photo_store_round_trips,
);
