//! Prometheus metrics: requests by route and status, a latency histogram per route,
//! and the database pool's use. Kept in-process; `/metrics` renders the text format.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

use super::AppState;

const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        *requests.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        drop(requests);
        let secs = elapsed.as_secs_f64();
        let mut latency = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        let h = latency.entry(route.to_string()).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += secs;
        h.total += 1;
    }

    pub fn render(&self, pool_size: u32, pool_idle: usize, pool_max: u32) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP naskah_http_requests_total HTTP requests by method, route and status.\n# TYPE naskah_http_requests_total counter\n",
        );
        for ((method, route, status), n) in self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(
                out,
                "naskah_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP naskah_http_request_duration_seconds HTTP request latency by route.\n# TYPE naskah_http_request_duration_seconds histogram\n");
        for (route, h) in self.latency.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let route = escape(route);
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "naskah_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "naskah_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                h.total
            );
            let _ = writeln!(out, "naskah_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
            let _ = writeln!(out, "naskah_http_request_duration_seconds_count{{route=\"{route}\"}} {}", h.total);
        }
        let _ = writeln!(
            out,
            "# HELP naskah_db_pool_connections Open database connections.\n# TYPE naskah_db_pool_connections gauge\nnaskah_db_pool_connections {pool_size}"
        );
        let _ = writeln!(
            out,
            "# HELP naskah_db_pool_idle Idle database connections.\n# TYPE naskah_db_pool_idle gauge\nnaskah_db_pool_idle {pool_idle}"
        );
        let _ = writeln!(
            out,
            "# HELP naskah_db_pool_in_use Database connections in use.\n# TYPE naskah_db_pool_in_use gauge\nnaskah_db_pool_in_use {}",
            (pool_size as usize).saturating_sub(pool_idle)
        );
        let _ = writeln!(
            out,
            "# HELP naskah_db_pool_max Largest allowed pool size.\n# TYPE naskah_db_pool_max gauge\nnaskah_db_pool_max {pool_max}"
        );
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Times every request and logs it; the route is the matched pattern, never the raw path,
/// so ids and tokens in paths do not end up in metrics or logs.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "(tidak dikenal)".into());
    let response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    state.metrics.observe(&method, &route, status, elapsed);
    tracing::info!(method, route, status, ms = elapsed.as_secs_f64() * 1000.0, "permintaan");
    response
}
