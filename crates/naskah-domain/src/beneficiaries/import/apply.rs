//! Importing the checked rows of a file in one transaction.

use super::*;

/// The first key of the advisory lock that queues a department's imports on PostgreSQL.
const IMPORT_LOCK: i32 = 0x4e49_4d50;

/// Imports the valid rows of a checked file in one transaction: new NIKs become
/// candidates, known ones gain this source, which names the file and line. The
/// person's history shows the import from the source and the import's row
/// (`candidates::history`): one row fewer per person than an event would cost. The rows
/// were checked and kept by the check (`stage`), so the import is a few set-based
/// statements. `progress(done, total)` is called before and after.
pub async fn apply(
    db: &Db,
    actor: &Actor,
    department: &crate::departments::Department,
    id: i64,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<Import, Error> {
    let import = get(db, department.id, id).await?;
    if import.status != "checked" {
        return Err(Error::Conflict(format!("impor ini sudah {}", import.status_label())));
    }
    let total = import.rows_valid.max(0) as usize;
    progress(0, total);
    let at = now();
    let actor_label = actor.label();
    let mut tx = db.begin_bulk().await?;
    // Taking the import row first makes a second, concurrent apply wait and then find
    // it imported.
    let (claimed, staged) = naskah_base::on_bulk!(&mut tx, conn => {
        let claimed = sqlx::query("UPDATE candidate_imports SET finished_at = $1 WHERE id = $2 AND status = 'checked'")
            .bind(at)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        let (staged,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM candidate_import_rows WHERE import_id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        (claimed.rows_affected(), staged)
    });
    if claimed == 0 {
        return Err(Error::Conflict("Impor ini sudah diproses.".into()));
    }
    if let crate::db::BulkTx::Postgres(conn) = &mut tx {
        // One import of a department at a time (SQLite's write lock does the same).
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(IMPORT_LOCK)
            .bind(i32::try_from(department.id).unwrap_or(i32::MAX))
            .execute(&mut **conn)
            .await?;
    }
    if staged == 0 && import.rows_valid > 0 {
        // Checked by a version that kept only the file: check it again, as it was.
        let file = kept::file(db, id).await?;
        let table = Table::open_file(file.path())?;
        stage(&mut tx, id, table, import.mapping(), rules(db, department).await?, None).await?;
    }
    // PostgreSQL: a plain insert of the NIKs not there yet, not ON CONFLICT, whose
    // speculative insertion costs a fifth of the statement; imports of a department
    // queue on the advisory lock above, and a village's replacement inserted meanwhile
    // with the same NIK fails the import whole, to be run again. SQLite, whose writers
    // queue anyway, is faster with ON CONFLICT than with the look-up.
    let new_only = match &tx {
        crate::db::BulkTx::Postgres(_) => {
            "AND NOT EXISTS (SELECT 1 FROM candidates c WHERE c.department_id = $1 AND c.nik = r.nik) ORDER BY r.line"
        }
        crate::db::BulkTx::Any(_) => "ORDER BY r.line ON CONFLICT (department_id, nik) DO NOTHING",
    };
    let (done, new) = naskah_base::on_bulk!(&mut tx, conn => {
        // New NIKs only, in file order (so that ids follow the file).
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO candidates (department_id, nik, name, sex, birth_date, address, region_code, occupation, status, \
             import_id, created_at, updated_at) \
             SELECT $1, r.nik, r.name, r.sex, r.birth_date, r.address, r.region_code, r.occupation, 'kandidat', $2, $3, $3 \
             FROM candidate_import_rows r WHERE r.import_id = $2 {new_only}"
        )))
        .bind(department.id)
        .bind(id)
        .bind(at)
        .execute(&mut *conn)
        .await?;
        // CROSS JOIN keeps SQLite's planner on the import's rows outside and the
        // (department, NIK) index inside; PostgreSQL plans it as any join.
        let done = sqlx::query(
            "INSERT INTO candidate_sources (candidate_id, import_id, source, line, source_ref, name, region_code, occupation) \
             SELECT c.id, r.import_id, $3, r.line, r.source_ref, r.name, r.region_code, r.occupation \
             FROM candidate_import_rows r CROSS JOIN candidates c \
             WHERE r.import_id = $2 AND c.department_id = $1 AND c.nik = r.nik",
        )
        .bind(department.id)
        .bind(id)
        .bind(&import.source)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        // The history's reading of the source and this import (`candidates::history`)
        // needs the import marked as done, by whom and when: the update below.
        let (new,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM candidates WHERE import_id = $1")
            .bind(id)
            .fetch_one(&mut *conn)
            .await?;
        // The department's figures (candidates::counts) in the same transaction.
        sqlx::query(
            "INSERT INTO candidate_counts (department_id, status, count) VALUES ($1, 'kandidat', $2) \
             ON CONFLICT (department_id, status) DO UPDATE SET count = candidate_counts.count + excluded.count",
        )
        .bind(department.id)
        .bind(new)
        .execute(&mut *conn)
        .await?;
        for table in ["candidate_import_rows", "candidate_import_files"] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE import_id = $1")))
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(
            "UPDATE candidate_imports SET status = 'imported', content = NULL, rows_new = $1, rows_merged = $2, \
             finished_by = $3, finished_at = $4 WHERE id = $5",
        )
        .bind(new)
        .bind(done as i64 - new)
        .bind(&actor_label)
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        (done as i64, new)
    });
    let merged = done - new;
    audit::record_bulk(
        &mut tx,
        Event {
            department_id: Some(department.id),
            actor,
            action: "candidates.imported",
            subject: format!("candidate_import:{id}"),
            details: serde_json::json!({
                "file": import.file_name, "sha256": import.file_sha256, "source": import.source,
                "imported": done, "new": new, "merged": merged,
            }),
        },
    )
    .await?;
    db.commit_bulk(tx).await?;
    progress(total.max(done as usize), total.max(done as usize));
    get(db, department.id, id).await
}
