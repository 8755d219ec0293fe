//! The register (agenda surat keluar) and the public record always agree: for letters in
//! every state (draft, signed, revoked, corrected, amended, superseded then revoked) the
//! use-case query, the Agenda page, its CSV and XLSX exports, `/v/{id}` and
//! `/v/{id}.json` say the same thing, on both engines. The number of a signed letter
//! cannot be cancelled (batal): revocation is the only way, and it is refused below the
//! web layer too. Legacy data (a cancelled number of a signed letter, a revoked or
//! superseded letter still `terbit`) is brought into agreement by the migration.

use axum::http::StatusCode;
use naskah::{audit, numbering, workflow};
use serde_json::{Value, json};

use crate::{
    support::{self, Client, DEMO_PASSPHRASE},
    workflow::Demo,
};

/// Drafts a letter of `template` with `data` and takes it through the whole chain.
/// A letter of `template` with `data` (for the SK, standing for the final list the
/// service fills in), signed.
pub(crate) async fn signed(d: &Demo, template: &str, data: &Value) -> workflow::Letter {
    let konseptor = d.user("konseptor").await;
    let letter = d.flow.create_from_source(&konseptor, template, data, "").await.unwrap();
    typed_and_signed(d, letter, 1).await
}

/// From the drafter through typing and the chain, on `revision`.
async fn typed_and_signed(d: &Demo, letter: workflow::Letter, revision: i64) -> workflow::Letter {
    let letter = d.flow.submit(&d.user("konseptor").await, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    d.through_chain(letter, revision, DEMO_PASSPHRASE).await
}

pub(crate) fn sk_example() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("letter_templates/sk-penerima-bantuan-iuran/contoh.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// What every view says of one letter.
#[derive(Debug, PartialEq, Eq)]
struct Views {
    /// `numbering::register`: status, revocation reason, new number.
    register: Option<(String, String, String)>,
    /// The status cell of the Agenda page.
    page: Option<String>,
    /// status, alasan_cabut, diganti_dengan (and the dates) of each export.
    csv: Option<Vec<String>>,
    xlsx: Option<Vec<String>>,
    /// The status shown on `/v/{id}` and the `status` of `/v/{id}.json`.
    public_html: Option<String>,
    public_json: Option<String>,
}

const PUBLIC_STATES: [&str; 3] = ["SAH", "DICABUT", "DIGANTI"];
/// Export columns compared across CSV and XLSX.
const EXPORT_COLUMNS: [&str; 5] = ["status", "alasan_cabut", "tanggal_cabut", "diganti_dengan", "tanggal_diganti"];

/// The public status a register status must show.
fn public_of(register_status: &str) -> &'static str {
    match register_status {
        "terbit" => "SAH",
        "dicabut" => "DICABUT",
        "diganti" => "DIGANTI",
        other => panic!("no public record for a register line {other}"),
    }
}

/// The exports' rows as header → value maps, keyed by number.
fn csv_rows(bytes: &[u8]) -> Vec<std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| header.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect())
        .collect()
}

fn xlsx_rows(bytes: Vec<u8>) -> Vec<std::collections::HashMap<String, String>> {
    use calamine::Reader;
    let mut workbook: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let range = workbook.worksheet_range("Agenda surat keluar").unwrap();
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    rows.map(|r| header.iter().cloned().zip(r.iter().map(|c| c.to_string())).collect())
        .collect()
}

/// The status cell of the page's row for `number`.
fn page_status(body: &str, number: &str) -> Option<String> {
    let row = body
        .split("<tr>")
        .find(|row| row.contains(&format!("data-label=\"Nomor\">{number}</td>")))?;
    let start = row.find("data-label=\"Status\">")? + "data-label=\"Status\">".len();
    Some(row[start..].split("</td>").next()?.to_string())
}

