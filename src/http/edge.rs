//! The edge of the HTTP stack: one tower service around the whole router that does, per request,
//! what every route needs — the rate limit, the body limit and the token check of the route, the
//! request timeout, the body-progress timeout, and request counts and latency per route for
//! `/metrics`.
//!
//! Why one hand-written service instead of `Router::layer` with four layers: axum applies a
//! router layer to every route separately, as a boxed service that is cloned for each request,
//! so four layers meant four boxed clones and four boxed futures per request — on a lookup that
//! answers in a microsecond, about a fifth of the server's CPU time per request (measured:
//! BENCHMARKS.md, "HTTP"). Here the work is done once, in one future that is not boxed.
//!
//! - **Routes for metrics.** Outside the router the matched route is not known yet, so the edge
//!   matches the path against the same route templates the router was built from
//!   ([`RouteTable`], the `matchit` matcher axum itself uses): the `route` label is the
//!   template (`/api/v1/areas/{code}`), never the raw path, so clients cannot mint label values.
//!   Methods other than the standard ones count as `OTHER`.
//! - **Rate limit** ([`super::ratelimit`]): only paths under `/api/` and `/open311/`; a request
//!   over the limit is answered 429 here and never reaches the router.
//! - **Per-route policy** ([`Policy`], kept in the [`RouteTable`] per route and method): the
//!   largest body and the role the bearer token must have. In order, before a byte of the body
//!   is read: a `Content-Length` over the route's limit is answered 413; on a route needing a
//!   role the token is checked (a store lookup on the blocking pool) and a missing, unknown or
//!   revoked token is answered 401, a token without the role 403 — so a bad token costs the
//!   server the headers and nothing more. The verified [`super::auth::Caller`] goes into the
//!   request's extensions; handlers check the role again (defence in depth): the check-in and
//!   fix handlers with that `Caller` (`auth::require_verified`, no second token lookup), the
//!   others with their own `auth::require`, which verifies the token again. A
//!   chunked body is counted as it arrives and cut at the limit (413).
//! - **Body progress:** a body that sends nothing for the configured body-idle time while the
//!   handler waits for it is cut and the request answered 408 (problem+json).
//! - **Timeout:** a request still pending after the configured time is answered 503
//!   (problem+json). The timer is only armed when the inner future is pending, so a request
//!   answered on its first poll (a lookup) never touches the timer wheel. The deadline goes into
//!   the request's extensions ([`Deadline`]) for handlers that stream their answer after
//!   returning (the NDJSON lookup ends its stream there).
//! - **The lookup fast path.** With public reads, `GET /api/v1/lookup` on the live atlas (no
//!   `at=`) is answered by the edge itself with the handler's own code
//!   ([`super::lookup::lookup_now`]): routing, the matched-path extension, the boxed route
//!   service and its boxed future are the largest part of what the router costs, and the
//!   lookup is the call made thousands of times a second. Everything else goes through the
//!   router; tests check both paths give the same answers.

use super::auth::{Caller, Role};
use super::body::{BodyCut, Deadline, request_timeout};
use super::error::ApiError;
use super::ratelimit::Limiter;
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::cell::RefCell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::Service;

/// The body limit of a route and method the route table does not list (GET, HEAD, and methods
/// a route does not take: no handler reads their body).
pub const SMALL_BODY: usize = 64 * 1024;

/// What the edge enforces on one method of one route before the router sees the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Largest request body, bytes: a larger `Content-Length` is answered 413 at once, a
    /// chunked body is cut (413) when it grows past it.
    pub body_limit: usize,
    /// The roles one of which the bearer token must have, checked before the body is read
    /// (empty: the edge checks no token; the handler may still).
    pub roles: &'static [Role],
}

impl Policy {
    /// A body of at most `body_limit` bytes, no token checked at the edge.
    pub const fn body(body_limit: usize) -> Policy {
        Policy {
            body_limit,
            roles: &[],
        }
    }

    /// A body of at most `body_limit` bytes from a token with one of `roles` (or admin).
    pub const fn with_roles(body_limit: usize, roles: &'static [Role]) -> Policy {
        Policy { body_limit, roles }
    }
}

/// The route templates of a router, for the `route` label of the metrics, with the
/// [`Policy`] of each method a route takes.
pub struct RouteTable {
    matcher: matchit::Router<usize>,
    templates: Vec<&'static str>,
    /// Per template: the policies of its methods (unlisted methods: [`SMALL_BODY`], no role).
    policies: Vec<Vec<(Method, Policy)>>,
}

