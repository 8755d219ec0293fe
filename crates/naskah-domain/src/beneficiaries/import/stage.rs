//! Checking a file and keeping what the check found, as it reads: each chunk of rows
//! is checked, then its valid rows go to `candidate_import_rows` and its report lines
//! to `candidate_import_problems`, so a file of any size is held a few chunks at a time.
//! PostgreSQL takes both with `COPY`; SQLite with multi-row statements whose
//! parameters are anonymous (`?`): a named `$n` is found by a linear scan of the
//! statement's names, which makes binding a large statement quadratic.

use std::fmt::Write as _;

use super::*;
use crate::db::BulkTx;

/// Rows checked between two writes.
const CHUNK_ROWS: usize = 2_000;
/// Rows per SQLite statement (10 parameters each; SQLite allows 32,766; anonymous
/// parameters bind in constant time, so larger statements only save round trips).
const SQLITE_ROWS: usize = 500;

/// What the check of a whole file counted.
pub(super) struct Counts {
    pub rows_total: usize,
    pub rows_valid: usize,
    pub rows_refused: usize,
}

/// One chunk of the check: its valid rows and its report lines.
struct Chunk {
    rows: Vec<Checked>,
    problems: Vec<Problem>,
}

/// Checks every row of `table` and keeps its valid rows and its report under import
/// `id`. The rows are read and checked on a thread of their own while the previous
/// chunk is written, so reading and writing share the two cores instead of taking turns.
///
/// A file given in `keep` is kept (`kept::keep`) while the first chunks are read; its
/// SHA-256 and size are returned.
pub(super) async fn stage(
    tx: &mut BulkTx,
    id: i64,
    table: Table,
    mapping: Mapping,
    rules: Rules,
    keep: Option<&Content<'_>>,
) -> Result<(Counts, Option<(String, i64)>), Error> {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Chunk>(8);
    let reader = tokio::task::spawn_blocking(move || {
        let mut scanner = Scanner::new(&table, &mapping, &rules);
        loop {
            let mut chunk = Chunk {
                rows: Vec::with_capacity(CHUNK_ROWS),
                problems: Vec::new(),
            };
            let mut ended = false;
            while chunk.rows.len() < CHUNK_ROWS && chunk.problems.len() < CHUNK_ROWS {
                match scanner.next_row(&mut chunk.problems) {
                    Some(Some(row)) => chunk.rows.push(row),
                    Some(None) => {}
                    None => {
                        ended = true;
                        break;
                    }
                }
            }
            // A closed channel means the writer failed: stop reading.
            if sender.blocking_send(chunk).is_err() || ended {
                break;
            }
        }
        (scanner.rows_total, scanner.rows_valid)
    });
    let kept = match keep {
        Some(content) => Some(super::kept::keep(tx, id, content).await?),
        None => None,
    };
    let rows_refused = match tx {
        BulkTx::Postgres(conn) => write_postgres(conn, id, &mut receiver).await?,
        BulkTx::Any(conn) => {
            let mut refused = RefusedLines::default();
            while let Some(chunk) = receiver.recv().await {
                refused.count(&chunk.problems);
                write_rows_sqlite(conn, id, &chunk.rows).await?;
                write_problems_sqlite(conn, id, &chunk.problems).await?;
            }
            refused.total
        }
    };
    let (rows_total, rows_valid) = reader
        .await
        .map_err(|e| Error::Unreadable(format!("pemeriksaan berkas terhenti: {e}")))?;
    Ok((
        Counts {
            rows_total,
            rows_valid,
            rows_refused,
        },
        kept,
    ))
}

/// Refused rows counted from report lines as they come: a row's problems come together
/// and lines only grow, so each change of line among refusals is one more row.
#[derive(Default)]
struct RefusedLines {
    total: usize,
    last: i64,
}

impl RefusedLines {
    fn count(&mut self, problems: &[Problem]) {
        for problem in problems.iter().filter(|p| p.refused) {
            if problem.line != self.last {
                self.total += 1;
                self.last = problem.line;
            }
        }
    }
}

