//! The letter steps that wait on someone, at any number: counted in the database by
//! group (kind of step, position, assignee, batch), so that whether a person holds a
//! step is asked once per group, and only the steps of the page being shown are read.
//! A Kepala Dinas with 10,000 letters to sign opens "Tugas saya" as quickly as with ten.

use std::collections::HashMap;

use sqlx::Any;

use super::{Error, Letter, Step, StepKind, Task, Workflow, state, step_state};
use crate::accounts::User;

/// Active steps of open letters that share a kind, a position, an assignee and a batch.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StepGroup {
    pub kind: String,
    pub position_id: Option<i64>,
    pub assignee_user_id: Option<i64>,
    pub batch_id: Option<i64>,
    pub steps: i64,
    /// The earliest start among them.
    pub since: i64,
    /// How many are past their standard time.
    pub overdue: i64,
    /// The earliest moment one of them was due (start plus standard time).
    pub first_due: i64,
}

impl StepGroup {
    pub fn step_kind(&self) -> StepKind {
        StepKind::parse(&self.kind).unwrap_or(StepKind::Paraf)
    }
}

/// Who holds a group's steps: the kind, position and assignee, the batch left out.
pub type Holding = (String, Option<i64>, Option<i64>);

const OPEN_STEPS: &str = "FROM letter_steps s JOIN letters l ON l.id = s.letter_id \
     WHERE l.department_id = $1 AND s.state = $2 AND s.round = l.round AND s.stage = l.stage AND l.state IN ($3, $4)";

/// Every group of active steps of the department's open letters, at `at`.
pub async fn step_groups(db: &crate::db::Db, department_id: i64, at: i64) -> Result<Vec<StepGroup>, Error> {
    Ok(sqlx::query_as::<Any, StepGroup>(sqlx::AssertSqlSafe(format!(
        "SELECT s.kind, s.position_id, s.assignee_user_id, l.batch_id, COUNT(*) AS steps, \
         COALESCE(MIN(s.started_at), 0) AS since, \
         COALESCE(SUM(CASE WHEN ($5 - s.started_at) / 60 - s.standard_minutes > 0 THEN 1 ELSE 0 END), 0) AS overdue, \
         COALESCE(MIN(s.started_at + s.standard_minutes * 60), 0) AS first_due \
         {OPEN_STEPS} GROUP BY s.kind, s.position_id, s.assignee_user_id, l.batch_id"
    )))
    .bind(department_id)
    .bind(step_state::AKTIF)
    .bind(state::KONSEP)
    .bind(state::PROSES)
    .bind(at)
    .fetch_all(&db.pool)
    .await?)
}

/// Of `groups`, those `user` holds, with "" for the holder or "Plh."/"Plt." when the
/// user acts for the position: the same rules as [`super::inbox`], asked once per
/// holding.
pub async fn held(flow: &Workflow, user: &User, groups: &[StepGroup], today: chrono::NaiveDate) -> Result<HashMap<Holding, String>, Error> {
    let mut held = HashMap::new();
    let mut asked: HashMap<Holding, Option<String>> = HashMap::new();
    for g in groups {
        let key: Holding = (g.kind.clone(), g.position_id, g.assignee_user_id);
        if asked.contains_key(&key) {
            continue;
        }
        let step = Step {
            id: 0,
            letter_id: 0,
            round: 0,
            stage: 0,
            kind: g.kind.clone(),
            label: String::new(),
            assignee_user_id: g.assignee_user_id,
            assignee_role: None,
            position_id: g.position_id,
            position_title: String::new(),
            atas_nama: String::new(),
            standard_minutes: 0,
            state: step_state::AKTIF.into(),
            started_at: None,
            completed_at: None,
            acted_by_user: None,
            acted_by_official: None,
            acting_as: String::new(),
            decision: None,
            note: String::new(),
        };
        let acting_as = match g.step_kind() {
            StepKind::Konsep | StepKind::Ketik if super::may_hold_drafting_step(user, &step) => Some(String::new()),
            StepKind::Konsep | StepKind::Ketik => None,
            _ => flow.capacity(user, &step, today).await?.map(|c| c.acting_as),
        };
        if let Some(acting_as) = &acting_as {
            held.insert(key.clone(), acting_as.clone());
        }
        asked.insert(key, acting_as);
    }
    Ok(held)
}

