//! The event log: polled (`events`) and live (`events/stream`, Server-Sent Events).

use super::*;
use crate::pipelines::Since;
use crate::rest::live::{self, Closing};

pub(super) fn since_of(value: Option<&String>) -> Result<Since, Box<Response>> {
    let Some(value) = value.map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(Since::Id(0));
    };
    if let Ok(id) = value.parse::<i64>() {
        return Ok(Since::Id(id));
    }
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| Since::Time(t.with_timezone(&chrono::Utc)))
        .or_else(|_| {
            // The seed's `datetime.fromisoformat` also takes a time without a zone (UTC here).
            chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .map(|t| Since::Time(t.and_utc()))
        })
        .map_err(|_| {
            Box::new(bad_request(
                "since",
                "Invalid 'since' timestamp format. Use ISO 8601 format.",
            ))
        })
}

pub(super) async fn events(
    State(pipelines): State<PipelineService>,
    ctx: RequestContext,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Answer {
    // Who first: a caller who may not see the pipeline hears that before anything about the query.
    pipelines.get(&ctx.principal, &id).await?;
    let since = match since_of(query.get("since")) {
        Ok(since) => since,
        Err(refused) => return Ok(*refused),
    };
    let limit = query.get("limit").map_or(Ok(100), |v| {
        v.parse::<i64>()
            .map_err(|_| AppError::invalid("limit", format!("{v:?} is not a number")))
    })?;
    let limit = limit.clamp(1, 1000);
    let (rows, has_more) = pipelines.events(&ctx.principal, &id, since, limit).await?;
    let events: Vec<Value> = rows.iter().map(event_json).collect();
    Ok(axum::Json(json!({
        "job_id": id,
        "events": events,
        "total": events.len(),
        "has_more": has_more,
        "last_event_time": rows.last().map(|e| e.created_at),
        "last_event_id": rows.last().map(|e| e.id),
        "since": query.get("since"),
        "timestamp": chrono::Utc::now(),
    }))
    .into_response())
}

/// The live stream: a `connected` message, every event after `Last-Event-ID` (or `since`) from
/// the table, then each new one as it commits, with its id; comments every 5 s keep proxies
/// from closing it. The seed's clients read `data:` only (so, by default, no `event:` field:
/// `EventSource.onmessage` sees everything); `?events=typed` names each event.
pub(super) async fn stream_events(
    State(identity): State<crate::identity::IdentityService>,
    State(pipelines): State<PipelineService>,
    State(closing): State<Closing>,
    ctx: RequestContext,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, SeedError> {
    pipelines.get(&ctx.principal, &id).await?;
    let typed = query.get("events").is_some_and(|v| v == "typed");
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .or(query.get("since").map(String::as_str))
        .map_or(Ok(0), |v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| AppError::invalid("since", format!("{v:?} is not an event id")))
        })?;
    // Subscribed now (before the table is read): nothing committed from here on is missed.
    let events = pipelines.live_events(&id, after);
    // Ends with the server, or with the credential that opened it (signed out, revoked, no
    // longer allowed to see this pipeline).
    let owner = pipelines.clone();
    let watched = id.clone();
    let ended = identity.credential_ended(
        headers.clone(),
        ctx.meta.clone(),
        ctx.principal.actor_id(),
        move |p: crate::identity::Principal| {
            let (pipelines, id) = (owner.clone(), watched.clone());
            async move { pipelines.get(&p, &id).await.is_ok() }
        },
    );
    let connected = SseEvent::default().event_if(typed, "connected").data(
        stream_notice(
            "connected",
            format!("Connected to job {id} event stream"),
            json!({ "job_id": id, "operator": ctx.principal.display_name() }),
        )
        .to_string(),
    );
    let rest = events.map(move |row| {
        SseEvent::default()
            .id(row.id.to_string())
            .event_if(typed, &row.kind)
            .data(stream_json(&row).to_string())
    });
    let first = stream::once(std::future::ready(connected));
    // The seed's heartbeat: a data message every 5 s (no id: a reconnect's cursor is the last
    // real event), which also keeps proxies from closing an idle stream.
    let heartbeats = stream::unfold((), move |()| async move {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        let now = chrono::Utc::now();
        let beat = SseEvent::default().event_if(typed, "heartbeat").data(
            stream_notice(
                "heartbeat",
                "Server alive".to_owned(),
                json!({ "timestamp": now }),
            )
            .to_string(),
        );
        Some((beat, ()))
    });
    let events = stream::select(first.chain(rest), heartbeats);
    Ok(live::serve("pipeline_events", events, &closing, ended))
}

/// `event:` only when asked for.
pub(super) trait EventIf {
    fn event_if(self, typed: bool, name: &str) -> Self;
}

impl EventIf for SseEvent {
    fn event_if(self, typed: bool, name: &str) -> Self {
        if typed { self.event(name) } else { self }
    }
}