/// Reads every view of `letter` (as it is now in the database).
async fn views(state: &naskah::web::AppState, staff: &mut Client, anon: &mut Client, letter_id: i64) -> Views {
    let letter = workflow::get(&state.db, 1, letter_id).await.unwrap();
    let entry = numbering::register(&state.db, 1, None)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.letter_id == Some(letter_id));
    let page = staff.get("/agenda?tahun=semua").await;
    assert_eq!(page.status, StatusCode::OK);
    let csv = staff.get("/agenda.csv?tahun=semua").await;
    let xlsx = staff.get("/agenda.xlsx?tahun=semua").await;
    let export = |rows: Vec<std::collections::HashMap<String, String>>| {
        let number = letter.number.clone()?;
        let row = rows.into_iter().find(|r| r["nomor"] == number)?;
        Some(EXPORT_COLUMNS.iter().map(|c| row[*c].clone()).collect::<Vec<_>>())
    };
    let (public_html, public_json) = match &letter.verification_id {
        Some(id) => {
            let html = anon.get(&format!("/v/{id}")).await;
            assert_eq!(html.status, StatusCode::OK);
            let shown: Vec<&str> = PUBLIC_STATES
                .into_iter()
                .filter(|s| html.body.contains(&format!(">{s}<")))
                .collect();
            assert_eq!(shown.len(), 1, "one status on the public page: {shown:?}");
            let json = anon.get(&format!("/v/{id}.json")).await.json();
            (Some(shown[0].to_string()), json["status"].as_str().map(String::from))
        }
        None => (None, None),
    };
    Views {
        register: entry.map(|e| (e.status, e.revoked_reason, e.superseded_by_number)),
        page: letter.number.as_deref().and_then(|n| page_status(&page.body, n)),
        csv: export(csv_rows(&csv.bytes)),
        xlsx: export(xlsx_rows(xlsx.bytes)),
        public_html,
        public_json,
    }
}

/// Asserts that every view of the letter says `expected` (`None`: a draft, nowhere).
async fn assert_agree(
    state: &naskah::web::AppState,
    staff: &mut Client,
    anon: &mut Client,
    label: &str,
    letter_id: i64,
    expected: Option<(&str, &str, &str)>,
) {
    let seen = views(state, staff, anon, letter_id).await;
    let Some((status, reason, new_number)) = expected else {
        assert_eq!(
            seen,
            Views {
                register: None,
                page: None,
                csv: None,
                xlsx: None,
                public_html: None,
                public_json: None,
            },
            "{label}"
        );
        return;
    };
    assert_eq!(
        seen.register,
        Some((status.to_string(), reason.to_string(), new_number.to_string())),
        "{label}"
    );
    let page = seen.page.clone().unwrap_or_else(|| panic!("{label}: not on the Agenda page"));
    assert!(page.starts_with(status), "{label}: page says {page}");
    match status {
        "dicabut" => assert!(page.ends_with(&format!(": {reason}")), "{label}: {page}"),
        "diganti" => assert!(page.starts_with(&format!("diganti dengan {new_number} (")), "{label}: {page}"),
        _ => assert_eq!(page, status, "{label}"),
    }
    let csv = seen.csv.clone().unwrap_or_else(|| panic!("{label}: not in the CSV"));
    assert_eq!(seen.xlsx.as_ref(), Some(&csv), "{label}: the XLSX says what the CSV says");
    assert_eq!(
        (csv[0].as_str(), csv[1].as_str(), csv[3].as_str()),
        (status, reason, new_number),
        "{label}"
    );
    assert_eq!(csv[2].is_empty(), status != "dicabut", "{label}: date of revocation {csv:?}");
    assert_eq!(csv[4].is_empty(), new_number.is_empty(), "{label}: date of replacement {csv:?}");
    assert_eq!(seen.public_html.as_deref(), Some(public_of(status)), "{label}");
    assert_eq!(seen.public_json.as_deref(), Some(public_of(status)), "{label}");
}

