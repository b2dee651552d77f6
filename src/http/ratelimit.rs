//! Per-client rate limiting of the API (`429 Too Many Requests`, problem+json, `Retry-After`).
//!
//! 1. Each client gets a token bucket (GCRA, the `governor` crate): `per_second` requests per
//!    second sustained, bursts of up to `burst`. A client is its IP address; IPv6 clients by
//!    their /64 prefix (one host usually has a whole /64 to pick addresses from).
//! 2. Peers on loopback are not limited unless `loopback` is set: on loopback every client is the
//!    same machine — a reverse proxy in front of gridatlas (all of whose users would share one
//!    bucket; the proxy sees their real addresses and is where to limit them), a benchmark, or an
//!    operator's tool.
//! 3. A request over the limit is answered at once with 429, `Retry-After` (whole seconds, at
//!    least 1) and a `retry_after_ms` member; it never reaches the handler.
//! 4. Buckets of clients not seen for a while are dropped every few thousand requests, so the
//!    table stays as large as the set of recently active clients.
//!
//! The check runs in [`super::edge`], before routing. The client address comes from axum's
//! `ConnectInfo<SocketAddr>`, which `gridatlas serve` ([`super::serve::serve`]) provides; a router
//! served without it (e.g. `axum::serve(listener, router(state))` in a test) cannot tell clients
//! apart and limits nobody.

use super::error::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The rate limit of a server (`gridatlas serve --rate-limit-rps … --rate-limit-burst …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second per client, sustained.
    pub per_second: NonZeroU32,
    /// Most requests a client may make at once (the bucket's size).
    pub burst: NonZeroU32,
    /// Limit loopback peers too (off by default: see the module documentation).
    pub loopback: bool,
}

impl Default for RateLimit {
    /// 200 requests/s per client with bursts of 400 (a web map loading a screenful of tiles at
    /// once stays well within it); loopback exempt.
    fn default() -> Self {
        RateLimit {
            per_second: NonZeroU32::new(200).unwrap_or(NonZeroU32::MIN),
            burst: NonZeroU32::new(400).unwrap_or(NonZeroU32::MIN),
            loopback: false,
        }
    }
}

type Keyed =
    RateLimiter<IpAddr, governor::state::keyed::DefaultKeyedStateStore<IpAddr>, DefaultClock>;

/// The buckets of all clients; cheap to clone.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<(Keyed, AtomicU64)>,
    loopback: bool,
}

impl Limiter {
    /// A limiter enforcing `limit`.
    pub fn new(limit: RateLimit) -> Limiter {
        let quota = Quota::per_second(limit.per_second).allow_burst(limit.burst);
        Limiter {
            inner: Arc::new((RateLimiter::keyed(quota), AtomicU64::new(0))),
            loopback: limit.loopback,
        }
    }

    /// `Ok` if a request of `peer` may pass now, else how long until it may.
    pub fn check(&self, peer: IpAddr) -> Result<(), std::time::Duration> {
        let key = client_key(peer);
        if key.is_loopback() && !self.loopback {
            return Ok(());
        }
        let (limiter, count) = &*self.inner;
        if count.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        limiter
            .check_key(&key)
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }
}

/// The bucket key of a peer: its IPv4 address, or the /64 prefix of its IPv6 address (an
/// IPv4-mapped IPv6 address counts as the IPv4 address).
fn client_key(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The answer to a request over the limit: 429 with `Retry-After`.
pub(crate) fn too_many(wait: std::time::Duration) -> Response {
    let ms = wait.as_millis().max(1);
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut resp = ApiError::rate_limited(format!(
        "too many requests from this client; retry after {secs} s (the limit is per client address, see `--rate-limit-rps` and `--rate-limit-burst`)"
    ))
    .with_extra(serde_json::json!({"retry_after_ms": ms as u64}))
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).expect("non-zero")
    }

    #[test]
    fn burst_then_refused_with_a_wait_loopback_exempt_by_default() {
        let l = Limiter::new(RateLimit {
            per_second: nz(1),
            burst: nz(3),
            loopback: false,
        });
        let a: IpAddr = "192.0.2.7".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(l.check(a), Ok(()));
        }
        let wait = l.check(a).expect_err("fourth request refused");
        assert!(wait > std::time::Duration::ZERO && wait <= std::time::Duration::from_secs(1));
        // Another client has its own bucket; loopback is not limited.
        assert_eq!(l.check("192.0.2.8".parse().expect("ip")), Ok(()));
        for _ in 0..100 {
            assert_eq!(l.check(IpAddr::from([127, 0, 0, 1])), Ok(()));
        }
    }

    #[test]
    fn ipv6_clients_share_their_64_and_loopback_can_be_limited() {
        let l = Limiter::new(RateLimit {
            per_second: nz(1),
            burst: nz(1),
            loopback: true,
        });
        assert_eq!(l.check("2001:db8:1:2::1".parse().expect("ip")), Ok(()));
        assert!(l.check("2001:db8:1:2::ffff".parse().expect("ip")).is_err());
        assert_eq!(l.check("2001:db8:1:3::1".parse().expect("ip")), Ok(()));
        assert_eq!(l.check(IpAddr::from([127, 0, 0, 1])), Ok(()));
        assert!(l.check(IpAddr::from([127, 0, 0, 1])).is_err());
        // An IPv4-mapped address is its IPv4 client.
        assert_eq!(l.check("198.51.100.1".parse().expect("ip")), Ok(()));
        assert!(l.check("::ffff:198.51.100.1".parse().expect("ip")).is_err());
    }
}
