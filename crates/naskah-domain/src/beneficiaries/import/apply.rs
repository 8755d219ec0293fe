//! Importing the valid rows of a checked file in one transaction, in chunks.

use super::*;

/// Rows written per statement. Each statement binds one parameter, the chunk as a JSON
/// array of rows that the database unpacks itself (`json_each` on SQLite,
/// `json_array_elements` on PostgreSQL): binding a parameter per value cost SQLite a
/// linear scan per name (quadratic in the statement's width) and PostgreSQL a round of
/// parsing per 64 rows; one text per 4,000 rows costs neither, and the progress bar still
/// moves.
pub(super) const CHUNK: usize = 4000;

/// The rows of a JSON array parameter `$n` as a table `j` with one column `value`, each
/// row's fields read as `j.value->>0`, `j.value->>1`, …
pub(super) fn json_rows(backend: crate::db::Backend, n: usize) -> String {
    match backend {
        crate::db::Backend::Sqlite => format!("json_each(${n}) AS j"),
        crate::db::Backend::Postgres => format!("json_array_elements(${n}::json) AS j(value)"),
    }
}

/// Imports the valid rows of a checked file in one transaction: new NIKs become
/// candidates, known ones gain this source; each gets an event naming the file and
/// line. `progress(done, total)` is called after every chunk.
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
    let content = content(db, id).await?;
    let rules = rules(db, department).await?;
    let table = Table::open(&content)?;
    let mapping = import.mapping();
    let total = import.rows_valid.max(0) as usize;
    let at = now();
    let actor_label = actor.label();

    let mut tx = db.begin_write().await?;
    // Taking the import row first makes a second, concurrent apply wait and then find
    // it imported.
    let claimed = sqlx::query("UPDATE candidate_imports SET finished_at = $1 WHERE id = $2 AND status = 'checked'")
        .bind(at)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if claimed.rows_affected() == 0 {
        return Err(Error::Conflict("Impor ini sudah diproses.".into()));
    }
    let mut scanner = Scanner::new(&table, &mapping, &rules);
    let mut ignored = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    let mut done = 0;
    loop {
        chunk.clear();
        while chunk.len() < CHUNK {
            match scanner.next_valid(&mut ignored) {
                Some(row) => chunk.push(row),
                None => break,
            }
        }
        ignored.clear();
        if chunk.is_empty() {
            break;
        }
        insert_chunk(&mut tx, db.backend, department.id, id, &import.source, at, &chunk).await?;
        done += chunk.len();
        progress(done, total.max(done));
    }
    sqlx::query(
        "INSERT INTO candidate_events (department_id, candidate_id, at, actor, kind, status_to, reason, import_id) \
         SELECT $1, s.candidate_id, $2, $3, \
                CASE WHEN c.import_id = $4 THEN 'diimpor' ELSE 'digabung' END, \
                CASE WHEN c.import_id = $4 THEN 'kandidat' ELSE '' END, \
                $5 || s.line, $4 \
         FROM candidate_sources s JOIN candidates c ON c.id = s.candidate_id WHERE s.import_id = $4",
    )
    .bind(department.id)
    .bind(at)
    .bind(&actor_label)
    .bind(id)
    .bind(format!("{} {} baris ", import.source, import.file_name))
    .execute(&mut *tx)
    .await?;
    let (new,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM candidates WHERE import_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    let merged = done as i64 - new;
    sqlx::query(
        "UPDATE candidate_imports SET status = 'imported', content = NULL, rows_new = $1, rows_merged = $2, \
         finished_by = $3, finished_at = $4 WHERE id = $5",
    )
    .bind(new)
    .bind(merged)
    .bind(&actor_label)
    .bind(at)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    audit::record(
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
    tx.commit().await?;
    get(db, department.id, id).await
}

/// Writes one chunk: new candidates (a NIK already there is left as it is), then one
/// source row per line, joined to the candidate by NIK.
pub(super) async fn insert_chunk(
    conn: &mut AnyConnection,
    backend: crate::db::Backend,
    department_id: i64,
    import_id: i64,
    source: &str,
    at: i64,
    rows: &[Checked],
) -> Result<(), Error> {
    let packed: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            serde_json::json!([
                r.nik,
                r.name,
                r.sex,
                r.birth_date.format("%Y-%m-%d").to_string(),
                r.address,
                r.region_code,
                r.occupation,
                r.line as i64,
                r.source_ref,
            ])
        })
        .collect();
    let packed = serde_json::Value::Array(packed).to_string();
    // `WHERE true`: SQLite needs it to read ON CONFLICT after INSERT … SELECT.
    let sql = format!(
        "INSERT INTO candidates (department_id, nik, name, sex, birth_date, address, region_code, occupation, status, import_id, created_at, updated_at) \
         SELECT $1, j.value->>0, j.value->>1, j.value->>2, j.value->>3, j.value->>4, j.value->>5, j.value->>6, 'kandidat', $2, $3, $3 \
         FROM {} WHERE true ON CONFLICT (department_id, nik) DO NOTHING",
        json_rows(backend, 4)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(department_id)
        .bind(import_id)
        .bind(at)
        .bind(&packed)
        .execute(&mut *conn)
        .await?;
    let sql = format!(
        "INSERT INTO candidate_sources (candidate_id, import_id, source, line, source_ref, name, region_code, occupation) \
         SELECT c.id, $2, $3, CAST(j.value->>7 AS BIGINT), j.value->>8, j.value->>1, j.value->>5, j.value->>6 \
         FROM {} JOIN candidates c ON c.department_id = $1 AND c.nik = j.value->>0",
        json_rows(backend, 4)
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(department_id)
        .bind(import_id)
        .bind(source)
        .bind(&packed)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
