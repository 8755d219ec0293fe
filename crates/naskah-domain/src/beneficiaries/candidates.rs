//! The candidates and their life cycle, as in the SOP: candidate → on its village's
//! temporary list → confirmed or rejected by the village → checked with BPJS (already
//! insured, or final). Every change is an event with who, when, why and the letter or
//! file it came from; a full NIK shown to staff is an event too.

use serde::Serialize;
use sqlx::{Any, AnyConnection, FromRow};

use super::{Error, nik};
use crate::{
    audit::{self, Actor, Event},
    db::{Db, now},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Imported from a register.
    Candidate,
    /// On its village's temporary list (daftar sementara), sent for confirmation.
    OnList,
    /// Confirmed by the village.
    Confirmed,
    /// Rejected by the village (moved, died, other job, insured, civil servant...).
    Rejected,
    /// Already insured with BPJS Ketenagakerjaan: replaced.
    Insured,
    /// On the final list of the SK.
    Final,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Candidate,
        Status::OnList,
        Status::Confirmed,
        Status::Rejected,
        Status::Insured,
        Status::Final,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Status::Candidate => "kandidat",
            Status::OnList => "sementara",
            Status::Confirmed => "dikonfirmasi",
            Status::Rejected => "ditolak",
            Status::Insured => "terdaftar",
            Status::Final => "final",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Candidate => "Calon",
            Status::OnList => "Daftar sementara desa",
            Status::Confirmed => "Dikonfirmasi desa",
            Status::Rejected => "Ditolak desa",
            Status::Insured => "Sudah terdaftar BPJS",
            Status::Final => "Final",
        }
    }

    pub fn parse(key: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Whether the SOP allows going from `self` to `to`. A village may correct its
    /// answer; a final beneficiary found insured later leaves by an amending decree.
    pub fn may_become(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (Candidate, OnList)
                | (OnList, Confirmed)
                | (OnList, Rejected)
                | (Rejected, Confirmed)
                | (Confirmed, Rejected)
                | (Confirmed, Insured)
                | (Confirmed, Final)
                | (Final, Insured)
        )
    }
}

#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Candidate {
    pub id: i64,
    pub department_id: i64,
    pub nik: String,
    pub name: String,
    pub sex: String,
    pub birth_date: String,
    pub address: String,
    pub region_code: String,
    pub occupation: String,
    pub status: String,
    pub status_reason: String,
    pub replaces_id: Option<i64>,
    pub letter_id: Option<i64>,
    pub import_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Candidate {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Candidate)
    }
    pub fn masked_nik(&self) -> String {
        nik::masked(&self.nik)
    }
}

const COLUMNS: &str = "id, department_id, nik, name, sex, birth_date, address, region_code, occupation, status, status_reason, \
     replaces_id, letter_id, import_id, created_at, updated_at";

/// What a list shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<Status>,
    /// A district ("64.09.01") or village ("64.09.01.1005") code.
    pub region_prefix: String,
    /// Part of the name, or the whole NIK.
    pub text: String,
    /// On the list of this confirmation letter.
    pub letter_id: Option<i64>,
}

fn filter_sql(filter: &Filter) -> (String, Vec<String>) {
    let mut sql = String::from(" WHERE department_id = $1");
    let mut binds = Vec::new();
    if let Some(status) = filter.status {
        binds.push(status.key().to_string());
        sql.push_str(&format!(" AND status = ${}", binds.len() + 1));
    }
    if filter.region_prefix.len() == 13 && filter.region_prefix.split('.').count() == 4 {
        // A whole village code: one range of the list's index.
        binds.push(filter.region_prefix.clone());
        sql.push_str(&format!(" AND region_code = ${}", binds.len() + 1));
    } else if !filter.region_prefix.is_empty() {
        binds.push(format!("{}%", filter.region_prefix));
        sql.push_str(&format!(" AND region_code LIKE ${}", binds.len() + 1));
    }
    if let Some(letter_id) = filter.letter_id {
        // An integer, so it can stand in the text and the index on it is used.
        sql.push_str(&format!(" AND letter_id = {letter_id}"));
    }
    let text = filter.text.trim();
    if !text.is_empty() {
        if text.len() == 16 && text.chars().all(|c| c.is_ascii_digit()) {
            binds.push(text.to_string());
            sql.push_str(&format!(" AND nik = ${}", binds.len() + 1));
        } else {
            binds.push(format!("%{}%", text.to_uppercase()));
            sql.push_str(&format!(" AND name LIKE ${}", binds.len() + 1));
        }
    }
    (sql, binds)
}