story! {
    #[tokio::test]
    async fn register_exports_and_public_record_agree_in_every_state(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let mut agendaris = support::logged_in(&state, "agendaris").await;
        let mut anon = Client::new(&state);
        let data = |hal: &str| json!({ "hal": hal, "batas_waktu": "2026-12-05" });

        let draft = d
            .flow
            .create(&d.user("konseptor").await, "surat-permintaan-data", &data("Masih konsep"), "")
            .await
            .unwrap();
        let valid = signed(&d, "surat-permintaan-data", &data("Tetap berlaku")).await;
        let revoked = signed(&d, "surat-permintaan-data", &data("Akan dicabut")).await;
        let corrected = signed(&d, "surat-permintaan-data", &data("Akan diralat")).await;
        let decree = signed(&d, "sk-penerima-bantuan-iuran", &sk_example()).await;
        for (name, letter) in [
            ("valid", &valid),
            ("revoked", &revoked),
            ("corrected", &corrected),
            ("decree", &decree),
        ] {
            assert_agree(
                &state,
                &mut agendaris,
                &mut anon,
                &format!("{label} {name}"),
                letter.id,
                Some(("terbit", "", "")),
            )
            .await;
        }
        assert_agree(&state, &mut agendaris, &mut anon, &format!("{label} draft"), draft.id, None).await;

        // Cancelling a signed letter's number is refused in the use case, on the page and
        // by a forged form; nothing changes.
        let entries = numbering::register(&state.db, 1, None).await.unwrap();
        assert_eq!(entries.len(), 4, "{label}");
        let page = agendaris.get("/agenda?tahun=semua").await.body;
        assert!(!page.contains("/batal\""), "{label}: no cancel link for signed letters");
        for e in &entries {
            assert!(!e.cancellable());
            let refused = numbering::cancel(&state.db, &audit::Actor::System("test"), 1, e.id, "Surat ditarik sebelum dikirim").await;
            assert!(
                matches!(&refused, Err(numbering::Error::Conflict(m)) if m.contains("Cabut surat")),
                "{label}: {refused:?}"
            );
        }
        let form = agendaris.get(&format!("/agenda/{}/batal", entries[0].id)).await;
        assert_eq!(form.status, StatusCode::CONFLICT, "{label}");
        assert!(
            form.body.contains("Cabut surat") && form.body.contains(&format!("href=\"/surat/{}\"", entries[0].letter_id.unwrap())),
            "{label}: {}",
            form.body
        );
        assert!(!form.body.contains("name=\"reason\""), "{label}: no cancel form");
        let csrf = agendaris.csrf_of("/agenda").await;
        let forged = agendaris
            .post_form(
                &format!("/agenda/{}/batal", entries[0].id),
                &[("csrf", &csrf), ("reason", "Surat ditarik sebelum dikirim")],
            )
            .await;
        assert_eq!(forged.status, StatusCode::CONFLICT, "{label}");
        assert!(forged.body.contains("Cabut surat"), "{label}");
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} after refusals"),
            valid.id,
            Some(("terbit", "", "")),
        )
        .await;

        // Revocation ("Cabut surat" on the letter's page, by the signer).
        let mut kadis = support::logged_in(&state, "kadis").await;
        let csrf = kadis.csrf_of(&format!("/surat/{}", revoked.id)).await;
        let done = kadis
            .post_form(
                &format!("/surat/{}/cabut", revoked.id),
                &[("csrf", &csrf), ("alasan", "Salah alamat tujuan"), ("paham", "ya")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{label}: {}", done.body);
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} revoked"),
            revoked.id,
            Some(("dicabut", "Salah alamat tujuan", "")),
        )
        .await;

        // Correction (ralat): the original is superseded when the correction is signed.
        let correction = d.flow.start_correction(&d.user("agendaris").await, corrected.id).await.unwrap();
        let correction = d
            .flow
            .revise(
                &d.user("konseptor").await,
                correction.id,
                correction.version,
                &data("Sudah diralat"),
                "ralat hal",
            )
            .await
            .unwrap();
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} correction drafted"),
            corrected.id,
            Some(("terbit", "", "")),
        )
        .await;
        let correction = typed_and_signed(&d, correction, 2).await;
        let correction_number = correction.number.clone().unwrap();
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} corrected"),
            corrected.id,
            Some(("diganti", "", &correction_number)),
        )
        .await;
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} correction"),
            correction.id,
            Some(("terbit", "", "")),
        )
        .await;

        // Amending decree (keputusan perubahan) of the SK.
        let mut amended_data = sk_example();
        amended_data["penerima"].as_array_mut().unwrap().pop();
        let amendment = d
            .flow
            .start_amendment(&d.user("konseptor").await, decree.id, &amended_data)
            .await
            .unwrap();
        let amendment = typed_and_signed(&d, amendment, 1).await;
        let amendment_number = amendment.number.clone().unwrap();
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} amended"),
            decree.id,
            Some(("diganti", "", &amendment_number)),
        )
        .await;
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} amendment"),
            amendment.id,
            Some(("terbit", "", "")),
        )
        .await;

        // A superseded letter revoked afterwards: revoked everywhere, the new number kept.
        d.flow
            .revoke(&d.user("kadis").await, corrected.id, "Ralat pun tidak berlaku")
            .await
            .unwrap();
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} superseded then revoked"),
            corrected.id,
            Some(("dicabut", "Ralat pun tidak berlaku", &correction_number)),
        )
        .await;
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} still valid"),
            valid.id,
            Some(("terbit", "", "")),
        )
        .await;
        assert_agree(&state, &mut agendaris, &mut anon, &format!("{label} still a draft"), draft.id, None).await;

        // Each change of a line is in the audit log.
        let entries = numbering::register(&state.db, 1, None).await.unwrap();
        let actions = |letter_id: i64| {
            let id = entries.iter().find(|e| e.letter_id == Some(letter_id)).unwrap().id;
            let db = state.db.clone();
            async move {
                audit::for_subject(&db, 1, &format!("register:{id}"))
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| e.action)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(actions(revoked.id).await, ["number.revoked"], "{label}");
        assert_eq!(actions(decree.id).await, ["number.superseded"], "{label}");
        let mut corrected_actions = actions(corrected.id).await;
        corrected_actions.sort();
        assert_eq!(corrected_actions, ["number.revoked", "number.superseded"], "{label}");
        assert!(actions(valid.id).await.is_empty(), "{label}");
        assert!(
            audit::verify_chain(&state.db, Some(1)).await.unwrap().is_ok(),
            "{label}: the audit chain holds"
        );
    }
}