impl RouteTable {
    /// A table of `templates` (axum's path syntax). A template the matcher refuses (which axum
    /// would have refused first) is left out and its requests count as `unmatched`.
    pub fn new(templates: Vec<&'static str>) -> RouteTable {
        RouteTable::with_policies(templates.into_iter().map(|t| (t, Vec::new())).collect())
    }

    /// A table of templates, each with the policies of the methods that take a body.
    pub fn with_policies(routes: Vec<(&'static str, Vec<(Method, Policy)>)>) -> RouteTable {
        let mut matcher = matchit::Router::new();
        for (i, (t, _)) in routes.iter().enumerate() {
            if let Err(e) = matcher.insert(*t, i) {
                tracing::warn!(route = t, error = %e, "route left out of the metrics table");
            }
        }
        let (templates, policies) = routes.into_iter().unzip();
        RouteTable {
            matcher,
            templates,
            policies,
        }
    }

    /// The policy of `method` on the route of index `i`.
    pub fn policy(&self, i: usize, method: &Method) -> Policy {
        self.policies
            .get(i)
            .and_then(|ps| ps.iter().find(|(m, _)| m == method))
            .map_or(Policy::body(SMALL_BODY), |&(_, p)| p)
    }

    /// The index of the template matching `path`; `templates.len()` for none.
    fn index(&self, path: &str) -> usize {
        self.matcher
            .at(path)
            .map_or(self.templates.len(), |m| *m.value)
    }

    /// The label of index `i`.
    fn label(&self, i: usize) -> &'static str {
        self.templates.get(i).copied().unwrap_or("unmatched")
    }
}

/// What the edge does besides calling the router.
pub struct EdgeConfig {
    /// The state of the router: tokens are checked against its store.
    pub state: super::AppState,
    /// Answer `GET /api/v1/lookup` here, without the router (set when reads are public: the
    /// router would add nothing but its own cost to the hottest route).
    pub fast_lookup: bool,
    /// The route templates (the `route` label) and their policies (body limit, role).
    pub routes: RouteTable,
    /// Longest a request may take.
    pub timeout: Duration,
    /// Longest a request body may send nothing while its handler waits for it (408).
    pub body_idle_timeout: Duration,
    /// The rate limit of `/api/` and `/open311/` (`None`: unlimited).
    pub limiter: Option<Limiter>,
}

/// The service `gridatlas serve` runs: [`EdgeConfig`]'s work around a router. Serve it with
/// [`super::serve::serve`] (connection limits, header timeout, client addresses); `axum::serve`
/// also takes it, without those.
#[derive(Clone)]
pub struct Edge {
    router: Router,
    config: Arc<EdgeConfig>,
    /// The route index of `/api/v1/lookup` when [`EdgeConfig::fast_lookup`] is set.
    lookup_route: Option<usize>,
}

impl Edge {
    /// `router` (with its state) behind `config`.
    pub fn new(router: Router, config: EdgeConfig) -> Edge {
        let lookup_route = Some(config.routes.index(LOOKUP))
            .filter(|&i| config.fast_lookup && config.routes.label(i) == LOOKUP);
        Edge {
            // Turns every handler into a route once, not per request.
            router: router.with_state(()),
            config: Arc::new(config),
            lookup_route,
        }
    }

    /// The make-service `axum::serve` takes, giving each request its peer's address (which the
    /// rate limit needs).
    pub fn into_make_service_with_connect_info<C>(
        self,
    ) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Edge, C> {
        axum::ServiceExt::<Request>::into_make_service_with_connect_info(self)
    }
}

/// The metric handles of one route on one worker thread: registered once, then only updated.
struct RouteMetrics {
    label: &'static str,
    duration: metrics::Histogram,
    /// (method, status) → request counter.
    requests: Vec<(Method, u16, metrics::Counter)>,
}

thread_local! {
    /// Indexed by route index (the last one is `unmatched`).
    static ROUTE_METRICS: RefCell<Vec<Option<RouteMetrics>>> = const { RefCell::new(Vec::new()) };
}