/// The table a list reads, in village order: on SQLite held to the index by village
/// (whose partial sort by name SQLite's planner may otherwise pass over for a sort of
/// the whole table); a letter's list has its own index.
fn listed(db: &Db, filter: &Filter) -> &'static str {
    if db.backend == crate::db::Backend::Sqlite && filter.letter_id.is_none() {
        "candidates INDEXED BY candidates_village"
    } else {
        "candidates"
    }
}

/// A page of candidates, by village and name, and how many match in all.
pub async fn list(db: &Db, department_id: i64, filter: &Filter, limit: i64, offset: i64) -> Result<(Vec<Candidate>, i64), Error> {
    let total = count(db, department_id, filter).await?;
    Ok((page_of(db, department_id, filter, limit, offset, total).await?, total))
}

/// `by` more (or, negative, fewer) candidates of a department in `status`, in the
/// transaction of the write that made them so.
pub(crate) async fn count_moved(conn: &mut AnyConnection, department_id: i64, status: &str, by: i64) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO candidate_counts (department_id, status, count) VALUES ($1, $2, $3) \
         ON CONFLICT (department_id, status) DO UPDATE SET count = candidate_counts.count + excluded.count",
    )
    .bind(department_id)
    .bind(status)
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One page of the list as the list page shows it: its rows, how many match, and how
/// many candidates are in each status (which also give the total when the filter is
/// only a status, so the table is not counted twice).
pub struct ListPage {
    pub rows: Vec<Candidate>,
    /// How many match; for a search by name at most [`counted_to`](Self::counted_to) + 1.
    pub total: i64,
    /// More than [`counted_to`](Self::counted_to) match a search by name (they are not
    /// all counted).
    pub capped: bool,
    /// How far a search by name was counted: [`COUNT_CAP`], or to the end of a later page.
    pub counted_to: i64,
    pub counts: Vec<(Status, i64)>,
}

/// A search by part of a name is counted up to this many matches (or to the end of the
/// page asked for, if that is further): past it the count would read the whole table
/// for a number nobody pages through. A thousand keeps a common name's count on a
/// million SQLite rows to a few tens of milliseconds.
pub const COUNT_CAP: i64 = 1_000;

pub async fn list_page(db: &Db, department_id: i64, filter: &Filter, limit: i64, offset: i64) -> Result<ListPage, Error> {
    list_page_counting_to(db, department_id, filter, limit, offset, COUNT_CAP).await
}

/// [`list_page`] with the count of a search by name capped at `cap` (tests use a small
/// one).
pub async fn list_page_counting_to(
    db: &Db,
    department_id: i64,
    filter: &Filter,
    limit: i64,
    offset: i64,
    cap: i64,
) -> Result<ListPage, Error> {
    let counts = counts(db, department_id).await?;
    let searched = !filter.text.trim().is_empty();
    // Counted at least to the end of this page, so that a later page still links on.
    let counted_to = cap.max(offset.saturating_add(limit));
    let total = if filter.region_prefix.is_empty() && !searched && filter.letter_id.is_none() {
        counts
            .iter()
            .filter(|(s, _)| filter.status.is_none_or(|wanted| wanted == *s))
            .map(|(_, n)| n)
            .sum()
    } else {
        // `count_up_to` caps only a search by name.
        count_up_to(db, department_id, filter, counted_to + 1).await?
    };
    let capped = searched && total > counted_to;
    // Past the cap the end is not known: the pages are read from the front.
    let rows = if capped {
        select(db, department_id, filter, limit, offset).await?
    } else {
        page_of(db, department_id, filter, limit, offset, total).await?
    };
    Ok(ListPage {
        rows,
        total,
        capped,
        counted_to,
        counts,
    })
}

