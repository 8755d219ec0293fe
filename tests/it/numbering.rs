//! Numbers at signature: 200 concurrent signings on SQLite, on PostgreSQL, and through two
//! service processes sharing one PostgreSQL: no number twice, no silent gap, every
//! serial a signed letter whose final PDF is stored with its hash.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use naskah::{
    accounts,
    audit::Actor,
    db::Db,
    numbering,
    workflow::{self, Decision, statement::sha256_hex},
};

use crate::{
    support::{self, DEMO_PASSPHRASE},
    workflow::{Demo, PASSPHRASE, demo, drafted_and_typed, request},
};

const LETTERS: usize = 200;

/// `n` letters initialled by the Kepala Bidang and the Sekretaris, waiting for the
/// Kepala Dinas' signature.
pub async fn waiting_for_signature(d: &Demo, n: usize, passphrase: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(drafted_and_typed(d, &format!("Konfirmasi desa {i:03}")).await.id);
    }
    let batch: Vec<(i64, i64)> = ids.iter().map(|id| (*id, 1)).collect();
    for approver in ["kabid", "sekdis"] {
        let user = d.user(approver).await;
        let results = naskah::cases::bulk::run(&d.flow, &user, &batch, Decision::Paraf, false, passphrase)
            .await
            .unwrap();
        assert!(results.failed.is_empty());
    }
    ids
}

/// The register holds exactly the signed letters: serials 1..=n once each, numbers
/// unique, each the number its letter carries, each letter's final PDF stored with its
/// hash.
pub async fn assert_register_complete(db: &Db, department_id: i64, ids: &[i64], label: &str) {
    let entries = numbering::register(db, department_id, None).await.unwrap();
    assert_eq!(entries.len(), ids.len(), "{label}");
    let serials: Vec<i64> = entries.iter().map(|e| e.serial).collect();
    assert!(
        numbering::gaps(&serials).is_empty(),
        "{label}: gaps {:?}",
        numbering::gaps(&serials)
    );
    assert_eq!(*serials.iter().max().unwrap(), ids.len() as i64, "{label}");
    let mut numbers: Vec<&str> = entries.iter().map(|e| e.number.as_str()).collect();
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), ids.len(), "{label}: a number issued twice");
    for e in &entries {
        assert_eq!(e.status, "terbit");
        let letter = workflow::get(db, department_id, e.letter_id.unwrap()).await.unwrap();
        assert_eq!(letter.number.as_deref(), Some(e.number.as_str()), "{label}");
        assert_eq!(letter.state, workflow::state::DITANDATANGANI);
        let pdf = workflow::final_pdf(db, letter.id).await.unwrap().unwrap();
        assert_eq!(letter.final_sha256.as_deref(), Some(sha256_hex(&pdf).as_str()), "{label}");
        assert!(
            e.number.starts_with("500.15.16/") && e.number.ends_with(&format!("/{}", &e.letter_date[..4])),
            "{}",
            e.number
        );
    }
}

story! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_hundred_concurrent_signings_leave_no_duplicate_and_no_gap(test_db: support::TestDb) {
        let label = test_db.label;
        let d = demo(&test_db).await;
        let ids = waiting_for_signature(&d, LETTERS, PASSPHRASE).await;
        let kadis = d.user("kadis").await;
        let key = Arc::new(d.flow.unlock(&kadis, PASSPHRASE).await.unwrap());
        let flow = Arc::new(d.flow.clone());
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for id in ids.clone() {
            let (flow, key, kadis) = (flow.clone(), key.clone(), kadis.clone());
            tasks.spawn(async move { flow.decide_with_key(&kadis, id, &request(Decision::TandaTangan, 1), &key).await });
        }
        while let Some(joined) = tasks.join_next().await {
            let signed = joined.unwrap().unwrap_or_else(|e| panic!("{label}: a signing failed: {e}"));
            assert!(signed.number.is_some());
        }
        eprintln!("{label}: {LETTERS} concurrent signings in {:?}", started.elapsed());
        assert_register_complete(&d.flow.db, d.department_id, &ids, label).await;

        // The number of a signed letter cannot be cancelled: the letter is revoked
        // instead ("Cabut surat"), and the register is left as it was.
        let entries = numbering::register(&d.flow.db, d.department_id, None).await.unwrap();
        let actor = Actor::System("test");
        let refused = numbering::cancel(&d.flow.db, &actor, d.department_id, entries[7].id, "Surat ditarik sebelum dikirim").await;
        assert!(
            matches!(&refused, Err(numbering::Error::Conflict(m)) if m.contains("Cabut surat")),
            "{label}: {refused:?}"
        );
        let missing = numbering::cancel(&d.flow.db, &actor, d.department_id, i64::MAX, "Surat ditarik sebelum dikirim").await;
        assert!(matches!(missing, Err(numbering::Error::NotFound)), "{label}: {missing:?}");
        assert_register_complete(&d.flow.db, d.department_id, &ids, label).await;
    }
}

/// One `naskah serve` process on the given database, stopped when dropped.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// Its key folder: stays empty, the keys are in the database.
    pub keys_dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `naskah serve` process over the database, with the tests' master key and a key
/// folder of its own that stays empty: nothing it signs with is on its disk.
pub fn start_server(database_url: &str, work: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    start_server_with(database_url, work, port, &[])
}