/// PostgreSQL: one `COPY` for all rows, streamed chunk by chunk, and one for the report,
/// gathered meanwhile in a temporary file. One `COPY` each, not one per chunk: every
/// `COPY` ends with a small message that waits on the server's delayed acknowledgement
/// (sqlx sets no `TCP_NODELAY`), ~40 ms here, which per chunk cost seconds.
async fn write_postgres(conn: &mut sqlx::PgConnection, id: i64, receiver: &mut tokio::sync::mpsc::Receiver<Chunk>) -> Result<usize, Error> {
    use std::io::Write as _;
    let disk = |e: std::io::Error| Error::Unreadable(format!("laporan pemeriksaan tidak dapat disimpan sementara ({e})"));
    let report = tempfile::NamedTempFile::new().map_err(disk)?;
    let mut report_out = std::io::BufWriter::new(report.reopen().map_err(disk)?);
    let mut refused = RefusedLines::default();
    let mut any_problem = false;
    let id_text = id.to_string();
    let mut rows = conn
        .copy_in_raw(&format!("COPY candidate_import_rows ({ROW_COLUMNS}) FROM STDIN"))
        .await?;
    let mut text = String::new();
    while let Some(chunk) = receiver.recv().await {
        refused.count(&chunk.problems);
        text.clear();
        for r in &chunk.rows {
            let birth = r.birth_date.format("%Y-%m-%d").to_string();
            let line = r.line.to_string();
            copy_line(
                &mut text,
                &[
                    &id_text,
                    &line,
                    &r.nik,
                    &r.name,
                    r.sex,
                    &birth,
                    &r.address,
                    &r.region_code,
                    &r.occupation,
                    &r.source_ref,
                ],
            );
        }
        if !text.is_empty() {
            rows.send(text.as_bytes()).await?;
        }
        text.clear();
        for p in &chunk.problems {
            let (line, refused) = (p.line.to_string(), i64::from(p.refused).to_string());
            copy_line(&mut text, &[&id_text, &line, &p.column_name, &p.code, &refused, &p.message]);
            any_problem = true;
        }
        report_out.write_all(text.as_bytes()).map_err(disk)?;
    }
    rows.finish().await?;
    report_out.flush().map_err(disk)?;
    drop(report_out);
    if any_problem {
        let file = tokio::fs::File::open(report.path()).await.map_err(disk)?;
        let mut problems = conn
            .copy_in_raw(&format!("COPY candidate_import_problems ({PROBLEM_COLUMNS}) FROM STDIN"))
            .await?;
        problems.read_from(file).await?;
        problems.finish().await?;
    }
    Ok(refused.total)
}

const ROW_COLUMNS: &str = "import_id, line, nik, name, sex, birth_date, address, region_code, occupation, source_ref";
const PROBLEM_COLUMNS: &str = "import_id, line, column_name, code, refused, message";

async fn write_rows_sqlite(conn: &mut sqlx::AnyConnection, id: i64, rows: &[Checked]) -> Result<(), Error> {
    for chunk in rows.chunks(SQLITE_ROWS) {
        let sql = anonymous_insert("candidate_import_rows", ROW_COLUMNS, 10, chunk.len());
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in chunk {
            query = query
                .bind(id)
                .bind(r.line as i64)
                .bind(&r.nik)
                .bind(&r.name)
                .bind(r.sex)
                .bind(r.birth_date.format("%Y-%m-%d").to_string())
                .bind(&r.address)
                .bind(&r.region_code)
                .bind(&r.occupation)
                .bind(&r.source_ref);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

async fn write_problems_sqlite(conn: &mut sqlx::AnyConnection, id: i64, problems: &[Problem]) -> Result<(), Error> {
    for chunk in problems.chunks(SQLITE_ROWS) {
        let sql = anonymous_insert("candidate_import_problems", PROBLEM_COLUMNS, 6, chunk.len());
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for p in chunk {
            query = query
                .bind(id)
                .bind(p.line)
                .bind(&p.column_name)
                .bind(&p.code)
                .bind(i64::from(p.refused))
                .bind(&p.message);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `INSERT INTO table (columns) VALUES (?, …), …` for `rows` rows of `width` values.
fn anonymous_insert(table: &str, columns: &str, width: usize, rows: usize) -> String {
    let tuple = format!("({})", vec!["?"; width].join(", "));
    let mut sql = String::with_capacity(64 + rows * (tuple.len() + 1));
    let _ = write!(sql, "INSERT INTO {table} ({columns}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push(',');
        }
        sql.push_str(&tuple);
    }
    sql
}

/// One row of `COPY … FROM STDIN` text: fields between tabs, with backslash, tab and
/// line breaks escaped as the format wants.
fn copy_line(out: &mut String, fields: &[&str]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push('\t');
        }
        for c in field.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                c => out.push(c),
            }
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_split_a_field() {
        let mut out = String::new();
        copy_line(&mut out, &["1", "a\tb", "c\\d", "e\r\nf", "ÉÖ"]);
        assert_eq!(out, "1\ta\\tb\tc\\\\d\te\\r\\nf\tÉÖ\n");
    }

    #[test]
    fn anonymous_rows_have_one_mark_per_value() {
        assert_eq!(
            anonymous_insert("t", "a, b", 2, 3),
            "INSERT INTO t (a, b) VALUES (?, ?),(?, ?),(?, ?)"
        );
    }
}