/// Rows `offset..offset + limit` of `total`: a page past the middle is read from the
/// end of the index backwards, so the last page costs what the first does.
async fn page_of(db: &Db, department_id: i64, filter: &Filter, limit: i64, offset: i64, total: i64) -> Result<Vec<Candidate>, Error> {
    if offset >= total {
        return Ok(Vec::new());
    }
    if offset <= total / 2 {
        return select(db, department_id, filter, limit, offset).await;
    }
    let end = (offset + limit).min(total);
    let (where_sql, binds) = filter_sql(filter);
    let mut query = sqlx::query_as::<Any, Candidate>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {}{where_sql} ORDER BY region_code DESC, name DESC, id DESC LIMIT {} OFFSET {}",
        listed(db, filter),
        end - offset,
        total - end
    )))
    .bind(department_id);
    for b in binds {
        query = query.bind(b);
    }
    let mut rows = query.fetch_all(&db.pool).await?;
    rows.reverse();
    Ok(rows)
}

/// How many candidates a filter matches.
pub async fn count(db: &Db, department_id: i64, filter: &Filter) -> Result<i64, Error> {
    count_up_to(db, department_id, filter, i64::MAX).await
}

/// How many candidates a filter matches, counting no further than `cap` (a search by
/// part of a name stops there instead of reading every row).
async fn count_up_to(db: &Db, department_id: i64, filter: &Filter, cap: i64) -> Result<i64, Error> {
    let (where_sql, binds) = filter_sql(filter);
    let sql = if filter.text.trim().is_empty() || cap == i64::MAX {
        format!("SELECT COUNT(*) FROM candidates{where_sql}")
    } else {
        format!("SELECT COUNT(*) FROM (SELECT 1 FROM candidates{where_sql} LIMIT {cap}) found")
    };
    let mut count = sqlx::query_as::<Any, (i64,)>(sqlx::AssertSqlSafe(sql)).bind(department_id);
    for b in &binds {
        count = count.bind(b.clone());
    }
    Ok(count.fetch_one(&db.pool).await?.0)
}

/// The candidates a filter matches, by village and name, without counting them all.
pub(crate) async fn select(db: &Db, department_id: i64, filter: &Filter, limit: i64, offset: i64) -> Result<Vec<Candidate>, Error> {
    let (where_sql, binds) = filter_sql(filter);
    let mut query = sqlx::query_as::<Any, Candidate>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {}{where_sql} ORDER BY region_code, name, id LIMIT {limit} OFFSET {offset}",
        listed(db, filter)
    )))
    .bind(department_id);
    for b in binds {
        query = query.bind(b);
    }
    Ok(query.fetch_all(&db.pool).await?)
}

/// The candidates a filter matches after `after` (the last of the previous batch; from
/// the first when `None`), at most `limit`, by village and name: how an export reads a
/// list of any length batch by batch, each batch one range of the list's index.
pub async fn after(db: &Db, department_id: i64, filter: &Filter, after: Option<&Candidate>, limit: i64) -> Result<Vec<Candidate>, Error> {
    let (mut where_sql, binds) = filter_sql(filter);
    if after.is_some() {
        let n = binds.len() + 2;
        // The village first, so that the index by village starts the range there.
        where_sql.push_str(&format!(
            " AND region_code >= ${n} AND (region_code > ${n} OR (name, id) > (${}, ${}))",
            n + 1,
            n + 2
        ));
    }
    let mut query = sqlx::query_as::<Any, Candidate>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM {}{where_sql} ORDER BY region_code, name, id LIMIT {}",
        listed(db, filter),
        limit.clamp(1, 10_000)
    )))
    .bind(department_id);
    for b in binds {
        query = query.bind(b);
    }
    if let Some(last) = after {
        query = query.bind(last.region_code.clone()).bind(last.name.clone()).bind(last.id);
    }
    Ok(query.fetch_all(&db.pool).await?)
}