story! {
    /// What today's main left behind is brought into agreement by the migration: a signed
    /// letter whose number was cancelled becomes revoked with that reason, a revoked letter's
    /// line `dicabut`, a superseded letter's line `diganti` with the new number.
    #[tokio::test]
    async fn the_migration_reconciles_earlier_disagreements(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let mut agendaris = support::logged_in(&state, "agendaris").await;
        let mut anon = Client::new(&state);
        let data = |hal: &str| json!({ "hal": hal, "batas_waktu": "2026-12-05" });
        let cancelled = signed(&d, "surat-permintaan-data", &data("Nomor dibatalkan di agenda")).await;
        let revoked = signed(&d, "surat-permintaan-data", &data("Dicabut tanpa agenda")).await;
        let superseded = signed(&d, "surat-permintaan-data", &data("Diganti tanpa agenda")).await;
        let untouched = signed(&d, "surat-permintaan-data", &data("Tetap berlaku")).await;
        // The disagreements as the earlier code wrote them.
        for (sql, id) in [
            (
                "UPDATE register SET status = 'batal', cancelled_reason = 'Surat tidak jadi dikirim', cancelled_by = 'user:5:agendaris', cancelled_at = 1764000000 WHERE letter_id = $1",
                cancelled.id,
            ),
            (
                "UPDATE letters SET revoked_at = 1764000000, revoked_reason = 'Salah alamat', revoked_by = 'user:4:kadis' WHERE id = $1",
                revoked.id,
            ),
        ] {
            sqlx::query(sql).bind(id).execute(&state.db.pool).await.unwrap();
        }
        sqlx::query("UPDATE letters SET superseded_by = $1 WHERE id = $2")
            .bind(untouched.id)
            .bind(superseded.id)
            .execute(&state.db.pool)
            .await
            .unwrap();
        let migration = naskah::db::MIGRATIONS.iter().find(|m| m.name == "register_withdrawal").unwrap();
        let sql = match state.db.backend {
            naskah::db::Backend::Sqlite => migration.sqlite,
            naskah::db::Backend::Postgres => migration.postgres,
        };
        // The data part of the migration (its columns exist already).
        let data_part = &sql[sql.find("-- A signed letter whose number").unwrap()..];
        sqlx::raw_sql(sqlx::AssertSqlSafe(data_part.to_string()))
            .execute(&state.db.pool)
            .await
            .unwrap();

        let number_of_untouched = untouched.number.clone().unwrap();
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} cancelled"),
            cancelled.id,
            Some(("dicabut", "Surat tidak jadi dikirim", "")),
        )
        .await;
        let entry = numbering::register(&state.db, 1, None)
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.letter_id == Some(cancelled.id))
            .unwrap();
        assert_eq!(
            (entry.revoked_by.as_str(), entry.revoked_at, entry.cancelled_reason.as_str()),
            ("user:5:agendaris", Some(1764000000), ""),
            "{label}"
        );
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} revoked"),
            revoked.id,
            Some(("dicabut", "Salah alamat", "")),
        )
        .await;
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} superseded"),
            superseded.id,
            Some(("diganti", "", &number_of_untouched)),
        )
        .await;
        assert_agree(
            &state,
            &mut agendaris,
            &mut anon,
            &format!("{label} untouched"),
            untouched.id,
            Some(("terbit", "", "")),
        )
        .await;
    }
}

