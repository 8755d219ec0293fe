//! Importing the valid rows of a checked file in one transaction, in chunks.

use super::*;

/// Rows written per statement. Not more: sqlx binds each `$n` by looking its name up,
/// and SQLite finds a parameter's name by a linear scan, so a statement's binding costs
/// grow with the square of its parameters (400 rows of 7 took ~30 µs a row, 64 rows
/// a few).
pub(super) const CHUNK: usize = 64;

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
        insert_chunk(&mut tx, department.id, id, &import.source, at, &chunk).await?;
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

/// Appends `rows` comma-separated tuples of `width` numbered placeholders each, the first
/// one `$first`, every tuple between `open` and `close` (which may hold fixed values).
pub(super) fn push_rows(sql: &mut String, rows: usize, width: usize, first: usize, open: &str, close: &str) {
    use std::fmt::Write as _;
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(open);
        for column in 0..width {
            if column > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${}", first + row * width + column);
        }
        sql.push_str(close);
    }
}

/// Writes one chunk: new candidates (a NIK already there is left as it is), then one
/// source row per line, joined to the candidate by NIK.
pub(super) async fn insert_chunk(
    conn: &mut AnyConnection,
    department_id: i64,
    import_id: i64,
    source: &str,
    at: i64,
    rows: &[Checked],
) -> Result<(), Error> {
    let mut sql = String::from(
        "INSERT INTO candidates (department_id, nik, name, sex, birth_date, address, region_code, occupation, status, import_id, created_at, updated_at) VALUES ",
    );
    push_rows(&mut sql, rows.len(), 7, 4, "($1, ", ", 'kandidat', $2, $3, $3)");
    sql.push_str(" ON CONFLICT (department_id, nik) DO NOTHING");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(department_id)
        .bind(import_id)
        .bind(at);
    for r in rows {
        query = query
            .bind(&r.nik)
            .bind(&r.name)
            .bind(r.sex)
            .bind(r.birth_date.format("%Y-%m-%d").to_string())
            .bind(&r.address)
            .bind(&r.region_code)
            .bind(&r.occupation);
    }
    query.execute(&mut *conn).await?;

    let mut sql = String::from("WITH v (nik, line, source_ref, name, region_code, occupation) AS (VALUES ");
    push_rows(&mut sql, rows.len(), 6, 4, "(", ")");
    sql.push_str(
        ") INSERT INTO candidate_sources (candidate_id, import_id, source, line, source_ref, name, region_code, occupation) \
         SELECT c.id, $2, $3, v.line, v.source_ref, v.name, v.region_code, v.occupation \
         FROM v JOIN candidates c ON c.department_id = $1 AND c.nik = v.nik",
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
        .bind(department_id)
        .bind(import_id)
        .bind(source);
    for r in rows {
        query = query
            .bind(&r.nik)
            .bind(r.line as i64)
            .bind(&r.source_ref)
            .bind(&r.name)
            .bind(&r.region_code)
            .bind(&r.occupation);
    }
    query.execute(&mut *conn).await?;
    Ok(())
}
