//! Durable background jobs. A bulk signature whose service process is killed mid-job is
//! told as stopped by the next process ("Terhenti pada … belum ditandatangani"), never a
//! 404, and its owner finishes the rest there, with no letter signed twice and no number
//! lost. An import that another process runs shows its progress and no second Impor
//! button; once that process is gone, the import is continued and completes. Each
//! engine has its own test names.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use naskah::{
    audit::Actor,
    beneficiaries::import::{self, Upload},
    db::{Db, now},
    departments, jobs,
};
use sqlx::Any;

use crate::{
    numbering::{assert_register_complete, start_server, waiting_for_signature},
    support::{self, DEMO_PASSPHRASE, DEMO_PASSWORD},
    workflow::Demo,
};

/// Letters in the killed bulk signature: enough that it is still at work when killed.
const LETTERS: usize = 40;

/// A browser-like session against a real `naskah serve`: cookies kept, redirects not
/// followed, every status answered.
pub struct Session {
    agent: ureq::Agent,
    pub base: String,
    cookies: BTreeMap<String, String>,
}

pub struct Answer {
    pub status: u16,
    pub body: String,
    pub location: String,
    /// The node that answered, as the load balancer names it (`X-Node`), if any.
    pub node: String,
}

impl Session {
    pub fn new(base: &str) -> Session {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .proxy(None)
            .timeout_global(Some(Duration::from_secs(60)))
            .build();
        Session {
            agent: ureq::Agent::new_with_config(config),
            base: base.to_string(),
            cookies: BTreeMap::new(),
        }
    }

    pub fn send(&mut self, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let body = form.map(|pairs| {
            (
                "application/x-www-form-urlencoded".to_string(),
                support::encode_form(pairs).into_bytes(),
            )
        });
        self.send_body(path, body)
    }

    /// A GET, or a POST of `body` with its content type.
    pub fn send_body(&mut self, path: &str, body: Option<(String, Vec<u8>)>) -> Answer {
        let url = format!("{}{path}", self.base);
        let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let response = match body {
            None => self.agent.get(&url).header("cookie", &jar.join("; ")).call(),
            Some((content_type, bytes)) => self
                .agent
                .post(&url)
                .header("cookie", &jar.join("; "))
                .header("content-type", &content_type)
                .send(&bytes[..]),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{path}: {e}"));
        for value in response.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || text.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let node = response
            .headers()
            .get("x-node")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Answer {
            node,
            status: response.status().as_u16(),
            body: response.body_mut().read_to_string().unwrap(),
            location,
        }
    }

    pub fn csrf(page: &str) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = page.find(marker).unwrap_or_else(|| panic!("no csrf field: {page}")) + marker.len();
        page[start..].split('"').next().unwrap().to_string()
    }

    /// Starts the bulk signature of `chosen` ("letter:revision") on `/surat/massal`;
    /// returns the job page's path.
    pub fn start_bulk_signature(&mut self, chosen: &[String]) -> String {
        let form = self.send("/surat/massal", None);
        let csrf = Session::csrf(&form.body);
        let mut pairs = vec![
            ("csrf", csrf.as_str()),
            ("keputusan", "tanda_tangan"),
            ("frasa_sandi", DEMO_PASSPHRASE),
        ];
        pairs.extend(chosen.iter().map(|c| ("surat", c.as_str())));
        let started = self.send("/surat/massal", Some(&pairs));
        assert_eq!(started.status, 303, "{}", started.body);
        started.location
    }

    pub fn log_in(&mut self, username: &str) {
        let page = self.send("/masuk", None);
        let csrf = Session::csrf(&page.body);
        let answer = self.send(
            "/masuk",
            Some(&[("csrf", &csrf), ("username", username), ("password", DEMO_PASSWORD)]),
        );
        assert_eq!(answer.status, 303, "login as {username}: {}", answer.body);
    }
}