/// [`start_server`] on a given port with more settings; its key folder is returned in
/// [`Server::keys_dir`].
pub fn start_server_with(database_url: &str, work: &std::path::Path, port: u16, settings: &[(&str, &str)]) -> Server {
    let keys_dir = work.join(format!("kunci-node-{}", naskah::accounts::random_token()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_naskah"));
    for (key, _) in std::env::vars() {
        if key.starts_with("NASKAH_") {
            cmd.env_remove(key);
        }
    }
    let child = cmd
        .current_dir(work)
        .arg("serve")
        .env("NASKAH_DATABASE_URL", database_url)
        .env("NASKAH_KEYS_DIR", &keys_dir)
        .env("NASKAH_MASTER_KEY", support::TEST_MASTER_KEY)
        .env("NASKAH_LISTEN", format!("127.0.0.1:{port}"))
        .env("NASKAH_LOG_LEVEL", "warn")
        .env("NASKAH_TEMPLATES_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/letter_templates"))
        .envs(settings.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{base}/healthz")).call().is_err() {
        assert!(Instant::now() < deadline, "naskah serve did not come up at {base}");
        std::thread::sleep(Duration::from_millis(100));
    }
    Server { child, base, keys_dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_service_processes_on_one_postgres_never_issue_a_number_twice() {
    let Some((url, _guard)) = support::postgres_empty().await else {
        return;
    };
    let db = Db::open(&url, 5).await.unwrap();
    let d = Demo::seeded(&db).await;
    let ids = waiting_for_signature(&d, LETTERS, DEMO_PASSPHRASE).await;
    let kadis = d.user("kadis").await;
    let token = accounts::create_token(&db, &kadis, "uji dua proses").await.unwrap().secret;

    let work = tempfile::tempdir().unwrap();
    let servers = [start_server(&url, work.path()), start_server(&url, work.path())];
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, id) in ids.iter().copied().enumerate() {
        let base = bases[i % 2].clone();
        let token = token.clone();
        tasks.spawn_blocking(move || {
            let body = serde_json::json!({ "decision": "tanda_tangan", "revision": 1, "passphrase": DEMO_PASSPHRASE });
            let reply = ureq::post(&format!("{base}/api/v1/letters/{id}/decision"))
                .header("Authorization", &format!("Bearer {token}"))
                .config()
                .http_status_as_error(false)
                .build()
                .send_json(&body)
                .unwrap();
            let status = reply.status().as_u16();
            let text = reply.into_body().read_to_string().unwrap();
            (id, status, text)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        let (id, status, text) = joined.unwrap();
        assert_eq!(status, 200, "letter {id}: {text}");
    }
    eprintln!("two processes: {LETTERS} signings in {:?}", started.elapsed());
    drop(servers);
    assert_register_complete(&db, 1, &ids, "two processes").await;
    db.pool.close().await;
}

/// The register pages: the list with its filters, the CSV export with formula cells
/// defused, no cancelling of a signed letter's number, the numbering settings, and choosing
/// a classification code while drafting.
#[tokio::test]
async fn register_and_numbering_pages() {
    use axum::http::StatusCode;
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = Demo::over(&state);
    // One letter whose subject a spreadsheet would run as a formula.
    let plain = drafted_and_typed(&d, "Permohonan data").await;
    let formula = drafted_and_typed(&d, "=HYPERLINK(\"http://contoh\";\"klik\")").await;
    let batch = [(plain.id, 1), (formula.id, 1)];
    for (username, decision) in [
        ("kabid", Decision::Paraf),
        ("sekdis", Decision::Paraf),
        ("kadis", Decision::TandaTangan),
    ] {
        let user = d.user(username).await;
        let results = naskah::cases::bulk::run(&d.flow, &user, &batch, decision, false, DEMO_PASSPHRASE)
            .await
            .unwrap();
        assert!(results.failed.is_empty(), "{results:?}");
    }

    let mut staff = support::logged_in(&state, "kabid").await;
    let page = staff.get("/agenda").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("500.15.16/0001/Disnaker/") && page.body.contains("500.15.16/0002/Disnaker/"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/batal\""), "no cancel link for a Kepala Bidang");
    let filtered = staff.get("/agenda?cari=permohonan").await.body;
    assert!(filtered.contains("0001") && !filtered.contains("0002/Disnaker"), "{filtered}");
    let csv = staff.get("/agenda.csv?tahun=semua").await;
    assert_eq!(csv.headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
    assert!(csv.body.contains("'=HYPERLINK"), "{}", csv.body);
    assert!(
        !csv.body.contains(",=HYPERLINK") && !csv.body.contains("\"=HYPERLINK"),
        "{}",
        csv.body
    );
    let xlsx = staff.get("/agenda.xlsx?tahun=semua").await;
    assert_eq!(
        xlsx.headers.get("content-type").unwrap(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(xlsx.bytes)).unwrap();
    let mut strings = String::new();
    // Written in constant memory: the strings stand in the sheet itself.
    std::io::Read::read_to_string(&mut archive.by_name("xl/worksheets/sheet1.xml").unwrap(), &mut strings).unwrap();
    assert!(
        strings.contains("500.15.16/0002/Disnaker/") && strings.contains("'=HYPERLINK"),
        "{strings}"
    );
    let entries = numbering::register(&state.db, 1, None).await.unwrap();
    assert_eq!(
        staff.get(&format!("/agenda/{}/batal", entries[0].id)).await.status,
        StatusCode::FORBIDDEN
    );

    // The agendaris is not offered, and refused, cancelling a signed letter's number.
    let mut agendaris = support::logged_in(&state, "agendaris").await;
    assert!(
        !agendaris.get("/agenda").await.body.contains("/batal\""),
        "signed letters' numbers are not cancellable"
    );
    let form = agendaris.get(&format!("/agenda/{}/batal", entries[0].id)).await;
    assert_eq!(form.status, StatusCode::CONFLICT);
    assert!(form.body.contains("Cabut surat"), "{}", form.body);
    let csrf = agendaris.csrf_of("/agenda").await;
    let refused = agendaris
        .post_form(
            &format!("/agenda/{}/batal", entries[0].id),
            &[("csrf", &csrf), ("reason", "Surat tidak jadi dikirim <karena salah alamat>")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("Cabut surat"), "{}", refused.body);
    let list = agendaris.get("/agenda?status=batal").await.body;
    assert!(list.contains("Belum ada data.") && !list.contains("0001/Disnaker"), "{list}");

    // Numbering settings: a format without the serial is refused; a new one is used by
    // the next signature.
    let settings = agendaris.get("/pengaturan/penomoran").await;
    assert!(settings.body.contains("/0123/Disnaker/2026"), "{}", settings.body);
    let csrf = settings.csrf();
    let bad = agendaris
        .post_form(
            "/pengaturan/penomoran",
            &[
                ("csrf", &csrf),
                ("number_format", "{kode_klasifikasi}/{tahun}"),
                ("number_format_keputusan", "{kode_klasifikasi}/{tahun}"),
                ("number_unit", "Disnaker"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("format nomor harus memuat {urut}"), "{}", bad.body);
    let same = agendaris
        .post_form(
            "/pengaturan/penomoran",
            &[
                ("csrf", &csrf),
                ("number_format", numbering::DEFAULT_FORMAT),
                ("number_format_keputusan", numbering::DEFAULT_FORMAT),
                ("number_unit", "Disnaker"),
            ],
        )
        .await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        same.body.contains("Format keputusan harus berbeda dari format surat"),
        "{}",
        same.body
    );
    let saved = agendaris
        .post_form(
            "/pengaturan/penomoran",
            &[
                ("csrf", &csrf),
                ("number_format", "{kode_klasifikasi}/{urut:03}/{unit}/{bulan_romawi}/{tahun}"),
                ("number_format_keputusan", "{kode_klasifikasi}/{urut:03}/KEP/{unit}/{tahun}"),
                ("number_unit", "DISNAKER"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    // The drafter picks another classification code on the letter page.
    let letter = d
        .flow
        .create(
            &d.user("konseptor").await,
            "surat-dinas",
            &serde_json::json!({ "hal": "Undangan", "penerima": [{ "nama": "Camat Penajam" }], "isi": "Mohon hadir." }),
            "",
        )
        .await
        .unwrap();
    assert_eq!(letter.classification_code, "", "the general letter has no default code");
    let mut drafter = support::logged_in(&state, "konseptor").await;
    let view = drafter.get(&format!("/surat/{}", letter.id)).await;
    assert!(view.body.contains("name=\"kode_klasifikasi\""));
    let csrf = view.csrf();
    let version = letter.version.to_string();
    let unknown = drafter
        .post_form(
            &format!("/surat/{}/klasifikasi", letter.id),
            &[("csrf", &csrf), ("versi", &version), ("kode_klasifikasi", "999.9")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("Pilih kode klasifikasi dari daftar dinas."));
    let chosen = drafter
        .post_form(
            &format!("/surat/{}/klasifikasi", letter.id),
            &[("csrf", &csrf), ("versi", &version), ("kode_klasifikasi", "500.15")],
        )
        .await;
    assert_eq!(chosen.status, StatusCode::SEE_OTHER, "{}", chosen.body);
    let letter = workflow::get(&state.db, 1, letter.id).await.unwrap();
    assert_eq!(letter.classification_code, "500.15");
    let letter = d.flow.submit(&d.user("konseptor").await, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    for (username, decision) in [
        ("kabid", Decision::Paraf),
        ("sekdis", Decision::Paraf),
        ("kadis", Decision::TandaTangan),
    ] {
        d.flow
            .decide(&d.user(username).await, letter.id, &request(decision, 1), DEMO_PASSPHRASE)
            .await
            .unwrap();
    }
    let letter = workflow::get(&state.db, 1, letter.id).await.unwrap();
    let number = letter.number.unwrap();
    assert!(
        number.starts_with("500.15/003/DISNAKER/") && number.contains(&format!("/{}/", roman_month(&letter.letter_date.unwrap()))),
        "{number}"
    );
}

fn roman_month(date: &str) -> &'static str {
    let month: usize = date[5..7].parse().unwrap();
    ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"][month - 1]
}
