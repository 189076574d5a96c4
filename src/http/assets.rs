//! Static files, compiled into the binary (the server stays one file), with a college's own files
//! from HCCC_SSO_BRANDING_DIR in front of them. Each is served at `/assets/<hash>/<path>` (the hash
//! of its content: cached for a year, `immutable`) and, for old links, at `/static/<path>` (an
//! hour). Gzip and Brotli forms are made once per process, when a file is first asked for (the
//! API reference's 1 MB script would otherwise cost every start-up a second of CPU).

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::crypto;
use crate::telemetry::ErrorCause;

/// The files we ship: path, content, content type.
const BUILT_IN: [(&str, &[u8], &str); 6] = [
    (
        "css/app.css",
        include_bytes!("../../static/css/app.css"),
        "text/css; charset=utf-8",
    ),
    (
        "js/form_post.js",
        include_bytes!("../../static/js/form_post.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "js/qr_login.js",
        include_bytes!("../../static/js/qr_login.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "js/webauthn.js",
        include_bytes!("../../static/js/webauthn.js"),
        "text/javascript; charset=utf-8",
    ),
    (
        "img/favicon.svg",
        include_bytes!("../../static/img/favicon.svg"),
        "image/svg+xml",
    ),
    (
        "vendor/redoc/redoc.standalone.js",
        include_bytes!("../../static/vendor/redoc/redoc.standalone.js"),
        "text/javascript; charset=utf-8",
    ),
];

/// What a branding folder may add or replace, by extension (nothing executable).
fn content_type_of(path: &str) -> Option<&'static str> {
    let extension = path.rsplit('.').next()?;
    Some(match extension {
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        _ => return None,
    })
}

/// A branding file larger than this is skipped with a warning.
const MAX_BRANDING_FILE: u64 = 1024 * 1024;

struct Asset {
    content_type: &'static str,
    hash: String,
    plain: Bytes,
    gzip: OnceLock<Option<Bytes>>,
    brotli: OnceLock<Option<Bytes>>,
}

impl Asset {
    fn new(content: Vec<u8>, content_type: &'static str) -> Asset {
        Asset {
            content_type,
            hash: crypto::b64url(&crypto::sha256(&content)[..9]),
            plain: Bytes::from(content),
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
        }
    }

    /// Images are compressed already (SVG is text and pays).
    fn compressible(&self) -> bool {
        self.content_type.starts_with("text/") || self.content_type == "image/svg+xml"
    }

    fn gzip(&self) -> Option<&Bytes> {
        self.gzip
            .get_or_init(|| self.compressible().then(|| gzip(&self.plain)).flatten())
            .as_ref()
    }

    fn brotli(&self) -> Option<&Bytes> {
        self.brotli
            .get_or_init(|| self.compressible().then(|| brotli(&self.plain)).flatten())
            .as_ref()
    }
}

fn gzip(content: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(content).ok()?;
    encoder.finish().ok().map(Bytes::from)
}

fn brotli(content: &[u8]) -> Option<Bytes> {
    // The best quality for our own small files; one a step faster for a megabyte (a tenth of
    // the time, a few percent larger).
    let quality = if content.len() > 256 * 1024 { 9 } else { 11 };
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
        writer.write_all(content).ok()?;
    }
    Some(Bytes::from(out))
}

/// The served files by path.
pub struct Assets {
    files: HashMap<String, Asset>,
}