/// Every candidate in a status, by village and name.
pub async fn with_status(db: &Db, department_id: i64, status: Status) -> Result<Vec<Candidate>, Error> {
    let filter = Filter {
        status: Some(status),
        ..Filter::default()
    };
    select(db, department_id, &filter, i64::MAX, 0).await
}

/// How many candidates are in each status (kept by every write, [`count_moved`]).
pub async fn counts(db: &Db, department_id: i64) -> Result<Vec<(Status, i64)>, Error> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, count FROM candidate_counts WHERE department_id = $1")
        .bind(department_id)
        .fetch_all(&db.pool)
        .await?;
    Ok(Status::ALL
        .into_iter()
        .map(|s| (s, rows.iter().find(|(k, _)| k == s.key()).map_or(0, |(_, n)| *n)))
        .collect())
}

pub async fn get(db: &Db, department_id: i64, id: i64) -> Result<Candidate, Error> {
    sqlx::query_as::<Any, Candidate>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM candidates WHERE id = $1 AND department_id = $2"
    )))
    .bind(id)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn by_nik(db: &Db, department_id: i64, nik: &str) -> Result<Option<Candidate>, Error> {
    Ok(sqlx::query_as::<Any, Candidate>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM candidates WHERE nik = $1 AND department_id = $2"
    )))
    .bind(nik)
    .bind(department_id)
    .fetch_optional(&db.pool)
    .await?)
}

/// The candidates not yet on a village's list, in a district ("64.09.01") or the whole
/// regency (empty), by village and name, each with the names of its sources.
pub async fn awaiting_list(db: &Db, department_id: i64, scope: &str) -> Result<Vec<(Candidate, String)>, Error> {
    let prefix = format!("{}%", scope.trim());
    let list = sqlx::query_as::<Any, Candidate>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM candidates WHERE department_id = $1 AND status = 'kandidat' AND region_code LIKE $2 \
         ORDER BY region_code, name, id"
    )))
    .bind(department_id)
    .bind(&prefix)
    .fetch_all(&db.pool)
    .await?;
    let sources: Vec<(i64, String)> = sqlx::query_as(
        "SELECT s.candidate_id, s.source FROM candidate_sources s JOIN candidates c ON c.id = s.candidate_id \
         WHERE c.department_id = $1 AND c.status = 'kandidat' AND c.region_code LIKE $2 ORDER BY s.id",
    )
    .bind(department_id)
    .bind(&prefix)
    .fetch_all(&db.pool)
    .await?;
    let mut names: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
    for (id, source) in sources {
        let entry = names.entry(id).or_default();
        if !entry.contains(&source) {
            entry.push(source);
        }
    }
    Ok(list
        .into_iter()
        .map(|c| {
            let sources = names.remove(&c.id).unwrap_or_default().join(", ");
            (c, sources)
        })
        .collect())
}

/// One source a candidate came from.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct Source {
    pub import_id: i64,
    pub source: String,
    pub line: i64,
    pub source_ref: String,
    pub name: String,
    pub region_code: String,
    pub occupation: String,
    pub file_name: String,
}

pub async fn sources(db: &Db, candidate_id: i64) -> Result<Vec<Source>, Error> {
    Ok(sqlx::query_as::<Any, Source>(
        "SELECT s.import_id, s.source, s.line, s.source_ref, s.name, s.region_code, s.occupation, i.file_name \
         FROM candidate_sources s JOIN candidate_imports i ON i.id = s.import_id WHERE s.candidate_id = $1 ORDER BY s.id",
    )
    .bind(candidate_id)
    .fetch_all(&db.pool)
    .await?)
}

