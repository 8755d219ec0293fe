//! Imports of any size: a file streamed from disk is checked as the same bytes in memory
//! are, kept in pieces, its valid rows kept until imported; importing, cancelling and a
//! new mapping leave no piece or row behind; an import checked by an earlier version
//! (the file kept whole, no rows) still imports; the upload form's token is read from
//! the first bytes of a multipart body, which is then handed on whole. Both engines.

use std::io::Write as _;

use naskah::{
    audit::Actor,
    beneficiaries::import::{self, Content, Mapping, Upload},
    departments,
};
use sha2::{Digest, Sha256};

use crate::{beneficiaries::P3KE, support};

/// The P3KE test export seven times over (10,500 rows, 2.3 MB), each copy with other serials (a NIK's last four
/// digits), so the file spans several 1 MiB pieces; a serial met twice is refused as
/// a duplicate, as in any file.
fn large_export() -> Vec<u8> {
    let mut lines = P3KE.lines();
    let header = lines.next().unwrap();
    let nik_at = header.split(',').position(|h| h == "NIK").unwrap();
    let rows: Vec<&str> = lines.collect();
    let mut out = format!("{header}\n");
    for copy in 0..7u32 {
        for (i, row) in rows.iter().enumerate() {
            let mut cells: Vec<String> = row.split(',').map(str::to_string).collect();
            let nik = &cells[nik_at];
            if copy > 0 && nik.len() == 16 && nik.bytes().all(|b| b.is_ascii_digit()) {
                let serial = 1 + (i as u32 + copy * 1_500) % 9_999;
                cells[nik_at] = format!("{}{serial:04}", &nik[..12]);
            }
            out.push_str(&cells.join(","));
            out.push('\n');
        }
    }
    assert!(out.len() > 2 * 1024 * 1024);
    out.into_bytes()
}

async fn count(db: &naskah::db::Db, sql: &str, id: i64) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id)
        .fetch_one(&db.pool)
        .await
        .unwrap();
    n
}

async fn pieces(db: &naskah::db::Db, id: i64) -> i64 {
    count(db, "SELECT COUNT(*) FROM candidate_import_files WHERE import_id = $1", id).await
}

async fn staged(db: &naskah::db::Db, id: i64) -> i64 {
    count(db, "SELECT COUNT(*) FROM candidate_import_rows WHERE import_id = $1", id).await
}

story! {
    #[tokio::test]
    async fn a_file_on_disk_is_checked_kept_in_pieces_imported_and_cleared(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let db = &state.db;
        let actor = Actor::System("uji");
        let department = departments::get(db, 1).await.unwrap();
        let bytes = large_export();
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(&bytes).unwrap();
        let on_disk = |mapping: Option<(String, Mapping)>| Upload {
            file_name: "p3ke-besar.csv",
            content: Content::File(file.path()),
            source: "",
            mapping,
        };

        // The same bytes from memory and from disk give the same check.
        let in_memory = import::check(
            db,
            &actor,
            &department,
            Upload {
                file_name: "p3ke-besar.csv",
                content: Content::Bytes(&bytes),
                source: "",
                mapping: None,
            },
        )
        .await
        .unwrap();
        let checked = import::check(db, &actor, &department, on_disk(None)).await.unwrap();
        assert_eq!(checked.rows_total, 10_500, "{label}");
        assert!(checked.rows_valid > 7_000 && checked.rows_refused > 0, "{label}: {checked:?}");
        assert_eq!(
            (checked.rows_valid, checked.rows_refused, checked.layout.as_str()),
            (in_memory.rows_valid, in_memory.rows_refused, in_memory.layout.as_str()),
            "{label}"
        );
        assert_eq!(
            import::report(db, checked.id).await.unwrap(),
            import::report(db, in_memory.id).await.unwrap(),
            "{label}"
        );
        assert_eq!(checked.file_sha256, hex::encode(Sha256::digest(&bytes)), "{label}");
        assert_eq!(checked.file_size, bytes.len() as i64, "{label}");
        assert_eq!(pieces(db, checked.id).await, 3, "{label}: 2.3 MB in 1 MiB pieces");
        assert_eq!(staged(db, checked.id).await, checked.rows_valid, "{label}");
        // The kept file reads back whole: its headers are the mapping form's.
        assert_eq!(
            import::headers(db, 1, checked.id).await.unwrap()[..3],
            ["ID Keluarga P3KE", "Provinsi", "Kabupaten/Kota"],
            "{label}"
        );

        // Cancelling drops the file and the rows, keeps the report.
        let cancelled = import::cancel(db, &actor, 1, in_memory.id).await.unwrap();
        assert_eq!(cancelled.status, "cancelled", "{label}");
        assert_eq!((pieces(db, in_memory.id).await, staged(db, in_memory.id).await), (0, 0), "{label}");
        assert!(!import::report(db, in_memory.id).await.unwrap().is_empty(), "{label}");

        // Importing moves every valid row, each with its source, and clears; the history
        // reads the import from the source.
        let done = import::apply(db, &actor, &department, checked.id, &|_, _| {}).await.unwrap();
        assert_eq!((done.rows_new, done.rows_merged), (checked.rows_valid, 0), "{label}");
        assert_eq!((pieces(db, checked.id).await, staged(db, checked.id).await), (0, 0), "{label}");
        for table in ["candidates", "candidate_sources"] {
            let n = count(db, &format!("SELECT COUNT(*) FROM {table} WHERE import_id = $1"), checked.id).await;
            assert_eq!(n, checked.rows_valid, "{label}: {table}");
        }
        assert_eq!(count(db, "SELECT COUNT(*) FROM candidate_events WHERE import_id = $1", checked.id).await, 0, "{label}");
        // No key checks these links on PostgreSQL (migration 0024): nothing points nowhere.
        let orphans = count(
            db,
            "SELECT (SELECT COUNT(*) FROM candidate_sources s WHERE s.import_id = $1 \
               AND NOT EXISTS (SELECT 1 FROM candidates c WHERE c.id = s.candidate_id)) \
             + (SELECT COUNT(*) FROM candidates c WHERE c.import_id = $1 \
               AND NOT EXISTS (SELECT 1 FROM departments d WHERE d.id = c.department_id))",
            checked.id,
        )
        .await;
        assert_eq!(orphans, 0, "{label}");

        // A file left for a mapping by hand is kept without rows; the mapping checks it
        // again from its pieces; importing it merges every person already there.
        let unmapped = import::check(db, &actor, &department, on_disk(Some(("Pemetaan sendiri".into(), Mapping::new()))))
            .await
            .unwrap();
        assert_eq!(unmapped.status, "unmapped", "{label}");
        assert_eq!((pieces(db, unmapped.id).await, staged(db, unmapped.id).await), (3, 0), "{label}");
        let preset = import::choose(&import::headers(db, 1, unmapped.id).await.unwrap(), &[]).mapping;
        let remapped = import::remap(db, &actor, &department, unmapped.id, "P3KE", &preset, None).await.unwrap();
        assert_eq!((remapped.status.as_str(), remapped.rows_valid), ("checked", checked.rows_valid), "{label}");
        assert_eq!(staged(db, unmapped.id).await, checked.rows_valid, "{label}");
        let merged = import::apply(db, &actor, &department, unmapped.id, &|_, _| {}).await.unwrap();
        assert_eq!((merged.rows_new, merged.rows_merged), (0, checked.rows_valid), "{label}");
        assert_eq!(pieces(db, unmapped.id).await, 0, "{label}");
    }
}

