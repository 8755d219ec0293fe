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
    let started = Instant::now();
    let ready = ops.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.body);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "/readyz took {:?}",
        started.elapsed()
    );
    let page = staff.get("/surat").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(page.body.contains("Basis data sedang tidak dapat dihubungi"), "{}", page.body);
    let answer = api.get("/api/v1/me").await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE, "{}", answer.body);
    assert_eq!(answer.json()["error"]["code"], "unavailable", "{}", answer.body);

    // Back without a restart: the pool connects again by itself.
    proxy.restore();
    let (took, ready) = until(&mut ops, "/readyz", StatusCode::OK, Duration::from_secs(15)).await;
    assert_eq!(ready.status, StatusCode::OK, "not ready {took:?} after the database came back");
    assert_eq!(staff.get("/surat").await.status, StatusCode::OK, "the session survived");
    assert_eq!(api.get("/api/v1/me").await.status, StatusCode::OK);

    // A database host that stops answering: /readyz still answers within a second, a
    // page once the pool gives up waiting for a connection.
    proxy.cut(true);
    let started = Instant::now();
    let ready = ops.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "{}", ready.body);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "/readyz took {:?}",
        started.elapsed()
    );
    let page = staff.get("/surat").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    proxy.restore();
    let (took, ready) = until(&mut ops, "/readyz", StatusCode::OK, Duration::from_secs(15)).await;
    assert_eq!(ready.status, StatusCode::OK, "not ready {took:?} after the host answered again");
    assert_eq!(staff.get("/surat").await.status, StatusCode::OK);
}
