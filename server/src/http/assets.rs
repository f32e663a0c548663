//! The built site's `pkg/` (WASM, JS, CSS): sent as the build compressed it. `scripts/heimdall`
//! writes a brotli (quality 11) and a gzip (level 9) copy beside each file after every build
//! (`scripts/lib/precompress.mjs`), and a browser gets the copy its `Accept-Encoding` takes,
//! with the file's own `Content-Type`. The compression layer, which can afford only a fast
//! level per request, leaves these answers alone (they carry their `Content-Encoding`); a file
//! without copies is still compressed by it.

use axum::Router;
use tower_http::services::ServeDir;

/// `/pkg/*` from `<site_root>/<site_pkg_dir>`.
pub fn routes<S: Clone + Send + Sync + 'static>(options: &leptos::prelude::LeptosOptions) -> Router<S> {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    Router::new().nest_service(
        &format!("/{}", options.site_pkg_dir),
        ServeDir::new(dir).precompressed_br().precompressed_gzip(),
    )
}
