//! The home page's live feed, `/api/home/events`: the viewer's counts again whenever one of
//! them changed. It listens to what the domains already broadcast (pipeline events, catalog
//! changes, Flink watch changes) — no polling — and after each burst recomputes the counts for
//! this viewer, sending them only when they differ from the last ones sent: a change nobody
//! here may see sends nothing.

use std::convert::Infallible;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::response::sse::{Event, Sse};
use axum::routing::get;
use futures::{FutureExt, Stream, StreamExt, stream};
use tokio::sync::broadcast;

use super::summary::Sources;
use crate::catalog::CatalogService;
use crate::error::AppError;
use crate::flink::FlinkService;
use crate::identity::{Permission, Principal, RequestContext};
use crate::pipelines::PipelineService;
use crate::rest::doc::{Auth, Op};
use crate::rest::live::{self, Closing};

/// The least time between two recounts of one feed.
const RECOUNT_AT_MOST_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The OpenAPI entries of these routes (the server's `api_doc.rs` combines them).
pub const DOC: &[Op] = &[Op::new(
    "GET",
    "/api/home/events",
    "The home page's counts for the caller, live (Server-Sent Events: the counts now, again whenever they change)",
    Auth::Heimdall,
)];

pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    crate::identity::IdentityService: FromRef<S>,
    PipelineService: FromRef<S>,
    CatalogService: FromRef<S>,
    FlinkService: FromRef<S>,
    Closing: FromRef<S>,
{
    Router::new().route("/api/home/events", get(events))
}

/// The three domains, owned, for the stream.
#[derive(Clone)]
struct Domains {
    pipelines: PipelineService,
    catalog: CatalogService,
    flink: FlinkService,
}

impl Domains {
    async fn home_json(&self, principal: &Principal) -> Result<String, AppError> {
        let home = Sources {
            pipelines: &self.pipelines,
            catalog: &self.catalog,
            flink: &self.flink,
        }
        .home(principal)
        .await?;
        serde_json::to_string(&home).map_err(AppError::internal)
    }
}

/// One tick per message of a broadcast, and one for any it fell behind on: the home page
/// recounts either way, so what was missed does not matter.
fn ticks<T: Clone + Send + 'static>(subscription: broadcast::Receiver<T>) -> impl Stream<Item = ()> + Send {
    stream::unfold(subscription, |mut subscription| async move {
        match subscription.recv().await {
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => Some(((), subscription)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    })
}

async fn events(
    State(identity): State<crate::identity::IdentityService>,
    State(pipelines): State<PipelineService>,
    State(catalog): State<CatalogService>,
    State(flink): State<FlinkService>,
    State(closing): State<Closing>,
    ctx: RequestContext,
    headers: axum::http::HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    ctx.principal.authorize(Permission::Read)?;
    let ended = identity.credential_ended(
        headers,
        ctx.meta.clone(),
        ctx.principal.actor_id(),
        |p: Principal| async move { p.authorize(Permission::Read).is_ok() },
    );
    // Subscribed before the first count: a change in between is counted again, never missed.
    // Whatever was missed after falling behind is one more recount.
    let changes = stream::select(
        stream::select(ticks(pipelines.store().bus().subscribe()), ticks(catalog.changes())),
        ticks(flink.subscribe(&ctx.principal)?),
    );
    let domains = Domains {
        pipelines,
        catalog,
        flink,
    };
    let principal = ctx.principal;
    let first = domains.home_json(&principal).await?;
    // A burst is whatever is ready when the last count finished: one recount for all of it,
    // sent only when it differs from the last one sent.
    let bursts = changes.ready_chunks(1024).boxed();
    let rest = stream::unfold(
        (bursts, domains, principal, first.clone(), tokio::time::Instant::now()),
        |(mut bursts, domains, principal, mut last, mut counted_at)| async move {
            loop {
                bursts.next().await?;
                // A storm of changes (10,000 Flink jobs restarting) costs each open page at most
                // one recount a second, not one per change: what arrives meanwhile joins it.
                tokio::time::sleep_until(counted_at + RECOUNT_AT_MOST_EVERY).await;
                while let Some(Some(_)) = bursts.next().now_or_never() {}
                counted_at = tokio::time::Instant::now();
                let Ok(json) = domains.home_json(&principal).await else {
                    continue;
                };
                if json != last {
                    last.clone_from(&json);
                    return Some((json, (bursts, domains, principal, last, counted_at)));
                }
            }
        },
    );
    let events = stream::once(std::future::ready(first))
        .chain(rest)
        .map(|json| Event::default().data(json));
    Ok(live::serve("home", events, &closing, ended))
}
