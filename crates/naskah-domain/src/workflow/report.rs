//! Actual step times against the SOP's standard times (Mutu Baku).

use serde::Serialize;
use sqlx::Any;

use super::{Error, step_state};
use crate::db::Db;

/// One stage's times over a period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageTimes {
    pub label: String,
    pub kind: String,
    pub standard_minutes: i64,
    /// Steps completed in the period.
    pub count: usize,
    pub median_minutes: f64,
    pub p90_minutes: f64,
    /// How many took longer than the standard.
    pub over_standard: usize,
}

/// The nearest-rank percentile of sorted values (`p` in 0..=100).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median: the middle value, or the mean of the two middle values.
pub fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The steps completed on the days `from` to `to` (both whole days in the department's
/// time zone; stored times are UTC).
pub async fn stage_times_on_days(
    db: &Db,
    department: &crate::departments::Department,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<Vec<StageTimes>, Error> {
    let start_of = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_local_timezone(department.tz().offset())
            .single()
            .map(|t| t.timestamp())
            .unwrap_or_default()
    };
    stage_times(db, department.id, start_of(from), start_of(to + chrono::Days::new(1))).await
}

/// Per stage (by label and kind, in chain order), the steps of the department
/// completed with a decision between `from` and `to` (Unix seconds, `to` exclusive).
pub async fn stage_times(db: &Db, department_id: i64, from: i64, to: i64) -> Result<Vec<StageTimes>, Error> {
    let rows = sqlx::query_as::<Any, (String, String, i64, i64, i64, i64)>(
        "SELECT s.label, s.kind, s.standard_minutes, s.stage, s.started_at, s.completed_at \
         FROM letter_steps s JOIN letters l ON l.id = s.letter_id \
         WHERE l.department_id = $1 AND s.state = $2 AND s.started_at IS NOT NULL \
         AND s.completed_at >= $3 AND s.completed_at < $4 \
         ORDER BY s.stage, s.label",
    )
    .bind(department_id)
    .bind(step_state::SELESAI)
    .bind(from)
    .bind(to)
    .fetch_all(&db.pool)
    .await?;
    let mut stages: Vec<(i64, StageTimes, Vec<f64>)> = Vec::new();
    for (label, kind, standard, stage, started, completed) in rows {
        let minutes = (completed - started).max(0) as f64 / 60.0;
        let entry = match stages.iter_mut().find(|(_, s, _)| s.label == label && s.kind == kind) {
            Some(entry) => entry,
            None => {
                stages.push((
                    stage,
                    StageTimes {
                        label,
                        kind,
                        standard_minutes: standard,
                        count: 0,
                        median_minutes: 0.0,
                        p90_minutes: 0.0,
                        over_standard: 0,
                    },
                    Vec::new(),
                ));
                stages.last_mut().expect("just pushed")
            }
        };
        entry.1.count += 1;
        if minutes > standard as f64 {
            entry.1.over_standard += 1;
        }
        entry.2.push(minutes);
    }
    stages.sort_by_key(|(stage, _, _)| *stage);
    Ok(stages
        .into_iter()
        .map(|(_, mut times, mut values)| {
            values.sort_by(f64::total_cmp);
            times.median_minutes = median(&values);
            times.p90_minutes = percentile(&values, 90.0);
            times
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_p90_on_small_samples() {
        assert_eq!(median(&[]), 0.0);
        assert_eq!(median(&[5.0]), 5.0);
        assert_eq!(median(&[1.0, 3.0]), 2.0);
        assert_eq!(median(&[1.0, 2.0, 10.0]), 2.0);
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 90.0), 9.0);
        assert_eq!(percentile(&ten, 100.0), 10.0);
        assert_eq!(percentile(&[4.0], 90.0), 4.0);
        let eleven: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(percentile(&eleven, 90.0), 10.0);
    }
}
