//! The live-feed kit every domain's Server-Sent Events stream is built from, so the three
//! feeds (Flink jobs, a pipeline's events, a service's changes) behave alike:
//!
//! - subscribe first, then read the snapshot: a change in between arrives twice, never not at
//!   all (`follow` reads the subscription; the caller sends its snapshot first);
//! - a client that falls behind gets the caller's catch-up (a fresh snapshot, "re-read")
//!   instead of the messages it missed;
//! - one heartbeat: a comment after `HEARTBEAT` of silence keeps proxies from closing the
//!   stream;
//! - each open stream is counted (`heimdall_sse_subscribers{stream}`);
//! - every stream ends when the process closes its feeds (`Closing`, at shutdown) or when the
//!   future the caller passes resolves (its credential signed out, revoked, no longer allowed).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use futures::{Stream, StreamExt, stream};
use tokio::sync::{broadcast, watch};

use super::Subscriber;

/// Silence after which a stream carries a keep-alive comment.
pub const HEARTBEAT: Duration = Duration::from_secs(15);

/// The process-wide end of every live feed; the server closes it once, at shutdown, so the
/// stop is not held up by streams that never finish by themselves.
#[derive(Clone, Debug)]
pub struct Closing(Arc<watch::Sender<bool>>);

impl Default for Closing {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(false)))
    }
}

impl Closing {
    /// Ends every live feed, now and from now on.
    pub fn close(&self) {
        self.0.send_replace(true);
    }

    /// Completes once `close` was called (at once if it was).
    pub fn closed(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut closing = self.0.subscribe();
        async move {
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }
}

/// The messages of a subscription, in order; after falling behind, `catch_up`'s message
/// instead of those missed (none: the stream ends). Ends when the sender is gone.
pub fn follow<T, F>(subscription: broadcast::Receiver<T>, catch_up: F) -> impl Stream<Item = T> + Send
where
    T: Clone + Send + 'static,
    F: Fn() -> Option<T> + Send + Sync + 'static,
{
    stream::unfold(
        (subscription, catch_up),
        |(mut subscription, catch_up)| async move {
            let next = match subscription.recv().await {
                Ok(message) => message,
                Err(broadcast::error::RecvError::Lagged(_)) => catch_up()?,
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            Some((next, (subscription, catch_up)))
        },
    )
}

/// `events` as a Server-Sent Events response named `stream` in the subscriber gauge, ending
/// at shutdown or when `ended` resolves, with the heartbeat.
pub fn serve<S, E>(
    stream: &'static str,
    events: S,
    closing: &Closing,
    ended: E,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + Send + use<S, E>>
where
    S: Stream<Item = Event> + Send + 'static,
    E: Future<Output = ()> + Send + 'static,
{
    let open = Subscriber::new(stream);
    let end = futures::future::select(Box::pin(closing.closed()), Box::pin(ended));
    let feed = events.take_until(end).map(move |event| {
        let _counted = &open;
        Ok(event)
    });
    Sse::new(feed).keep_alive(KeepAlive::new().interval(HEARTBEAT))
}