story! {
    /// The register is paged in the database: 250 lines show 100 at a time, with links
    /// to the pages beside that keep the filter; the search and the status filter narrow
    /// the count; a typed `%` matches itself.
    #[tokio::test]
    async fn the_register_is_paged_and_filtered_in_the_database(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let mut tx = state.db.begin_write().await.unwrap();
        for serial in 1..=250_i64 {
            let subject = if serial % 50 == 0 { format!("Undangan rapat 100% hadir {serial}") } else { format!("Surat biasa {serial}") };
            sqlx::query(
                "INSERT INTO register (department_id, series, unit_code, year, serial, number, status, letter_date, subject, \
                 classification_code, signer, created_at, search) VALUES (1, 'surat', 'X', 2026, $1, $2, $3, '2026-11-02', $4, '', '', 0, $5)",
            )
            .bind(serial)
            .bind(format!("X/{serial:04}/2026"))
            .bind(if serial % 10 == 0 { "batal" } else { "terbit" })
            .bind(&subject)
            .bind(naskah::numbering::search_text(&format!("X/{serial:04}/2026"), &subject))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let mut agendaris = support::logged_in(&state, "agendaris").await;

        let first = agendaris.get("/agenda?tahun=2026").await.body;
        assert!(first.contains("Nomor 1–100 dari 250"), "{first}");
        assert!(first.contains("X/0100/2026") && !first.contains("X/0101/2026"));
        assert!(first.contains("halaman=2\">Halaman berikutnya →") && !first.contains("Halaman sebelumnya"));
        let last = agendaris.get("/agenda?tahun=2026&halaman=3").await.body;
        assert!(last.contains("Nomor 201–250 dari 250") && last.contains("X/0250/2026"), "{last}");
        assert!(last.contains("halaman=2\">← Halaman sebelumnya") && !last.contains("Halaman berikutnya"));
        // Past the end: an empty page, not an error; nonsense: the first page.
        assert!(agendaris.get("/agenda?tahun=2026&halaman=9").await.body.contains("Nomor 0 dari 250"));
        assert!(agendaris.get("/agenda?tahun=2026&halaman=abc").await.body.contains("Nomor 1–100 dari 250"));

        // Filters run in the database and the page links keep them.
        let cancelled = agendaris.get("/agenda?tahun=2026&status=batal").await.body;
        assert!(cancelled.contains("Nomor 1–25 dari 25"), "{cancelled}");
        let percent = agendaris.get("/agenda?tahun=2026&cari=100%25+hadir").await.body;
        assert!(percent.contains("Nomor 1–5 dari 5"), "{percent}");
        // Not a wildcard: "a%s" would match every "Surat biasa".
        assert!(agendaris.get("/agenda?tahun=2026&cari=a%25s").await.body.contains("Nomor 0 dari 0"));
        let by_number = agendaris.get("/agenda?tahun=2026&cari=x%2F01").await.body;
        assert!(by_number.contains("Nomor 1–100 dari 100"), "X/0100 … X/0199: {by_number}");
        let second = agendaris.get("/agenda?tahun=2026&status=terbit&cari=x%2F0&halaman=2").await.body;
        assert!(second.contains("Nomor 101–200 dari 225"), "{second}");
        assert!(second.contains("status=terbit&#38;cari=x%2F0&#38;halaman=3"), "the next page keeps the filter: {second}");

        // The CSV export streams batch by batch (2,000 lines): 4,250 lines of another year
        // arrive whole, in register order, each once; its filter is the page's.
        let mut tx = state.db.begin_write().await.unwrap();
        for serial in 1..=4_250_i64 {
            sqlx::query(
                "INSERT INTO register (department_id, series, unit_code, year, serial, number, status, letter_date, subject, \
                 classification_code, signer, created_at) VALUES (1, 'surat', 'Y', 2025, $1, $2, 'terbit', '2025-06-02', 'Lama', '', '', 0)",
            )
            .bind(serial)
            .bind(format!("Y/{serial:04}/2025"))
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let export = agendaris.send("GET", "/agenda.csv?tahun=2025", None, vec![], &[]).await;
        assert_eq!(export.status, StatusCode::OK);
        let rows = csv_rows(&export.bytes);
        assert_eq!(rows.len(), 4_250);
        assert!(rows.iter().enumerate().all(|(i, r)| r["urut"] == (i + 1).to_string()), "in order, each once");
        let filtered = csv_rows(&agendaris.send("GET", "/agenda.csv?tahun=2026&status=batal", None, vec![], &[]).await.bytes);
        assert_eq!(filtered.len(), 25);
    }
}