/// Counts one answered request.
fn record(label: &'static str, index: usize, method: &Method, status: u16, elapsed: Duration) {
    ROUTE_METRICS.with_borrow_mut(|cache| {
        if cache.len() <= index {
            cache.resize_with(index + 1, || None);
        }
        let Some(slot) = cache.get_mut(index) else {
            return;
        };
        // Another route table (a second router in the same process) may use the same index.
        if slot.as_ref().is_none_or(|m| m.label != label) {
            *slot = Some(RouteMetrics {
                label,
                duration: metrics::histogram!("http_request_duration_seconds", "route" => label),
                requests: Vec::new(),
            });
        }
        let Some(m) = slot else { return };
        m.duration.record(elapsed.as_secs_f64());
        match m
            .requests
            .iter()
            .find(|(me, st, _)| *st == status && me == method)
        {
            Some((_, _, c)) => c.increment(1),
            None => {
                let c = metrics::counter!("http_requests_total", "route" => label, "method" => method.as_str().to_owned(), "status" => status.to_string());
                c.increment(1);
                m.requests.push((method.clone(), status, c));
            }
        }
    });
}

/// The method as a label: the standard ones, else `OTHER`.
fn method_label(m: &Method) -> Method {
    match *m {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS
        | Method::PATCH => m.clone(),
        _ => Method::from_bytes(b"OTHER").unwrap_or_default(),
    }
}

/// The route [`EdgeConfig::fast_lookup`] answers.
const LOOKUP: &str = "/api/v1/lookup";

fn rate_limited_path(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/open311/")
}

impl<B> Service<axum::http::Request<B>> for Edge
where
    B: HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The router is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: axum::http::Request<B>) -> EdgeFuture {
        let start = Instant::now();
        let mut req: Request = req.map(Body::new);
        let config = &self.config;
        let path = req.uri().path();
        let route = config.routes.index(path);
        let method = method_label(req.method());
        if let Some(limiter) = &config.limiter {
            let peer = req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| a.ip());
            if let (true, Some(peer)) = (rate_limited_path(path), peer) {
                if let Err(wait) = limiter.check(peer) {
                    return EdgeFuture::done(
                        super::ratelimit::too_many(wait),
                        start,
                        route,
                        method,
                        config.clone(),
                    );
                }
            }
        }
        // The hottest route: answered here when it can be at once (no `at=`), in the same
        // handler code as through the router, which would only add its own cost.
        if self.lookup_route == Some(route) && method == Method::GET {
            if let Some(answer) =
                super::lookup::lookup_now(&config.state, req.uri().query().unwrap_or(""))
            {
                return EdgeFuture::done(
                    answer.into_response(),
                    start,
                    route,
                    method,
                    config.clone(),
                );
            }
        }
        // GET and HEAD carry no body to limit (and each extension costs an insert).
        if matches!(*req.method(), Method::GET | Method::HEAD) {
            let fut = self.router.call(req);
            return EdgeFuture::routed(fut, None, start, route, method, config.clone());
        }
        let policy = config.routes.policy(route, req.method());
        let label = config.routes.label(route);
        // Refused on its headers: the body is never read.
        if let Some(len) = content_length(&req) {
            if len > policy.body_limit as u64 {
                let e = ApiError::too_large(format!(
                    "the body of {} {label} may be at most {} bytes; Content-Length says {len}",
                    req.method(),
                    policy.body_limit
                ))
                .with_extra(serde_json::json!({"limit_bytes": policy.body_limit}));
                let mut resp = e.into_response();
                refuse_unread(req, &mut resp);
                return EdgeFuture::done(resp, start, route, method, config.clone());
            }
        }
        DefaultBodyLimit::max(policy.body_limit).apply(&mut req);
        req.extensions_mut()
            .insert(Deadline(start + config.timeout));
        let cut = Arc::new(AtomicU8::new(CUT_NONE));
        let req = req.map(|b| {
            Body::new(GuardedBody {
                inner: b,
                limit: policy.body_limit,
                read: 0,
                idle: config.body_idle_timeout,
                sleep: None,
                armed: false,
                cut: cut.clone(),
            })
        });
        if !policy.roles.is_empty() {
            // The token first, on the headers alone; the router is called once it is verified.
            let state = config.state.clone();
            let headers = req.headers().clone();
            let roles = policy.roles;
            let check =
                Box::pin(async move { super::auth::require_any(&state, &headers, roles).await });
            return EdgeFuture {
                inner: None,
                auth: Some(Box::new(AuthStage {
                    check,
                    req: Some(req),
                    router: self.router.clone(),
                })),
                early: None,
                sleep: None,
                cut: Some(cut),
                start,
                route,
                method,
                config: config.clone(),
            };
        }
        let fut = self.router.call(req);
        EdgeFuture::routed(fut, Some(cut), start, route, method, config.clone())
    }
}

