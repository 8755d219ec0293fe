//! Checking every audit chain and naming each row that does not hold: edited (its hash
//! does not match its content), deleted (a gap in the sequence, or a head that runs
//! past the last row), or reordered (rows whose order by id disagrees with their order
//! in the chain).

use serde::Serialize;
use sqlx::Any;

use super::{Entry, GENESIS};
use crate::db::{Db, DbError};

/// The outcome for one chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub chain: String,
    pub entries: usize,
    /// Empty when the chain holds.
    pub problems: Vec<String>,
}

impl ChainReport {
    pub fn holds(&self) -> bool {
        self.problems.is_empty()
    }
}

fn describe(e: &Entry) -> String {
    format!("baris id {} (urutan {}, {} oleh {})", e.id, e.seq, e.action, e.actor)
}

/// Checks one chain's entries, ordered by sequence, against its stored head.
pub fn check(chain: &str, entries: &[Entry], head: Option<(i64, String)>) -> ChainReport {
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1;
    let mut last_id = i64::MIN;
    let mut previous: Option<&Entry> = None;
    for e in entries {
        if e.seq > expected_seq {
            let missing = if e.seq == expected_seq + 1 {
                format!("urutan {expected_seq}")
            } else {
                format!("urutan {}–{}", expected_seq, e.seq - 1)
            };
            problems.push(format!("{missing} hilang (baris dihapus) sebelum {}", describe(e)));
        }
        expected_seq = e.seq + 1;
        let recomputed = e.hash_after(&e.prev_hash);
        if recomputed != e.hash {
            problems.push(format!("{} diubah: isinya tidak cocok dengan hash-nya", describe(e)));
        } else if e.prev_hash != prev {
            let before = previous.map(describe).unwrap_or_else(|| "awal rantai".into());
            problems.push(format!(
                "{} tidak tersambung dengan {before}: salah satunya diubah, disisipkan atau dihapus",
                describe(e)
            ));
        }
        if e.id < last_id {
            problems.push(format!("{} tertukar urutannya: id lebih kecil dari baris sebelumnya", describe(e)));
        }
        last_id = e.id;
        prev = e.hash.clone();
        previous = Some(e);
    }
    match head {
        Some((seq, hash)) => {
            let last_seq = entries.last().map(|e| e.seq).unwrap_or(0);
            if seq != last_seq || hash != prev {
                problems.push(format!(
                    "kepala rantai menunjuk urutan {seq}, tetapi baris terakhir urutan {last_seq}: baris terakhir dihapus atau diubah"
                ));
            }
        }
        None if !entries.is_empty() => problems.push("kepala rantai hilang".into()),
        None => {}
    }
    ChainReport {
        chain: chain.into(),
        entries: entries.len(),
        problems,
    }
}

/// Every chain of the deployment, the deployment's own first.
pub async fn verify_all(db: &Db) -> Result<Vec<ChainReport>, DbError> {
    let mut chains: Vec<String> =
        sqlx::query_as::<Any, (String,)>("SELECT chain FROM audit_heads UNION SELECT DISTINCT chain FROM audit_log")
            .fetch_all(&db.pool)
            .await?
            .into_iter()
            .map(|(c,)| c)
            .collect();
    chains.sort_by_key(|c| (c != "system", c.clone()));
    let mut reports = Vec::new();
    for chain in chains {
        let entries = sqlx::query_as::<Any, Entry>(
            "SELECT id, chain, seq, department_id, actor, action, subject, details, at, prev_hash, hash \
             FROM audit_log WHERE chain = $1 ORDER BY seq, id",
        )
        .bind(&chain)
        .fetch_all(&db.pool)
        .await?;
        let head = sqlx::query_as::<Any, (i64, String)>("SELECT seq, head_hash FROM audit_heads WHERE chain = $1")
            .bind(&chain)
            .fetch_optional(&db.pool)
            .await?;
        reports.push(check(&chain, &entries, head));
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A well-formed chain of `n` entries (ids 10, 20, …).
    fn chain(n: i64) -> (Vec<Entry>, Option<(i64, String)>) {
        let mut prev = GENESIS.to_string();
        let mut entries = Vec::new();
        for seq in 1..=n {
            let mut e = Entry {
                id: seq * 10,
                chain: "department:1".into(),
                seq,
                department_id: Some(1),
                actor: "user:1:kadis".into(),
                action: format!("letter.step{seq}"),
                subject: "letter:1".into(),
                details: "{}".into(),
                at: 1_790_000_000 + seq,
                prev_hash: prev.clone(),
                hash: String::new(),
            };
            e.hash = e.hash_after(&prev);
            prev = e.hash.clone();
            entries.push(e);
        }
        let head = Some((n, prev));
        (entries, head)
    }

    #[test]
    fn an_intact_chain_holds() {
        let (entries, head) = chain(5);
        let report = check("department:1", &entries, head);
        assert!(report.holds(), "{:?}", report.problems);
        assert_eq!(report.entries, 5);
    }

    #[test]
    fn an_edited_row_is_named() {
        let (mut entries, head) = chain(5);
        entries[2].details = "{\"diubah\":true}".into();
        let report = check("department:1", &entries, head);
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].contains("baris id 30 (urutan 3") && report.problems[0].contains("diubah"));
    }

    #[test]
    fn an_edited_row_with_its_hash_recomputed_breaks_the_link_after_it() {
        let (mut entries, head) = chain(5);
        entries[2].details = "{\"diubah\":true}".into();
        let prev = entries[2].prev_hash.clone();
        entries[2].hash = entries[2].hash_after(&prev);
        let report = check("department:1", &entries, head);
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.contains("baris id 40") && p.contains("baris id 30")),
            "{:?}",
            report.problems
        );
    }

    #[test]
    fn a_deleted_row_and_a_deleted_tail_are_named() {
        let (mut entries, head) = chain(5);
        entries.remove(1);
        let report = check("department:1", &entries, head.clone());
        assert!(
            report
                .problems
                .iter()
                .any(|p| p.starts_with("urutan 2 hilang") && p.contains("baris id 30")),
            "{:?}",
            report.problems
        );
        let (mut entries, head) = chain(5);
        entries.pop();
        let report = check("department:1", &entries, head);
        assert!(
            report.problems.iter().any(|p| p.contains("kepala rantai menunjuk urutan 5")),
            "{:?}",
            report.problems
        );
    }

    #[test]
    fn reordered_rows_are_named() {
        // Two rows' contents swapped under their ids: in chain order the ids run backwards.
        let (mut entries, head) = chain(5);
        let (a, b) = (entries[1].id, entries[2].id);
        entries[1].id = b;
        entries[2].id = a;
        let report = check("department:1", &entries, head);
        assert!(report.problems.iter().any(|p| p.contains("tertukar")), "{:?}", report.problems);
    }
}
