//! Faults from outside: the database going away under a running service, through a TCP
//! proxy the test cuts (PostgreSQL; SQLite has no network to lose).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use axum::http::StatusCode;
use naskah::{db::Db, demo, web::AppState};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::watch,
};

use crate::support::{self, DEMO_PASSPHRASE, DEMO_PASSWORD};

/// Forwards every connection to `upstream` while open; cutting it drops the live
/// connections and refuses new ones until it is opened again; a silent cut accepts new
/// ones and never answers (a host gone from the network).
struct Proxy {
    addr: SocketAddr,
    open: Arc<AtomicBool>,
    silent: Arc<AtomicBool>,
    cuts: watch::Sender<u64>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let silent = Arc::new(AtomicBool::new(false));
        let (cuts, _) = watch::channel(0u64);
        let (accepting, quiet, cut_signal) = (open.clone(), silent.clone(), cuts.clone());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut client, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    if quiet.load(Ordering::SeqCst) {
                        held.push(client); // kept open, never answered
                    }
                    continue; // else dropped: the connection is refused at once
                }
                let mut cut = cut_signal.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Proxy { addr, open, silent, cuts }
    }

    fn cut(&self, silent: bool) {
        self.silent.store(silent, Ordering::SeqCst);
        self.open.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// Asks `path` until it answers `status`, at most `within`; returns how long it took.
async fn until(client: &mut support::Client, path: &str, status: StatusCode, within: Duration) -> (Duration, support::Reply) {
    let started = Instant::now();
    loop {
        let reply = client.get(path).await;
        if reply.status == status || started.elapsed() > within {
            return (started.elapsed(), reply);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `/readyz` says the service is not ready, within a second.
async fn unready_within_a_second(ops: &mut support::Client) {
    let started = Instant::now();
    let ready = ops.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.body);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "/readyz took {:?}",
        started.elapsed()
    );
}

/// The service is ready again by itself, and the staff session still works.
async fn ready_again(ops: &mut support::Client, staff: &mut support::Client) {
    let (took, ready) = until(ops, "/readyz", StatusCode::OK, Duration::from_secs(15)).await;
    assert_eq!(ready.status, StatusCode::OK, "not ready {took:?} after the database came back");
    assert_eq!(staff.get("/surat").await.status, StatusCode::OK, "the session survived");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_database_is_a_clear_503_and_the_service_recovers() {
    let Some((direct_url, _guard)) = support::postgres_empty().await else {
        return;
    };
    let direct = Db::open(&direct_url, 2).await.unwrap();
    demo::seed(&direct, Some(DEMO_PASSWORD)).await.unwrap();
    let mut url = url::Url::parse(&direct_url).unwrap();
    let upstream: SocketAddr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432))
        .parse()
        .unwrap();
    let proxy = Proxy::start(upstream).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(proxy.addr.port())).unwrap();
    let state = AppState::new(Db::open(url.as_str(), 5).await.unwrap(), support::test_config()).unwrap();
    demo::seed_keys(&state.db, &state.keys, Some(DEMO_PASSPHRASE)).await.unwrap();

    let mut ops = support::Client::new(&state);
    let mut staff = support::logged_in(&state, "kabid").await;
    let mut api = support::api_client(&state, "kabid").await;
    assert_eq!(ops.get("/readyz").await.status, StatusCode::OK);
    assert_eq!(staff.get("/surat").await.status, StatusCode::OK);

    proxy.cut(false);
    unready_within_a_second(&mut ops).await;
    let page = staff.get("/surat").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(page.body.contains("Basis data sedang tidak dapat dihubungi"), "{}", page.body);
    let answer = api.get("/api/v1/me").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.body);
    assert_eq!(answer.json()["error"]["code"], "unavailable", "{}", answer.body);

    // Back without a restart: the pool connects again by itself.
    proxy.restore();
    ready_again(&mut ops, &mut staff).await;
    assert_eq!(api.get("/api/v1/me").await.status, StatusCode::OK);

    // A database host that stops answering: /readyz still answers within a second, a
    // page once the pool gives up waiting for a connection.
    proxy.cut(true);
    unready_within_a_second(&mut ops).await;
    let page = staff.get("/surat").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    proxy.restore();
    ready_again(&mut ops, &mut staff).await;
}

/// One request over a fresh connection; the status line, or what went wrong.
async fn status_line(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = TcpStream::connect(addr).await else {
        return "no connection".into();
    };
    let request = format!("GET {path} HTTP/1.1\r\nHost: naskah\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).await.is_err() {
        return "write refused".into();
    }
    let mut answer = Vec::new();
    match tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await {
        Ok(_) => String::from_utf8_lossy(&answer)
            .lines()
            .next()
            .unwrap_or("closed without an answer")
            .to_string(),
        Err(_) => "no answer in 5 s".into(),
    }
}