/// Which active steps to read: those of the holdings that are of letters outside any
/// batch (`outside_batches`), of a batch at a kind of step (`batch_kinds`), or of one of
/// `letters`.
pub struct StepSelection<'a> {
    pub holdings: &'a HashMap<Holding, String>,
    pub outside_batches: bool,
    pub batch_kinds: &'a [(i64, String)],
    pub letters: &'a [i64],
}

impl StepSelection<'_> {
    /// SQL over `s` and `l`; kinds are bound from `$5` in the order returned.
    fn sql(&self) -> (String, Vec<String>) {
        let mut kinds = Vec::new();
        let mut held = Vec::new();
        for (kind, position, assignee) in self.holdings.keys() {
            kinds.push(kind.clone());
            // Ids are integers: they stand in the text.
            held.push(format!(
                "(s.kind = ${} AND COALESCE(s.position_id, 0) = {} AND COALESCE(s.assignee_user_id, 0) = {})",
                4 + kinds.len(),
                position.unwrap_or(0),
                assignee.unwrap_or(0)
            ));
        }
        let mut rows = Vec::new();
        if self.outside_batches {
            rows.push("l.batch_id IS NULL".to_string());
        }
        for (batch, kind) in self.batch_kinds {
            kinds.push(kind.clone());
            rows.push(format!("(l.batch_id = {batch} AND s.kind = ${})", 4 + kinds.len()));
        }
        if !self.letters.is_empty() {
            let ids: Vec<String> = self.letters.iter().map(i64::to_string).collect();
            rows.push(format!("l.id IN ({})", ids.join(", ")));
        }
        if held.is_empty() || rows.is_empty() {
            return ("1 = 0".into(), Vec::new());
        }
        (format!("({}) AND ({})", held.join(" OR "), rows.join(" OR ")), kinds)
    }
}

/// The selected active steps as tasks, oldest first (`newest_first`: from the other
/// end), at most `limit` from `offset`.
pub async fn tasks(
    flow: &Workflow,
    department_id: i64,
    selection: &StepSelection<'_>,
    newest_first: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<Task>, Error> {
    let (keep, kinds) = selection.sql();
    let order = if newest_first { "DESC" } else { "ASC" };
    let columns = super::queries::STEP_COLUMNS
        .split(", ")
        .map(|c| format!("s.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut query = sqlx::query_as::<Any, Step>(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} {OPEN_STEPS} AND {keep} ORDER BY s.started_at {order}, s.id {order} LIMIT {} OFFSET {}",
        limit.max(0),
        offset.max(0)
    )))
    .bind(department_id)
    .bind(step_state::AKTIF)
    .bind(state::KONSEP)
    .bind(state::PROSES);
    for kind in kinds {
        query = query.bind(kind);
    }
    let steps = query.fetch_all(&flow.db.pool).await?;
    let letters = super::queries::letters_by_id(&flow.db, department_id, steps.iter().map(|s| s.letter_id)).await?;
    let at = crate::db::now();
    Ok(steps
        .into_iter()
        .filter_map(|step| {
            let letter: &Letter = letters.get(&step.letter_id)?;
            let acting_as = selection
                .holdings
                .get(&(step.kind.clone(), step.position_id, step.assignee_user_id))?
                .clone();
            Some(Task {
                overdue_minutes: step.overdue_minutes(at),
                letter: letter.clone(),
                step,
                acting_as,
            })
        })
        .collect())
}
