//! One letter as the user sees it: the current revision's fields, who it waits on, its
//! chain, timeline and revisions, its signature and delivery state, and the actions open
//! to this user now. The letter page renders it; the API returns it as JSON.

use serde::Serialize;
use serde_json::Value;

use super::Error;
use crate::{
    accounts::{self, User},
    audit,
    db::now,
    departments::{self, Department},
    distribution::{self, deliveries::Delivery},
    letters::{FieldType, Manifest, deadline},
    numbering::{self, Code},
    rendering,
    text::{date_long_iso, plain},
    workflow::{
        self, Decision, Letter, PassedDeadlines, RevisionSummary, Step, StepKind, Workflow,
        remote::{self, RemoteStatus},
        state, step_state,
    },
};

/// A letter with everything its page and the API show about it.
#[derive(Debug, Clone, Serialize)]
pub struct LetterView {
    pub letter: Letter,
    pub template_title: String,
    /// The current revision's fields, as the draft editor starts from them.
    pub data: Value,
    /// Each filled field of the template as a label and one line of text.
    pub fields: Vec<FieldLine>,
    /// Pages of the current revision's PDF.
    pub pages: usize,
    /// The step the letter waits on, while it is drafted or approved.
    pub waiting: Option<Waiting>,
    /// The chain, step by step.
    pub chain: Vec<StepLine>,
    /// The stored steps behind it (the API returns them as they are).
    #[serde(skip)]
    pub steps: Vec<Step>,
    pub timeline: Vec<TimelineLine>,
    pub revisions: Vec<RevisionSummary>,
    pub actions: Actions,
    /// Deadlines of the unsigned letter before the date it would carry if signed today.
    #[serde(skip)]
    pub deadlines: PassedDeadlines,
    /// The same as one sentence ("" when none).
    pub deadline_warning: String,
    /// "Ditandatangani oleh …", once signed.
    pub signed_by: String,
    /// Where the long-term signature stands, once signed.
    pub long_term: String,
    /// The date printed on the letter ("22 November 2026"), once signed.
    pub letter_date_text: String,
    /// The department signs through BSrE.
    pub uses_bsre: bool,
    /// The letter's remote (BSrE) signature, if one was started.
    pub remote: Option<RemoteStatus>,
    /// The delivery log against the SOP's distribution time, once signed.
    pub distribution: Option<DistributionState>,
    /// Why a draft came back, while it is being fixed: who returned it, when, the note.
    pub returned: Option<Returned>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Returned {
    pub by: String,
    pub position_title: String,
    pub at: i64,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldLine {
    pub name: String,
    pub label: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    pub step: String,
    /// Who holds it: the drafter, "staf pengetik", or the positions.
    pub who: Vec<String>,
    pub since: Option<i64>,
    pub standard_minutes: i64,
    pub overdue_minutes: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepLine {
    pub label: String,
    pub round: i64,
    /// Who acted ("Nama (Plh. Jabatan)"), or who holds it while nobody has.
    pub who: String,
    pub state: String,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    /// From start to completion, or until now while it waits.
    pub duration_minutes: Option<i64>,
    pub running: bool,
    pub overdue: bool,
    /// The decision's label ("Paraf", "Diteruskan" …).
    pub decision: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineLine {
    pub at: i64,
    pub who: String,
    pub action: String,
    /// "Diparaf", "Revisi disimpan" …
    pub what: String,
    /// "tahap: …; catatan: …".
    pub detail: String,
}

/// What this user may do with the letter now; each rule is the domain's own.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Actions {
    /// Holds the drafting or typing step: may revise, classify and pass it on.
    pub edit_draft: bool,
    /// The next step's label, for "Teruskan ke …" (with `edit_draft`).
    pub submit_to: Option<String>,
    /// The classification codes to choose from (with `edit_draft`).
    pub classification_codes: Vec<Code>,
    /// A paraf or signature step the user holds or acts for.
    pub decide: Option<DecisionOffer>,
    pub revoke: bool,
    pub correct: bool,
    /// May record deliveries of the signed letter.
    pub record_deliveries: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionOffer {
    pub step_id: i64,
    pub step_label: String,
    pub position_title: String,
    /// "" for the holder, "Plh."/"Plt." for a delegate.
    pub acting_as: String,
    pub signs: bool,
    /// The decisions open at this step, the approving one first.
    pub choices: Vec<Decision>,
    /// The signer must confirm the deadlines before the letter's date.
    pub confirm_deadlines: bool,
    /// The signature goes through BSrE: the BSrE passphrase is asked for.
    pub bsre_passphrase: bool,
    /// BSrE's answer to the last request never came: asking again must be confirmed.
    pub send_again_number: Option<String>,
    /// Wrong passphrases left before the user's key is held, or until when it is held.
    pub passphrase: Option<crate::keys::PassphraseStanding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DistributionState {
    pub deliveries: Vec<Delivery>,
    pub distribution_days: i64,
    pub due_at: i64,
    pub sent: usize,
    pub acknowledged: usize,
    pub distributed: bool,
    pub late: bool,
}

/// The letter `id` of the user's department as `user` sees it.
pub async fn view(flow: &Workflow, user: &User, department: &Department, id: i64) -> Result<LetterView, Error> {
    let letter = workflow::get(&flow.db, department.id, id).await?;
    let manifest = flow.catalogue.get(&letter.template_id).map_err(workflow::Error::from)?.clone();
    let current = workflow::revision(&flow.db, letter.id, letter.revision).await?;
    let data = current.fields();
    let steps = workflow::steps(&flow.db, letter.id).await?;
    let names = Names {
        users: accounts::list(&flow.db, department.id).await?,
        officials: departments::list_officials(&flow.db, department.id).await?,
    };
    let at = now();
    let active: Vec<&Step> = steps
        .iter()
        .filter(|s| s.round == letter.round && s.stage == letter.stage && s.state == step_state::AKTIF)
        .collect();
    let under_way = letter.state == state::KONSEP || letter.state == state::PROSES;
    let waiting = active.first().filter(|_| under_way).map(|step| Waiting {
        step: step.label.clone(),
        who: active.iter().map(|s| names.holder(s)).collect(),
        since: step.started_at,
        standard_minutes: step.standard_minutes,
        overdue_minutes: step.overdue_minutes(at),
    });
    let deadlines = if letter.number.is_none() && under_way {
        flow.passed_deadlines(&letter, department).await?
    } else {
        PassedDeadlines::default()
    };
    let uses_bsre = remote::settings::load(&flow.db, letter.department_id).await?.uses_bsre();
    let remote = remote::status_of(&flow.db, letter.id).await?;
    let actions = actions(
        flow,
        user,
        department,
        &letter,
        &steps,
        &active,
        &deadlines,
        uses_bsre,
        remote.as_ref(),
    )
    .await?;
    // The return that started this round, shown above the draft until it moves on.
    let returned = steps
        .iter()
        .rfind(|s| s.round == letter.round - 1 && s.decision.as_deref() == Some(workflow::Decision::Kembalikan.key()))
        .filter(|_| letter.stage == 0 && letter.state == workflow::state::KONSEP)
        .map(|s| Returned {
            by: names.user(s.acted_by_user),
            position_title: s.position_title.clone(),
            at: s.completed_at.unwrap_or_default(),
            note: s.note.clone(),
        });
    Ok(LetterView {
        returned,
        template_title: manifest.title.clone(),
        fields: field_lines(&manifest, &data),
        pages: rendering::page_count(&current.pdf),
        waiting,
        chain: steps.iter().map(|s| names.step_line(s, at)).collect(),
        timeline: timeline(flow, department.id, letter.id, &names).await?,
        revisions: workflow::revisions(&flow.db, letter.id).await?,
        actions,
        deadline_warning: deadline::warning(&deadlines.passed, deadlines.letter_date),
        deadlines,
        signed_by: signed_by(flow, department, &letter, &steps).await?,
        long_term: long_term(flow, letter.id).await,
        letter_date_text: letter.letter_date.as_deref().map(date_long_iso).unwrap_or_default(),
        uses_bsre,
        remote,
        distribution: distribution_state(flow, department.id, &letter, &manifest).await?,
        steps,
        data,
        letter,
    })
}

#[allow(clippy::too_many_arguments)]
async fn actions(
    flow: &Workflow,
    user: &User,
    department: &Department,
    letter: &Letter,
    steps: &[Step],
    active: &[&Step],
    deadlines: &PassedDeadlines,
    uses_bsre: bool,
    remote: Option<&RemoteStatus>,
) -> Result<Actions, Error> {
    let mut actions = Actions {
        edit_draft: letter.state == state::KONSEP && active.iter().any(|s| workflow::may_hold_drafting_step(user, s)),
        record_deliveries: distribution::may_distribute(user),
        ..Actions::default()
    };
    if actions.edit_draft {
        actions.classification_codes = numbering::codes(&flow.db, department.id).await?;
        actions.submit_to = Some(
            steps
                .iter()
                .find(|s| s.round == letter.round && s.stage > letter.stage && s.state == step_state::MENUNGGU)
                .map(|s| s.label.clone())
                .unwrap_or_default(),
        );
    }
    if letter.state == state::PROSES {
        let today = department.tz().today();
        for step in active {
            if let Some(capacity) = flow.capacity(user, step, today).await? {
                let signs = step.step_kind() == StepKind::TandaTangan;
                let approve = if signs { Decision::TandaTangan } else { Decision::Paraf };
                let passphrase = match user.official_id {
                    Some(official) => Some(
                        crate::keys::passphrase_standing(&flow.db, official)
                            .await
                            .map_err(workflow::Error::Key)?,
                    ),
                    None => None,
                };
                actions.decide = Some(DecisionOffer {
                    passphrase,
                    step_id: step.id,
                    step_label: step.label.clone(),
                    position_title: step.position_title.clone(),
                    acting_as: capacity.acting_as,
                    signs,
                    choices: vec![approve, Decision::Kembalikan, Decision::Tolak],
                    confirm_deadlines: signs && !deadlines.passed.is_empty(),
                    bsre_passphrase: signs && (uses_bsre || remote.is_some()),
                    send_again_number: remote.filter(|r| signs && r.outcome_unknown()).map(|r| r.number.clone()),
                });
                break;
            }
        }
    }
    // The signer or an administrator may revoke a signed letter or start its correction.
    if letter.number.is_some() && workflow::check_withdraw(user, letter, steps).is_ok() {
        actions.revoke = letter.revoked_at.is_none();
        actions.correct = true;
    }
    Ok(actions)
}

/// The names of the department's users and officials, for who did what.
struct Names {
    users: Vec<User>,
    officials: Vec<departments::Official>,
}

impl Names {
    fn user(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.users.iter().find(|u| u.id == id))
            .map(|u| u.display_name.clone())
            .unwrap_or_default()
    }

    fn official(&self, id: Option<i64>) -> Option<String> {
        id.and_then(|id| self.officials.iter().find(|o| o.id == id)).map(|o| o.full_name())
    }

    /// Who holds a step: its drafter, any typist, or its position.
    fn holder(&self, step: &Step) -> String {
        match step.step_kind() {
            StepKind::Konsep => self.user(step.assignee_user_id),
            StepKind::Ketik => "salah satu staf pengetik".into(),
            _ => step.position_title.clone(),
        }
    }

    fn step_line(&self, s: &Step, at: i64) -> StepLine {
        let actor = self.official(s.acted_by_official).unwrap_or_else(|| self.user(s.acted_by_user));
        let who = match (actor.is_empty(), s.acting_as.is_empty()) {
            (true, _) => self.holder(s),
            (false, true) => actor,
            (false, false) => format!("{actor} ({} {})", s.acting_as, s.position_title),
        };
        let running = s.state == step_state::AKTIF;
        StepLine {
            label: s.label.clone(),
            round: s.round,
            who,
            state: s.state.clone(),
            started_at: s.started_at,
            completed_at: s.completed_at,
            duration_minutes: match (s.started_at, s.completed_at) {
                (Some(a), Some(b)) => Some((b - a) / 60),
                (Some(a), None) if running => Some((at - a) / 60),
                _ => None,
            },
            running,
            overdue: s.started_at.is_some() && s.overdue_minutes(at).is_some(),
            decision: s
                .decision
                .as_deref()
                .and_then(Decision::parse)
                .map(|d| d.label().to_string())
                .or_else(|| (s.decision.as_deref() == Some("teruskan")).then(|| "Diteruskan".to_string()))
                .unwrap_or_default(),
            note: s.note.clone(),
        }
    }
}

fn action_label(action: &str) -> &'static str {
    match action {
        "letter.created" => "Konsep dibuat",
        "letter.revised" => "Revisi disimpan",
        "letter.submitted" => "Diteruskan",
        "letter.initialled" => "Diparaf",
        "letter.signed" => "Ditandatangani",
        "letter.returned" => "Dikembalikan untuk perbaikan",
        "letter.rejected" => "Ditolak",
        _ => "Perubahan",
    }
}

/// The letter's audit entries, oldest first, in words.
async fn timeline(flow: &Workflow, department_id: i64, letter_id: i64, names: &Names) -> Result<Vec<TimelineLine>, Error> {
    let entries = audit::for_subject(&flow.db, department_id, &format!("letter:{letter_id}")).await?;
    Ok(entries
        .into_iter()
        .map(|e| {
            let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
            let who = e
                .actor
                .split(':')
                .nth(1)
                .and_then(|id| id.parse::<i64>().ok())
                .map(|id| names.user(Some(id)))
                .unwrap_or_else(|| e.actor.clone());
            let mut detail = Vec::new();
            for key in ["step", "stage", "revision", "note", "acting_as", "outcome", "to"] {
                if let Some(v) = details.get(key).map(plain).filter(|v| !v.is_empty()) {
                    let label = match key {
                        "step" | "stage" => "tahap",
                        "revision" => "revisi",
                        "note" => "catatan",
                        "acting_as" => "sebagai",
                        _ => "lanjut ke",
                    };
                    detail.push(format!("{label}: {v}"));
                }
            }
            TimelineLine {
                at: e.at,
                who,
                what: action_label(&e.action).into(),
                action: e.action,
                detail: detail.join("; "),
            }
        })
        .collect())
}

/// Each filled field of the template, in the template's order.
fn field_lines(manifest: &Manifest, data: &Value) -> Vec<FieldLine> {
    let Some(values) = data.as_object() else { return Vec::new() };
    manifest
        .fields
        .iter()
        .filter_map(|f| {
            let value = values.get(&f.name)?;
            Some(FieldLine {
                name: f.name.clone(),
                label: f.label.clone(),
                text: field_text(manifest, &f.name, value),
            })
        })
        .collect()
}

/// A field's value as one line of text: a table by its size, recipients by name, long
/// text cut at 400 characters.
pub fn field_text(manifest: &Manifest, name: &str, value: &Value) -> String {
    match (manifest.field(name).map(|f| f.kind), value) {
        (Some(FieldType::Rows), Value::Array(rows)) => format!("{} baris", rows.len()),
        (Some(FieldType::Recipients), Value::Array(items)) => items
            .iter()
            .map(|i| i.get("nama").map(plain).unwrap_or_else(|| plain(i)))
            .collect::<Vec<_>>()
            .join("; "),
        (_, v) => {
            let text = plain(v);
            if text.chars().count() > 400 {
                format!("{}…", text.chars().take(400).collect::<String>())
            } else {
                text
            }
        }
    }
}

/// A field's label, or its name for a field the template no longer has.
pub fn field_label(manifest: &Manifest, name: &str) -> String {
    manifest.field(name).map(|f| f.label.clone()).unwrap_or_else(|| name.to_string())
}

async fn signed_by(flow: &Workflow, department: &Department, letter: &Letter, steps: &[Step]) -> Result<String, Error> {
    if workflow::signature_step(steps, letter).is_none() {
        return Ok(String::new());
    }
    let Some(signer) = workflow::signer_of(&flow.db, department, letter, steps).await? else {
        return Ok(String::new());
    };
    let mut line = format!("Ditandatangani oleh {}, ", signer.nama);
    if let Some(an) = &signer.atas_nama {
        line.push_str(&format!("a.n. {an}, "));
    }
    if let Some(sebutan) = &signer.sebutan {
        line.push_str(sebutan);
        line.push(' ');
    }
    line.push_str(&signer.jabatan);
    line.push('.');
    Ok(line)
}

/// Where the long-term signature stands; a status that cannot be read is left out of
/// the page rather than failing it.
async fn long_term(flow: &Workflow, letter_id: i64) -> String {
    match workflow::longterm::of_letter(&flow.db, letter_id).await {
        Ok(job) => job.map(|j| j.summary()).unwrap_or_default(),
        Err(e) => {
            tracing::warn!(error = %e, "status stempel waktu tidak terbaca");
            String::new()
        }
    }
}

async fn distribution_state(
    flow: &Workflow,
    department_id: i64,
    letter: &Letter,
    manifest: &Manifest,
) -> Result<Option<DistributionState>, Error> {
    let Some(signed_at) = letter.signed_at else { return Ok(None) };
    let deliveries = distribution::deliveries::for_letter(&flow.db, department_id, letter.id).await?;
    let due_at = signed_at + manifest.distribution_days * 86_400;
    let sent = deliveries.iter().filter(|d| d.is_out()).count();
    let acknowledged = deliveries.iter().filter(|d| d.status == "acknowledged").count();
    let distributed = !deliveries.is_empty() && sent == deliveries.len();
    Ok(Some(DistributionState {
        late: !distributed && now() > due_at && letter.revoked_at.is_none(),
        distribution_days: manifest.distribution_days,
        due_at,
        sent,
        acknowledged,
        distributed,
        deliveries,
    }))
}