impl Assets {
    /// The built-in files, then the branding folder's (which may replace them).
    pub fn load(branding_dir: Option<&Path>) -> Assets {
        let mut files: HashMap<String, Asset> = BUILT_IN
            .iter()
            .map(|(path, content, kind)| ((*path).to_owned(), Asset::new(content.to_vec(), kind)))
            .collect();
        if let Some(dir) = branding_dir {
            for (path, content, kind) in read_branding(dir) {
                files.insert(path, Asset::new(content, kind));
            }
        }
        Assets { files }
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    /// The fingerprinted URL of a file, for pages to link to.
    pub fn url(&self, path: &str) -> String {
        match self.files.get(path) {
            Some(asset) => format!("/assets/{}/{path}", asset.hash),
            None => format!("/static/{path}"),
        }
    }

    /// Answers on a blocking thread the first time a file's compressed forms are made (a
    /// megabyte of Brotli would stall every request this worker serves meanwhile).
    async fn serve(
        assets: &Arc<Assets>,
        path: String,
        headers: HeaderMap,
        cache: &'static str,
    ) -> Response {
        let ready = assets.files.get(&path).is_none_or(|a| {
            !a.compressible() || a.brotli.get().is_some() && a.gzip.get().is_some()
        });
        if ready {
            return assets.respond(&path, &headers, cache);
        }
        let assets = assets.clone();
        tokio::task::spawn_blocking(move || assets.respond(&path, &headers, cache))
            .await
            .unwrap_or_else(|e| {
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response
                    .extensions_mut()
                    .insert(ErrorCause(format!("compressing an asset: {e}")));
                response
            })
    }

    /// The best form of the file the client accepts.
    fn respond(&self, path: &str, headers: &HeaderMap, cache: &'static str) -> Response {
        let Some(asset) = self.files.get(path) else {
            return (StatusCode::NOT_FOUND, "Not found").into_response();
        };
        let accepts = headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let takes = |coding: &str| {
            accepts.split(',').any(|part| {
                let mut pieces = part.split(';');
                pieces.next().map(str::trim) == Some(coding)
                    && !pieces.any(|p| p.trim().trim_end_matches('0').trim_end_matches('.') == "q=")
            })
        };
        let (body, encoding) = if let Some(br) = asset.brotli().filter(|_| takes("br")) {
            (br.clone(), Some("br"))
        } else if let Some(gz) = asset.gzip().filter(|_| takes("gzip")) {
            (gz.clone(), Some("gzip"))
        } else {
            (asset.plain.clone(), None)
        };
        let mut response = (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(asset.content_type),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
                (header::VARY, HeaderValue::from_static("Accept-Encoding")),
            ],
            body,
        )
            .into_response();
        if let Some(encoding) = encoding {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    }
}

/// Files under the branding folder, by their path relative to it (one level of folders).
fn read_branding(dir: &Path) -> Vec<(String, Vec<u8>, &'static str)> {
    let mut found = Vec::new();
    let Ok(top) = std::fs::read_dir(dir) else {
        tracing::warn!(dir = %dir.display(), "HCCC_SSO_BRANDING_DIR cannot be read; using the built-in look");
        return found;
    };
    for sub in top.flatten().filter(|e| e.path().is_dir()) {
        let folder = sub.file_name().to_string_lossy().into_owned();
        for file in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = file.file_name().to_string_lossy().into_owned();
            let path = format!("{folder}/{name}");
            let too_big = file
                .metadata()
                .map_or(true, |m| m.len() > MAX_BRANDING_FILE);
            match content_type_of(&path) {
                Some(kind) if !too_big => match std::fs::read(file.path()) {
                    Ok(content) => found.push((path, content, kind)),
                    Err(e) => tracing::warn!(%path, error = %e, "branding file unreadable"),
                },
                _ => {
                    tracing::warn!(%path, "branding file skipped: not an image or stylesheet, or over 1 MiB")
                }
            }
        }
    }
    found
}

/// `/assets/<hash>/<path>`: immutable. A stale hash (an old page after an upgrade) still gets the
/// current file, but only cached briefly.
pub async fn get_asset(
    State(assets): State<Arc<Assets>>,
    UrlPath((hash, path)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let current = assets.files.get(&path).is_some_and(|a| a.hash == hash);
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    Assets::serve(&assets, path, headers, cache).await
}

/// `/static/<path>`, the unversioned address.
pub async fn get_static(
    State(assets): State<Arc<Assets>>,
    UrlPath(path): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    Assets::serve(&assets, path, headers, "public, max-age=3600").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_branding_folder_replaces_and_adds_but_never_scripts() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("img")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("js")).expect("mkdir");
        std::fs::write(dir.path().join("img/logo.svg"), "<svg/>").expect("write");
        std::fs::write(dir.path().join("js/evil.js"), "alert(1)").expect("write");
        let assets = Assets::load(Some(dir.path()));
        assert!(assets.contains("img/logo.svg"));
        assert!(assets.contains("css/app.css"));
        assert!(
            !assets.contains("js/evil.js"),
            "no scripts from a branding folder"
        );
        let css = assets.files.get("css/app.css").expect("css");
        assert!(css.gzip().is_some() && css.brotli().is_some());
        assert_eq!(css.hash.len(), 12);
    }
}
