//! The accept loop: each connection is hyper's HTTP/1 server with read timeouts — the
//! headers must arrive within `server.header_read_timeout_secs` (a client that never finishes them is cut
//! off instead of holding a connection forever), a body must keep moving (`layers.rs`'s body
//! timeout) — then ForwardAuth's short path for the requests it answers, the router for the
//! rest, with the peer's address as `ConnectInfo`. Stopping: no new
//! connections, idle ones closed, in-flight requests finished (the caller bounds how long).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::http::forward_auth::ShortPath;

/// Header lines a request may carry on the CARTA sidecar's listener (Heimdall's own keeps
/// hyper's 100, parsed on the stack): its seed's server counted none (only the header
/// block's size, which hyper's buffer limit still bounds here), and proxies in front of it
/// forward whatever the browser sent.
pub const CARTA_MAX_HEADERS: usize = 1000;

/// Serves `short`'s questions and `router` on `listener` until `shutdown` resolves, then
/// drains. A client has `header_read_timeout` to send each request's headers
/// (`server.header_read_timeout_secs`), and at most `max_headers` header lines (hyper's 100
/// when `None`; 431 beyond).
pub async fn serve(
    listener: TcpListener,
    short: Arc<ShortPath>,
    router: Router,
    header_read_timeout: Duration,
    max_headers: Option<usize>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Answers go out whole in one write; Nagle would only hold back the next small one
        // (a live feed's event) until the last is acknowledged.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        let router = router.clone();
        let short = short.clone();
        let service =
            hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                let router = router.clone();
                let short = short.clone();
                async move {
                    if let Some(question) = short.question(request.method(), request.uri().path()) {
                        return Ok::<_, Infallible>(short.answer(question, request, peer).await);
                    }
                    request.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                    router.oneshot(request.map(axum::body::Body::new)).await
                }
            });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .keep_alive(true);
        if let Some(max) = max_headers {
            builder.max_headers(max);
        }
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
