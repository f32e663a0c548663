//! The site's `pkg/` is sent as the build compressed it: the brotli or gzip copy beside a file
//! (`scripts/lib/precompress.mjs`) to a browser that takes it, the file itself otherwise
//! (leptos_axum's file handler does the choosing).

use crate::helpers::{new_client, spawn_app_with, test_config};

#[tokio::test]
async fn assets_are_sent_from_their_precompressed_copies() {
    let site = tempfile::tempdir().expect("site");
    let pkg = site.path().join("pkg");
    std::fs::create_dir_all(&pkg).expect("pkg");
    let script = "export function hydrate() { /* the app */ }\n".repeat(50);
    std::fs::write(pkg.join("app.js"), &script).expect("js");
    // Marked copies: what is sent shows which file was read.
    std::fs::write(pkg.join("app.js.br"), b"brotli copy").expect("br");
    std::fs::write(pkg.join("app.js.gz"), b"gzip copy").expect("gz");
    let (mut config, file) = test_config().await;
    config.server.site_root = site.path().to_owned();
    let app = spawn_app_with(config, file).await;

    for (accept, encoding, body) in [
        ("gzip, deflate, br, zstd", Some("br"), "brotli copy"),
        ("gzip", Some("gzip"), "gzip copy"),
        ("identity", None, script.as_str()),
    ] {
        let response = new_client()
            .get(app.url("/pkg/app.js"))
            .header("accept-encoding", accept)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(
            response
                .headers()
                .get("content-encoding")
                .and_then(|v| v.to_str().ok()),
            encoding,
            "{accept}"
        );
        assert!(
            response.headers()["content-type"]
                .to_str()
                .expect("ascii")
                .contains("javascript"),
            "the file's own type, not the copy's"
        );
        assert!(
            response.headers()["cache-control"]
                .to_str()
                .expect("ascii")
                .contains("max-age=300")
        );
        assert_eq!(response.text().await.expect("body"), body, "{accept}");
    }
    let missing = new_client()
        .get(app.url("/pkg/nothing.wasm"))
        .send()
        .await
        .expect("request");
    assert_eq!(missing.status(), 404);
}
