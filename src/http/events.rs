//! `GET /api/v1/events`: the live events of this server process as server-sent events
//! (`text/event-stream`), for the street portal and the phone page: case changes, check-ins and
//! publishes, each as its caller may see it ([`crate::service::events`]).
//!
//! The stream opens with an event `ready` (`{"seq": N}`, the last event published before it),
//! then one event per change (`event:` its kind, `id:` its seq, `data:` a
//! [`wire::LiveEvent`]); `lagged` (`{"missed": n}`) when the client fell more than
//! [`crate::service::events::CAPACITY`] events behind, after which it should read the API again;
//! a comment every 15 s keeps proxies from closing it. Bounded: at most `max_event_streams` at once
//! (503 `busy` beyond), each closed after `event_stream_max_age` (the client reconnects and its
//! token is checked again).

use super::AppState;
use super::auth::{self, Role};
use super::error::{ApiError, ApiResult};
use super::query::Params;
use crate::service::events::{self, Filter};
use crate::wire::events as wire;
use crate::wire::problem::Problem;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// `GET /api/v1/events` (any token): the live events, as server-sent events.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", operation_id = "live_events",
    params(wire::EventsQuery),
    responses((status = 200, description = "`text/event-stream`: `ready` ({\"seq\"}), then `case`, `checkin` and `publish` events whose data is a LiveEvent (and `lagged` ({\"missed\"}) when the client fell behind)", body = wire::LiveEvent, content_type = "text/event-stream"),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No, unknown, revoked or expired token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "`street` is outside the token's scope", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "As many event streams are open as the server allows (Retry-After)", body = Problem, content_type = "application/problem+json")))]
pub async fn stream(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(q): Params<wire::EventsQuery>,
) -> ApiResult<Response> {
    let caller = auth::require_any(&state, &headers, &Role::ALL).await?;
    let filter = Filter::new(caller, q.street)?;
    let Some(turn) = state.event_stream_turn() else {
        return Err(ApiError {
            status: axum::http::StatusCode::SERVICE_UNAVAILABLE,
            slug: "busy",
            title: "Server busy",
            detail: format!(
                "{} event streams are open, as many as this server allows; try again shortly",
                state.config().max_event_streams
            ),
            extra: Some(serde_json::json!({"retry_after_s": 5})),
        });
    };
    let rx = state.events().subscribe();
    let ready = Event::default()
        .event("ready")
        .data(serde_json::json!({ "seq": state.events().last_seq() }).to_string());
    let changes = futures_util::stream::unfold(
        (rx, filter, turn),
        |(mut rx, filter, turn)| async move {
            loop {
                match rx.recv().await {
                    Ok(ev) => {
                        if let Some(view) = events::view(&filter, &ev) {
                            let event = match serde_json::to_string(&view) {
                                Ok(data) => Event::default()
                                    .event(kind_name(view.kind))
                                    .id(view.seq.to_string())
                                    .data(data),
                                Err(e) => {
                                    tracing::error!(error = %e, "an event could not be written as JSON");
                                    continue;
                                }
                            };
                            return Some((Ok::<_, Infallible>(event), (rx, filter, turn)));
                        }
                    }
                    Err(RecvError::Lagged(missed)) => {
                        let event = Event::default()
                            .event("lagged")
                            .data(serde_json::json!({ "missed": missed }).to_string());
                        return Some((Ok(event), (rx, filter, turn)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    let max_age = state.config().event_stream_max_age;
    let body = futures_util::stream::once(async move { Ok(ready) })
        .chain(changes)
        .take_until(tokio::time::sleep(max_age));
    Ok(Sse::new(body)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

fn kind_name(kind: wire::EventKind) -> &'static str {
    match kind {
        wire::EventKind::Case => "case",
        wire::EventKind::Checkin => "checkin",
        wire::EventKind::Publish => "publish",
    }
}