pub async fn job_row(db: &Db, public_id: &str) -> (String, i64, i64) {
    sqlx::query_as::<Any, (String, i64, i64)>("SELECT state, done, total FROM jobs WHERE public_id = $1")
        .bind(public_id)
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

/// As if the killed process had been silent for longer than a heartbeat allows.
pub async fn time_passes(db: &Db, public_id: &str) {
    sqlx::query("UPDATE jobs SET heartbeat_at = heartbeat_at - $1 WHERE public_id = $2")
        .bind(jobs::STALE_SECONDS + 1)
        .bind(public_id)
        .execute(&db.pool)
        .await
        .unwrap();
}

async fn a_killed_bulk_signature_is_told_and_finished(url: &str, label: &str) {
    let db = Db::open(url, 5).await.unwrap();
    let d = Demo::seeded(&db).await;
    let ids = waiting_for_signature(&d, LETTERS, DEMO_PASSPHRASE).await;
    let work = tempfile::tempdir().unwrap();

    // The Kepala Dinas starts the bulk signature on the first process, which is killed
    // while it is at work.
    let mut first = start_server(url, work.path());
    let base = first.base.clone();
    let chosen: Vec<String> = ids.iter().map(|id| format!("{id}:1")).collect();
    let job_path = tokio::task::spawn_blocking(move || {
        let mut s = Session::new(&base);
        s.log_in("kadis");
        s.start_bulk_signature(&chosen)
    })
    .await
    .unwrap();
    let public_id = job_path.rsplit('/').next().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    while job_row(&db, &public_id).await.1 < 3 {
        assert!(Instant::now() < deadline, "{label}: the job made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let (state, done, total) = job_row(&db, &public_id).await;
    assert_eq!(total, LETTERS as i64);
    assert!(
        state == jobs::RUNNING && done < total,
        "{label}: the job ended ({state}, {done}) before the kill; give it more letters"
    );
    time_passes(&db, &public_id).await;

    // The next process tells what happened, and the owner continues there.
    let second = start_server(url, work.path());
    let base = second.base.clone();
    let finished = tokio::task::spawn_blocking(move || {
        let mut s = Session::new(&base);
        s.log_in("kadis");
        let page = s.send(&job_path, None);
        assert_eq!(page.status, 200, "{}", page.body);
        let told = format!("Terhenti pada {done} dari {total} surat; {} belum ditandatangani.", total - done);
        assert!(page.body.contains(&told), "{}", page.body);
        let csrf = Session::csrf(&page.body);
        // A wrong passphrase continues nothing and says why on the same page.
        let wrong = s.send(
            &format!("{job_path}/lanjutkan"),
            Some(&[("csrf", &csrf), ("frasa_sandi", "bukan frasa sandinya")]),
        );
        assert_eq!(wrong.status, 422, "{}", wrong.body);
        assert!(wrong.body.contains("Frasa sandi salah."), "{}", wrong.body);
        assert!(wrong.body.contains(&told), "{}", wrong.body);
        let resumed = s.send(
            &format!("{job_path}/lanjutkan"),
            Some(&[("csrf", &csrf), ("frasa_sandi", DEMO_PASSPHRASE)]),
        );
        assert_eq!(resumed.status, 303, "{}", resumed.body);
        // Another user of the department does not see the job at all.
        let mut other = Session::new(&s.base);
        other.log_in("sekdis");
        assert_eq!(other.send(&job_path, None).status, 404);
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let page = s.send(&job_path, None);
            if !page.body.contains("Sedang diproses") {
                break page.body;
            }
            assert!(Instant::now() < deadline, "the continued job did not finish: {}", page.body);
            std::thread::sleep(Duration::from_millis(200));
        }
    })
    .await
    .unwrap();
    assert!(
        finished.contains(&format!("Selesai: semua {LETTERS} surat berhasil.")),
        "{label}: {finished}"
    );
    drop(second);
    // Each letter signed once: one signature statement, one number, none lost.
    for id in &ids {
        let signatures: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM letter_statements WHERE letter_id = $1 AND decision = 'tanda_tangan'")
                .bind(id)
                .fetch_one(&db.pool)
                .await
                .unwrap();
        assert_eq!(signatures.0, 1, "{label}: letter {id}");
    }
    assert_register_complete(&db, 1, &ids, label).await;
    db.pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_bulk_signature_is_told_and_finished_sqlite() {
    support::test_cost();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("naskah.sqlite3").display());
    a_killed_bulk_signature_is_told_and_finished(&url, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_bulk_signature_is_told_and_finished_postgres() {
    let Some((url, _guard)) = support::postgres_empty().await else {
        return;
    };
    a_killed_bulk_signature_is_told_and_finished(&url, "postgres").await;
}

/// A job row as another process writes it when it starts importing.
async fn running_elsewhere(db: &Db, department_id: i64, owner_id: i64, import_id: i64, total: i64) -> String {
    let at = now();
    let public_id = format!("lain{import_id}");
    sqlx::query(
        "INSERT INTO jobs (public_id, department_id, kind, owner_id, subject, input, state, total, done, claimed_by, heartbeat_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 3, 'proses-lain:1:0', $9, $9, $9)",
    )
    .bind(&public_id)
    .bind(department_id)
    .bind(jobs::import::KIND)
    .bind(owner_id)
    .bind(format!("impor:{import_id}"))
    .bind(import_id.to_string())
    .bind(jobs::RUNNING)
    .bind(total)
    .bind(at)
    .execute(&db.pool)
    .await
    .unwrap();
    public_id
}

async fn an_import_running_elsewhere_shows_its_progress_then_continues(test_db: support::TestDb) {
    let label = test_db.label;
    let state = support::demo_state(&test_db).await;
    let db = &state.db;
    let department = departments::list(db).await.unwrap().remove(0);
    let staff = naskah::accounts::find_by_username(db, "staf").await.unwrap().unwrap();
    let checked = import::check(
        db,
        &Actor::System("uji"),
        &department,
        Upload {
            file_name: "p3ke.csv",
            content: naskah::beneficiaries::import::Content::Bytes(include_bytes!("../data/candidates/p3ke.csv")),
            source: "",
            mapping: None,
        },
    )
    .await
    .unwrap();
    let public_id = running_elsewhere(db, department.id, staff.id, checked.id, checked.rows_valid).await;
    let page_path = format!("/calon/impor/{}", checked.id);
    let mut client = support::logged_in(&state, "staf").await;

    let page = client.get(&page_path).await;
    assert!(
        page.body.contains(&format!("Mengimpor 3 dari {} baris", checked.rows_valid)),
        "{label}: {}",
        page.body
    );
    assert!(!page.body.contains("id=\"impor\""), "{label}: no second Impor button");
    // Posting anyway starts nothing: the running job is the one.
    let csrf = page.csrf();
    let again = client.post_form(&format!("{page_path}/impor"), &[("csrf", &csrf)]).await;
    assert_eq!(again.status.as_u16(), 303, "{label}: {}", again.body);
    let rows: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM jobs").fetch_one(&db.pool).await.unwrap();
    assert_eq!(rows.0, 1, "{label}");
    assert_eq!(import::get(db, department.id, checked.id).await.unwrap().status, "checked");
    // Cancelling is refused while it runs.
    let cancel = client.post_form(&format!("{page_path}/batal"), &[("csrf", &csrf)]).await;
    assert_eq!(cancel.status.as_u16(), 409, "{label}: {}", cancel.body);

    // The other process is gone: the page says so and the import is continued here.
    time_passes(db, &public_id).await;
    let page = client.get(&page_path).await;
    assert!(page.body.contains("Impor terhenti pada 3 dari"), "{label}: {}", page.body);
    assert!(page.body.contains("id=\"lanjutkan-impor\""), "{label}");
    let resumed = client.post_form(&format!("{page_path}/impor"), &[("csrf", &page.csrf())]).await;
    assert_eq!(resumed.status.as_u16(), 303, "{label}: {}", resumed.body);
    let deadline = Instant::now() + Duration::from_secs(60);
    let job = loop {
        let job = jobs::get(db, department.id, &public_id).await.unwrap().unwrap();
        if job.state != jobs::RUNNING {
            break job;
        }
        assert!(Instant::now() < deadline, "{label}: the continued import did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        import::get(db, department.id, checked.id).await.unwrap().status,
        "imported",
        "{label}"
    );
    assert_eq!(job.state, jobs::DONE, "{label}");
    assert_eq!(job.done, checked.rows_valid, "{label}");
    let page = client.get(&page_path).await;
    assert!(page.body.contains("id=\"hasil-impor\""), "{label}: {}", page.body);
    assert!(!page.body.contains("Impor terhenti"), "{label}");
}

#[tokio::test]
async fn an_import_running_elsewhere_shows_its_progress_then_continues_sqlite() {
    an_import_running_elsewhere_shows_its_progress_then_continues(support::sqlite().await).await;
}

#[tokio::test]
async fn an_import_running_elsewhere_shows_its_progress_then_continues_postgres() {
    if let Some(test_db) = support::postgres().await {
        an_import_running_elsewhere_shows_its_progress_then_continues(test_db).await;
    }
}