/// One entry of a candidate's history.
#[derive(Debug, Clone, Serialize, FromRow)]
pub struct HistoryEntry {
    pub at: i64,
    pub actor: String,
    pub kind: String,
    pub status_from: String,
    pub status_to: String,
    pub reason: String,
    pub import_id: Option<i64>,
    pub letter_id: Option<i64>,
    pub incoming_id: Option<i64>,
}

impl HistoryEntry {
    /// What happened, in a sentence.
    pub fn describe(&self) -> String {
        let label = |key: &str| Status::parse(key).map_or(key.to_string(), |s| s.label().to_string());
        match self.kind.as_str() {
            "diimpor" => format!("Diimpor dari {}", self.reason),
            "digabung" => format!("Sumber ditambahkan (NIK sama): {}", self.reason),
            "nik_dilihat" => format!("NIK lengkap dilihat ({})", self.reason),
            "diusulkan" => format!("Diusulkan sebagai pengganti: {}", self.reason),
            _ if self.reason.is_empty() => format!("{} → {}", label(&self.status_from), label(&self.status_to)),
            _ => format!("{} → {}: {}", label(&self.status_from), label(&self.status_to), self.reason),
        }
    }
}

/// A person's history: how each import brought them in or added a source (read from
/// their sources and the import, which record file, line, who and when), then every
/// event, in time order.
pub async fn history(db: &Db, candidate_id: i64) -> Result<Vec<HistoryEntry>, Error> {
    Ok(sqlx::query_as::<Any, HistoryEntry>(
        "SELECT at, actor, kind, status_from, status_to, reason, import_id, letter_id, incoming_id FROM ( \
           SELECT i.finished_at AS at, i.finished_by AS actor, \
                  CASE WHEN c.import_id = s.import_id THEN 'diimpor' ELSE 'digabung' END AS kind, '' AS status_from, \
                  CASE WHEN c.import_id = s.import_id THEN 'kandidat' ELSE '' END AS status_to, \
                  i.source || ' ' || i.file_name || ' baris ' || CAST(s.line AS TEXT) AS reason, \
                  s.import_id AS import_id, CAST(NULL AS BIGINT) AS letter_id, CAST(NULL AS BIGINT) AS incoming_id, \
                  0 AS origin, s.id AS seq \
           FROM candidate_sources s JOIN candidate_imports i ON i.id = s.import_id JOIN candidates c ON c.id = s.candidate_id \
           WHERE s.candidate_id = $1 AND i.status = 'imported' AND i.finished_at IS NOT NULL \
           UNION ALL \
           SELECT at, actor, kind, status_from, status_to, reason, import_id, letter_id, incoming_id, 1 AS origin, id AS seq \
           FROM candidate_events WHERE candidate_id = $1 \
         ) h ORDER BY at, origin, seq",
    )
    .bind(candidate_id)
    .fetch_all(&db.pool)
    .await?)
}

/// A change of status and what it came from.
#[derive(Debug, Clone, Default)]
pub struct Change<'a> {
    pub reason: &'a str,
    pub letter_id: Option<i64>,
    pub import_id: Option<i64>,
    /// The incoming letter (a village's reply, BPJS's answer) it came from.
    pub incoming_id: Option<i64>,
}