/// How long until the server closes `stream` (reads end or fail), at most `within`.
async fn closed_after(mut stream: TcpStream, drip: bool, within: Duration) -> Option<Duration> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let started = Instant::now();
    let mut buffer = [0u8; 256];
    while started.elapsed() < within {
        if drip && stream.write_all(b"X").await.is_err() {
            return Some(started.elapsed());
        }
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            // An answer (a 408, say) before the close: keep reading.
            Ok(Ok(_)) | Err(_) => {}
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_silent_connections_are_closed_while_the_service_answers() {
    use tokio::io::AsyncWriteExt;
    let test_db = support::sqlite().await;
    support::demo_state(&test_db).await;
    let mut config = support::test_config();
    config.http.header_timeout_seconds = 1;
    config.http.request_timeout_seconds = 2;
    config.http.max_connections = 30;
    let state = AppState::new(test_db.db.clone(), config).unwrap();
    let app = support::spawn_app(state).await;
    assert!(status_line(app.addr, "/healthz").await.contains("200"));

    // Thirty silent connections take every slot: one more is closed at once.
    let mut silent = Vec::new();
    for _ in 0..30 {
        silent.push(TcpStream::connect(app.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let extra = TcpStream::connect(app.addr).await.unwrap();
    let refused = closed_after(extra, false, Duration::from_millis(900)).await;
    assert!(refused.is_some(), "a connection over the bound was kept");
    // The silent ones are closed after the header timeout, and the slots free again.
    let closes = futures_join(silent.into_iter().map(|s| closed_after(s, false, Duration::from_secs(5)))).await;
    assert!(closes.iter().all(Option::is_some), "silent connections kept open: {closes:?}");
    assert!(status_line(app.addr, "/healthz").await.contains("200"));

    // Twenty clients dripping a header one byte at a time: closed, while others are served.
    let mut drips = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(b"GET / HTTP/1.1\r\nHost: naskah\r\nX-Pelan: ").await.unwrap();
        drips.push(tokio::spawn(closed_after(stream, true, Duration::from_secs(6))));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        status_line(app.addr, "/healthz").await.contains("200"),
        "the service answers meanwhile"
    );
    for drip in drips {
        let closed = drip.await.unwrap();
        assert!(
            closed.is_some_and(|t| t < Duration::from_secs(4)),
            "a dripping client was kept: {closed:?}"
        );
    }

    // A body dripped after quick headers: the request's own time runs out, 408.
    use tokio::io::AsyncReadExt;
    let mut slow_body = TcpStream::connect(app.addr).await.unwrap();
    slow_body
        .write_all(
            b"POST /masuk HTTP/1.1\r\nHost: naskah\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nu",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut answer = [0u8; 64];
    let read = loop {
        let _ = slow_body.write_all(b"x").await;
        if let Ok(read) = tokio::time::timeout(Duration::from_millis(200), slow_body.read(&mut answer)).await {
            break read.unwrap_or(0);
        }
        assert!(started.elapsed() < Duration::from_secs(6), "no answer to a slow body");
    };
    let status = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(status.starts_with("HTTP/1.1 408"), "{status}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
}

/// Awaits every future, concurrently.
async fn futures_join<F: std::future::Future + Send + 'static>(all: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = all.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// `/metrics` is not the world's: with a token only for its bearer, without one only for
/// a direct request from this machine, never through a proxy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_answer_only_the_token_or_this_machine() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn status(addr: SocketAddr, extra: &str) -> String {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let request = format!("GET /metrics HTTP/1.1\r\nHost: naskah\r\nConnection: close\r\n{extra}\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).lines().next().unwrap_or_default().to_string()
    }
    let test_db = support::sqlite().await;
    support::demo_state(&test_db).await;
    let open = support::spawn_app(AppState::new(test_db.db.clone(), support::test_config()).unwrap()).await;
    assert!(status(open.addr, "").await.contains("200"), "from this machine");
    assert!(
        status(open.addr, "X-Forwarded-For: 203.0.113.9\r\n").await.contains("404"),
        "through a proxy"
    );
    let mut config = support::test_config();
    config.metrics_token = naskah::config::Secret::new("rahasia-pemantauan-panjang");
    let guarded = support::spawn_app(AppState::new(test_db.db.clone(), config).unwrap()).await;
    assert!(status(guarded.addr, "").await.contains("404"));
    assert!(status(guarded.addr, "Authorization: Bearer salah\r\n").await.contains("404"));
    assert!(
        status(guarded.addr, "Authorization: Bearer rahasia-pemantauan-panjang\r\n")
            .await
            .contains("200")
    );
}