/// Most bytes of a refused request's body read (and dropped) after the answer, so that a client
/// still sending a small body reads the answer instead of a connection reset.
const DRAIN_BYTES: u64 = 1 << 20;
/// Longest such a body is read.
const DRAIN_TIME: Duration = Duration::from_secs(2);

/// A request refused before its body was read: a small body (a known length up to
/// [`DRAIN_BYTES`]) is read and dropped in the background, off the answer's path, so the
/// connection stays usable; any other is never read and the answer closes the connection
/// (`Connection: close`), so no client sends its next request after a body the server skipped.
fn refuse_unread(req: Request, resp: &mut Response) {
    if content_length(&req).is_some_and(|n| n <= DRAIN_BYTES) {
        drain(req.into_body());
    } else {
        resp.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
}

/// Reads and drops up to [`DRAIN_BYTES`] of `body` for at most [`DRAIN_TIME`], in the background.
fn drain<B>(mut body: B)
where
    B: HttpBody<Data = Bytes> + Unpin + Send + 'static,
{
    tokio::spawn(async move {
        let read_some = async {
            let mut read = 0u64;
            while let Some(Ok(frame)) =
                std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
            {
                read += frame.data_ref().map_or(0, |d| d.len() as u64);
                if read > DRAIN_BYTES {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(DRAIN_TIME, read_some).await;
    });
}

/// The `Content-Length` of a request, if it has a valid one.
fn content_length<B>(req: &axum::http::Request<B>) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

const CUT_NONE: u8 = 0;
const CUT_TOO_LARGE: u8 = 1;
const CUT_IDLE: u8 = 2;

/// A request body as the edge passes it on: counted against the route's limit, and cut when
/// nothing arrives for `idle` while its reader waits.
struct GuardedBody<B> {
    inner: B,
    limit: usize,
    read: usize,
    idle: Duration,
    /// The body-idle timer, created on the first wait and reset on each later one.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Whether the timer runs for the current wait (a frame disarms it).
    armed: bool,
    /// Set when the body is cut, for the edge to answer 413 / 408.
    cut: Arc<AtomicU8>,
}

impl<B> HttpBody for GuardedBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin + Default + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                this.armed = false;
                if let Some(data) = frame.data_ref() {
                    this.read = this.read.saturating_add(data.len());
                    if this.read > this.limit {
                        this.cut.store(CUT_TOO_LARGE, Ordering::Relaxed);
                        // What the client still sends is read and dropped for a while (a
                        // lingering close): it reads the 413 instead of a reset.
                        drain(std::mem::take(&mut this.inner));
                        return Poll::Ready(Some(Err(Box::new(BodyCut {
                            status: StatusCode::PAYLOAD_TOO_LARGE,
                            detail: format!(
                                "the request body exceeds the limit of {} bytes of this route",
                                this.limit
                            ),
                        }))));
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => {
                let deadline = tokio::time::Instant::now() + this.idle;
                let sleep = match &mut this.sleep {
                    Some(s) => {
                        if !this.armed {
                            s.as_mut().reset(deadline);
                        }
                        s
                    }
                    None => this
                        .sleep
                        .insert(Box::pin(tokio::time::sleep_until(deadline))),
                };
                this.armed = true;
                if sleep.as_mut().poll(cx).is_ready() {
                    this.cut.store(CUT_IDLE, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(Box::new(BodyCut {
                        status: StatusCode::REQUEST_TIMEOUT,
                        detail: format!(
                            "the request body sent nothing for {} s (the body-idle timeout)",
                            this.idle.as_secs_f64()
                        ),
                    }))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The token check of a route needing a role, before the router is called.
struct AuthStage {
    check: Pin<Box<dyn Future<Output = Result<Caller, ApiError>> + Send>>,
    req: Option<Request>,
    router: Router,
}

type RouterFuture = <Router as Service<Request>>::Future;

/// The future of one request through the [`Edge`].
pub struct EdgeFuture {
    inner: Option<RouterFuture>,
    /// The token check, when the route needs a role (before `inner` exists).
    auth: Option<Box<AuthStage>>,
    /// An answer given without calling the router (rate limited, body too large).
    early: Option<Response>,
    /// Armed when the router's future is first pending.
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Set by the request body when the edge cuts it (413 / 408).
    cut: Option<Arc<AtomicU8>>,
    start: Instant,
    route: usize,
    method: Method,
    config: Arc<EdgeConfig>,
}

impl EdgeFuture {
    fn done(
        resp: Response,
        start: Instant,
        route: usize,
        method: Method,
        config: Arc<EdgeConfig>,
    ) -> EdgeFuture {
        EdgeFuture {
            inner: None,
            auth: None,
            early: Some(resp),
            sleep: None,
            cut: None,
            start,
            route,
            method,
            config,
        }
    }

    fn routed(
        fut: RouterFuture,
        cut: Option<Arc<AtomicU8>>,
        start: Instant,
        route: usize,
        method: Method,
        config: Arc<EdgeConfig>,
    ) -> EdgeFuture {
        EdgeFuture {
            inner: Some(fut),
            auth: None,
            early: None,
            sleep: None,
            cut,
            start,
            route,
            method,
            config,
        }
    }

    fn finish(&mut self, mut resp: Response) -> Poll<Result<Response, Infallible>> {
        // A body the edge cut: the handler saw a read error; the answer names the cut.
        let cut = self
            .cut
            .as_ref()
            .map_or(CUT_NONE, |c| c.load(Ordering::Relaxed));
        if cut != CUT_NONE && !resp.status().is_success() {
            let limit = self
                .config
                .routes
                .policy(self.route, &self.method)
                .body_limit;
            let label = self.config.routes.label(self.route);
            resp = if cut == CUT_TOO_LARGE {
                ApiError::too_large(format!(
                    "the body of {} {label} exceeds its limit of {limit} bytes",
                    self.method
                ))
                .with_extra(serde_json::json!({"limit_bytes": limit}))
            } else {
                request_timeout(format!(
                    "the body of {} {label} sent nothing for {} s (the body-idle timeout)",
                    self.method,
                    self.config.body_idle_timeout.as_secs_f64()
                ))
            }
            .into_response();
        }
        // No client guesses another type than the one declared (problem+json, GeoJSON, MVT…).
        resp.headers_mut()
            .entry(header::X_CONTENT_TYPE_OPTIONS)
            .or_insert(axum::http::HeaderValue::from_static("nosniff"));
        let label = self.config.routes.label(self.route);
        record(
            label,
            self.route,
            &self.method,
            resp.status().as_u16(),
            self.start.elapsed(),
        );
        Poll::Ready(Ok(resp))
    }
}

impl Future for EdgeFuture {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Every field is Unpin (the router's future is boxed by axum, the timer boxed here).
        let this = self.get_mut();
        if let Some(resp) = this.early.take() {
            return this.finish(resp);
        }
        if let Some(stage) = this.auth.as_mut() {
            match stage.check.as_mut().poll(cx) {
                Poll::Ready(Ok(caller)) => {
                    let Some(mut req) = stage.req.take() else {
                        this.auth = None;
                        return this.finish(
                            ApiError::internal(anyhow::anyhow!("request checked twice"))
                                .into_response(),
                        );
                    };
                    req.extensions_mut().insert(caller);
                    this.inner = Some(stage.router.call(req));
                    this.auth = None;
                }
                Poll::Ready(Err(e)) => {
                    let mut resp = e.into_response();
                    if let Some(req) = stage.req.take() {
                        refuse_unread(req, &mut resp);
                    }
                    this.auth = None;
                    return this.finish(resp);
                }
                Poll::Pending => return this.poll_timeout(cx),
            }
        }
        let Some(inner) = this.inner.as_mut() else {
            // Polled after completion: the contract says this may not happen; answer anyway.
            return Poll::Ready(Ok(ApiError::internal(anyhow::anyhow!(
                "request future polled after completion"
            ))
            .into_response()));
        };
        if let Poll::Ready(result) = Pin::new(inner).poll(cx) {
            this.inner = None;
            let resp = match result {
                Ok(resp) => resp,
                Err(never) => match never {},
            };
            return this.finish(resp);
        }
        this.poll_timeout(cx)
    }
}

impl EdgeFuture {
    /// The request is pending: answers 503 once its time is up.
    fn poll_timeout(&mut self, cx: &mut Context<'_>) -> Poll<Result<Response, Infallible>> {
        let deadline = tokio::time::Instant::from_std(self.start + self.config.timeout);
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if sleep.as_mut().poll(cx).is_ready() {
            self.inner = None;
            self.auth = None;
            let resp = ApiError::unavailable(
                "the request took longer than the configured request timeout",
            )
            .into_response();
            return self.finish(resp);
        }
        Poll::Pending
    }
}

impl<L> Service<axum::serve::IncomingStream<'_, L>> for Edge
where
    L: axum::serve::Listener,
{
    type Response = Edge;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Edge, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _conn: axum::serve::IncomingStream<'_, L>) -> Self::Future {
        std::future::ready(Ok(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_templates_label_paths_and_unknown_paths_are_unmatched() {
        let t = RouteTable::new(vec![
            "/api/v1/lookup",
            "/api/v1/areas/{code}",
            "/api/v1/{*rest}",
            "/",
            "/{*path}",
        ]);
        let label = |p: &str| t.label(t.index(p));
        assert_eq!(label("/api/v1/lookup"), "/api/v1/lookup");
        assert_eq!(label("/api/v1/areas/310116101"), "/api/v1/areas/{code}");
        assert_eq!(label("/api/v1/nope/at/all"), "/api/v1/{*rest}");
        assert_eq!(label("/"), "/");
        assert_eq!(label("/app.js"), "/{*path}");
        let small = RouteTable::new(vec!["/healthz"]);
        assert_eq!(small.label(small.index("/elsewhere")), "unmatched");
    }

    /// The fast path answers `GET /api/v1/lookup` exactly as the routed handler does: bytes,
    /// status and headers, for points inside, near, outside, in other CRSs and for bad
    /// parameters; `at=` and other methods still reach the router.
    #[tokio::test]
    async fn the_lookup_fast_path_answers_as_the_router_does() {
        use tower::ServiceExt;
        let set = crate::geo_io::read_path(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/demo-district.geojson"
        )))
        .expect("demo fixture");
        let atlas = crate::atlas::Atlas::build(set).with_generation(3);
        let state = super::super::AppState::new(atlas, super::super::ServeConfig::default());
        let fast = super::super::router_with(state.clone(), true);
        let routed = super::super::router_with(state, false);
        assert!(fast.lookup_route.is_some() && routed.lookup_route.is_none());
        let mut queries: Vec<String> = Vec::new();
        for i in 0..200 {
            let lon = 120.95 + 0.0025 * f64::from(i);
            let lat = 30.70 + 0.0011 * f64::from(i);
            queries.push(format!("lon={lon}&lat={lat}"));
        }
        queries.extend(
            [
                "lon=121.2&lat=30.85&crs=gcj02",
                "lon=121.2&lat=30.85&crs=bd09",
                "lon=121.2",
                "lon=abc&lat=30.8",
                "lon=121.2&lat=95",
                "lon=121.2&lat=30.8&crs=utm",
                "lon=121.2&lat=30.8&at=1",
                "",
            ]
            .map(String::from),
        );
        let call = |app: Edge, method: Method, q: &str| {
            let req = axum::http::Request::builder()
                .method(method)
                .uri(format!("/api/v1/lookup?{q}"))
                .body(Body::empty())
                .expect("request");
            async move {
                let resp = app.oneshot(req).await.expect("infallible");
                let status = resp.status();
                let ctype = resp.headers().get("content-type").cloned();
                let body = axum::body::to_bytes(resp.into_body(), usize::MAX)
                    .await
                    .expect("body");
                (status, ctype, body)
            }
        };
        for q in &queries {
            let a = call(fast.clone(), Method::GET, q).await;
            let b = call(routed.clone(), Method::GET, q).await;
            assert_eq!(a, b, "{q}");
        }
        // `at=` without a store is the router's 503; POST is the batch handler's 415.
        let at = call(fast.clone(), Method::GET, "lon=121.2&lat=30.8&at=1").await;
        assert_eq!(at.0, axum::http::StatusCode::SERVICE_UNAVAILABLE);
        let post = call(fast.clone(), Method::POST, "").await;
        assert_eq!(post.0, axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let ok = call(fast, Method::GET, "lon=121.2&lat=30.85").await;
        assert_eq!(ok.0, axum::http::StatusCode::OK);
        assert!(
            std::str::from_utf8(&ok.2)
                .expect("utf-8")
                .contains("\"generation\":3")
        );
    }

    #[test]
    fn only_standard_methods_become_labels() {
        assert_eq!(method_label(&Method::GET), Method::GET);
        let odd = Method::from_bytes(b"BREW").expect("method");
        assert_eq!(method_label(&odd).as_str(), "OTHER");
    }

    #[test]
    fn api_and_open311_are_rate_limited_the_map_is_not() {
        assert!(rate_limited_path("/api/v1/lookup"));
        assert!(rate_limited_path("/open311/v2/services.json"));
        assert!(!rate_limited_path("/app.js"));
        assert!(!rate_limited_path("/healthz"));
    }
}