/// Moves candidates to `to` inside the caller's transaction, each with an event, and
/// says how many moved: one already in `to` is left as it is (an answer given twice
/// changes nothing), except on a temporary list. Any candidate whose status does not allow it stops the whole
/// change, named.
pub async fn transition(
    conn: &mut AnyConnection,
    department_id: i64,
    actor: &Actor,
    ids: &[i64],
    to: Status,
    change: &Change<'_>,
) -> Result<usize, Error> {
    let at = now();
    let label = actor.label();
    let mut moved = 0;
    for &id in ids {
        let row: Option<(String, String)> = sqlx::query_as("SELECT status, name FROM candidates WHERE id = $1 AND department_id = $2")
            .bind(id)
            .bind(department_id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some((from, name)) = row else {
            return Err(Error::NotFound);
        };
        let from = Status::parse(&from).unwrap_or(Status::Candidate);
        // Answers may come twice; a list place may not: the person would be on two
        // letters.
        if from == to && to != Status::OnList {
            continue;
        }
        if !from.may_become(to) {
            return Err(Error::Conflict(format!(
                "{name}: status \"{}\" tidak dapat diubah menjadi \"{}\"",
                from.label(),
                to.label()
            )));
        }
        sqlx::query(
            "UPDATE candidates SET status = $1, status_reason = $2, letter_id = COALESCE($3, letter_id), updated_at = $4 WHERE id = $5",
        )
        .bind(to.key())
        .bind(change.reason)
        .bind(change.letter_id)
        .bind(at)
        .bind(id)
        .execute(&mut *conn)
        .await?;
        if from != to {
            count_moved(conn, department_id, from.key(), -1).await?;
            count_moved(conn, department_id, to.key(), 1).await?;
        }
        sqlx::query(
            "INSERT INTO candidate_events (department_id, candidate_id, at, actor, kind, status_from, status_to, reason, import_id, letter_id, incoming_id) \
             VALUES ($1, $2, $3, $4, 'status', $5, $6, $7, $8, $9, $10)",
        )
        .bind(department_id)
        .bind(id)
        .bind(at)
        .bind(&label)
        .bind(from.key())
        .bind(to.key())
        .bind(change.reason)
        .bind(change.import_id)
        .bind(change.letter_id)
        .bind(change.incoming_id)
        .execute(&mut *conn)
        .await?;
        moved += 1;
    }
    Ok(moved)
}

/// Changes candidates' status in its own transaction, with one audit entry.
pub async fn change_status(db: &Db, actor: &Actor, department_id: i64, ids: &[i64], to: Status, change: &Change<'_>) -> Result<(), Error> {
    let mut tx = db.begin_write().await?;
    transition(&mut tx, department_id, actor, ids, to, change).await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "candidates.status_changed",
            subject: format!("department:{department_id}"),
            details: serde_json::json!({ "candidates": ids, "to": to.key(), "reason": change.reason, "letter": change.letter_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Records in the audit log that a list with full NIKs left the system: what it was
/// for (`bpjs`, `daftar-isian`...), who took it, how many people.
pub async fn record_export(db: &Db, actor: &Actor, department_id: i64, what: &str, rows: usize) -> Result<(), Error> {
    let mut tx = db.begin_write().await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "candidates.exported",
            subject: format!("department:{department_id}"),
            details: serde_json::json!({ "for": what, "rows": rows }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The full NIK for a member of staff who needs it; the view is recorded with its
/// purpose in the candidate's history and the audit log.
pub async fn reveal_nik(db: &Db, actor: &Actor, department_id: i64, id: i64, purpose: &str) -> Result<String, Error> {
    let candidate = get(db, department_id, id).await?;
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO candidate_events (department_id, candidate_id, at, actor, kind, reason) VALUES ($1, $2, $3, $4, 'nik_dilihat', $5)",
    )
    .bind(department_id)
    .bind(id)
    .bind(now())
    .bind(actor.label())
    .bind(purpose)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        Event {
            department_id: Some(department_id),
            actor,
            action: "candidate.nik_viewed",
            subject: format!("candidate:{id}"),
            details: serde_json::json!({ "purpose": purpose }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(candidate.nik)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_life_cycle_follows_the_sop() {
        use Status::*;
        assert!(Candidate.may_become(OnList));
        assert!(!Candidate.may_become(Final));
        assert!(!OnList.may_become(Final));
        assert!(Confirmed.may_become(Insured));
        assert!(Confirmed.may_become(Final));
        assert!(!Insured.may_become(Final));
        for s in Status::ALL {
            assert_eq!(Status::parse(s.key()), Some(s));
        }
    }
}