story! {
    /// An import checked before the rows were kept (its file whole in `content`, no
    /// rows, no pieces) is checked again from that file when it is imported.
    #[tokio::test]
    async fn an_import_checked_by_an_earlier_version_still_imports(test_db: support::TestDb) {
        let label = test_db.label;
        let state = support::demo_state(&test_db).await;
        let db = &state.db;
        let department = departments::get(db, 1).await.unwrap();
        let checked = import::check(
            db,
            &Actor::System("uji"),
            &department,
            Upload {
                file_name: "p3ke.csv",
                content: Content::Bytes(P3KE.as_bytes()),
                source: "",
                mapping: None,
            },
        )
        .await
        .unwrap();
        // As the earlier version left it.
        for sql in ["DELETE FROM candidate_import_rows WHERE import_id = $1", "DELETE FROM candidate_import_files WHERE import_id = $1"] {
            sqlx::query(sql).bind(checked.id).execute(&db.pool).await.unwrap();
        }
        sqlx::query("UPDATE candidate_imports SET content = $1 WHERE id = $2")
            .bind(P3KE.as_bytes().to_vec())
            .bind(checked.id)
            .execute(&db.pool)
            .await
            .unwrap();
        let done = import::apply(db, &Actor::System("uji"), &department, checked.id, &|_, _| {})
            .await
            .unwrap();
        assert_eq!((done.status.as_str(), done.rows_new), ("imported", checked.rows_valid), "{label}");
        assert_eq!(staged(db, checked.id).await, 0, "{label}");
    }
}

/// The upload form's token is looked for in the first 64 KiB of a multipart body only:
/// a token after a large file is refused without reading the file; a token first lets
/// the whole body through to the page, which checks the file.
#[tokio::test]
async fn the_upload_token_is_read_from_the_first_bytes_only() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut staff = support::logged_in(&state, "staf").await;
    let csrf = staff.csrf_of("/calon/impor").await;
    let file = large_export();

    let boundary = "batasunggah";
    let mut late =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; filename=\"p3ke.csv\"\r\nContent-Type: text/csv\r\n\r\n")
            .into_bytes();
    late.extend_from_slice(&file);
    late.extend(
        format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}--\r\n").into_bytes(),
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let refused = staff.send("POST", "/calon/impor", Some(&content_type), late, &[]).await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.body);
    assert_eq!(import::list(&state.db, 1, 10).await.unwrap().len(), 0);

    let (content_type, first) = crate::beneficiaries::multipart(&[("csrf", &csrf)], "p3ke.csv", &file);
    let accepted = staff.send("POST", "/calon/impor", Some(&content_type), first, &[]).await;
    assert_eq!(accepted.status.as_u16(), 303, "{}", accepted.body);
    let kept = import::list(&state.db, 1, 10).await.unwrap();
    assert_eq!((kept.len(), kept[0].rows_total, kept[0].file_size), (1, 10_500, file.len() as i64));
}
