//! Chains: the ordered stages a document kind goes through, with the SOP as default.

use serde::{Deserialize, Serialize};
use sqlx::Any;

use super::Error;
use crate::{
    db::{Db, now},
    letters::manifest::DocumentKind,
};

/// What happens at a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The drafter (konseptor) writes the draft.
    Konsep,
    /// A typist (staf) types and edits it.
    Ketik,
    /// An official checks and initials it (paraf hierarki).
    Paraf,
    /// Another unit affected initials it (paraf koordinasi, e.g. the legal section).
    ParafKoordinasi,
    /// The signer signs it.
    TandaTangan,
}

impl StepKind {
    pub fn key(self) -> &'static str {
        match self {
            StepKind::Konsep => "konsep",
            StepKind::Ketik => "ketik",
            StepKind::Paraf => "paraf",
            StepKind::ParafKoordinasi => "paraf_koordinasi",
            StepKind::TandaTangan => "tanda_tangan",
        }
    }

    pub fn parse(key: &str) -> Option<StepKind> {
        [
            StepKind::Konsep,
            StepKind::Ketik,
            StepKind::Paraf,
            StepKind::ParafKoordinasi,
            StepKind::TandaTangan,
        ]
        .into_iter()
        .find(|k| k.key() == key)
    }

    /// Stages whose decision is a signed statement asked with the passphrase.
    pub fn is_signed(self) -> bool {
        matches!(self, StepKind::Paraf | StepKind::ParafKoordinasi | StepKind::TandaTangan)
    }
}

/// One stage of a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageSpec {
    pub kind: StepKind,
    /// Shown in the inbox and the timeline, e.g. "Paraf Kepala Bidang".
    pub label: String,
    /// Who acts at a paraf or signature stage: position kinds (`kepala_bidang`) or
    /// positions by id (`#12`). Several entries are parallel approvers: all must act.
    #[serde(default)]
    pub positions: Vec<String>,
    /// Skipped when none of its positions is held by anyone (e.g. paraf koordinasi).
    #[serde(default)]
    pub optional: bool,
    /// For the signature: the position signed on behalf of ("a.n."), by kind or id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atas_nama: Option<String>,
    /// The SOP's standard time for the stage (Mutu Baku).
    pub standard_minutes: i64,
}

/// The stages of a chain in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSpec {
    pub stages: Vec<StageSpec>,
}

fn stage(kind: StepKind, label: &str, positions: &[&str], standard_minutes: i64) -> StageSpec {
    StageSpec {
        kind,
        label: label.into(),
        positions: positions.iter().map(|p| p.to_string()).collect(),
        optional: false,
        atas_nama: None,
        standard_minutes,
    }
}

impl ChainSpec {
    /// The SOP (../shared/DOMAIN.md §2): draft 30 min, type 30 min, paraf Kepala Bidang
    /// 15 min, paraf Sekretaris 15 min, signature Kepala Dinas 30 min; a decree adds an
    /// optional paraf koordinasi (nobody holds it until the department names a position).
    pub fn sop_default(kind: DocumentKind) -> ChainSpec {
        let mut stages = vec![
            stage(StepKind::Konsep, "Konsep (Sub Bagian Program)", &[], 30),
            stage(StepKind::Ketik, "Pengetikan (Staf)", &[], 30),
            stage(StepKind::Paraf, "Paraf Kepala Bidang", &["kepala_bidang"], 15),
        ];
        if kind == DocumentKind::Keputusan {
            let mut coordination = stage(StepKind::ParafKoordinasi, "Paraf koordinasi (Bagian Hukum)", &["bagian_hukum"], 15);
            coordination.optional = true;
            stages.push(coordination);
        }
        stages.push(stage(StepKind::Paraf, "Paraf Sekretaris Dinas", &["sekretaris"], 15));
        stages.push(stage(StepKind::TandaTangan, "Tanda tangan Kepala Dinas", &["kepala_dinas"], 30));
        ChainSpec { stages }
    }

    /// Checks the shape: drafting stages first, exactly one signature and it last,
    /// positions named at every paraf and signature stage.
    pub fn check(&self) -> Result<(), String> {
        let Some(last) = self.stages.last() else {
            return Err("rantai tidak memiliki tahap".into());
        };
        if last.kind != StepKind::TandaTangan {
            return Err("tahap terakhir harus tanda tangan".into());
        }
        if self.stages.iter().filter(|s| s.kind == StepKind::TandaTangan).count() != 1 {
            return Err("rantai harus memiliki tepat satu tahap tanda tangan".into());
        }
        if self.stages.first().map(|s| s.kind) != Some(StepKind::Konsep) {
            return Err("tahap pertama harus konsep".into());
        }
        let mut seen_approval = false;
        for (i, s) in self.stages.iter().enumerate() {
            if s.label.trim().is_empty() {
                return Err(format!("tahap {} tidak bernama", i + 1));
            }
            if !(1..=60 * 24 * 30).contains(&s.standard_minutes) {
                return Err(format!("waktu baku tahap \"{}\" harus 1 menit sampai 30 hari", s.label));
            }
            if s.kind.is_signed() {
                seen_approval = true;
                if s.positions.is_empty() {
                    return Err(format!("tahap \"{}\" tidak menyebut jabatan", s.label));
                }
            } else if seen_approval {
                return Err(format!("tahap \"{}\" (konsep/ketik) harus sebelum paraf", s.label));
            }
            if s.kind == StepKind::TandaTangan && s.positions.len() != 1 {
                return Err("tanda tangan dilakukan oleh tepat satu jabatan".into());
            }
            if s.optional && s.kind == StepKind::TandaTangan {
                return Err("tanda tangan tidak boleh opsional".into());
            }
        }
        Ok(())
    }
}

/// The department's chain for a kind of document: its own if configured, else the SOP's.
pub async fn for_kind(db: &Db, department_id: i64, kind: DocumentKind) -> Result<ChainSpec, Error> {
    let stored = sqlx::query_as::<Any, (String,)>("SELECT steps FROM chain_definitions WHERE department_id = $1 AND document_kind = $2")
        .bind(department_id)
        .bind(kind.key())
        .fetch_optional(&db.pool)
        .await?;
    match stored {
        Some((json,)) => serde_json::from_str(&json).map_err(|e| Error::Internal(format!("rantai tersimpan rusak: {e}"))),
        None => Ok(ChainSpec::sop_default(kind)),
    }
}

/// Stores a department's chain for a kind; letters already under way keep theirs.
pub async fn set_for_kind(
    db: &Db,
    actor: &crate::audit::Actor,
    department_id: i64,
    kind: DocumentKind,
    chain: &ChainSpec,
) -> Result<(), Error> {
    chain.check().map_err(Error::BadChain)?;
    let json = serde_json::to_string(chain).map_err(|e| Error::Internal(e.to_string()))?;
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM chain_definitions WHERE department_id = $1 AND document_kind = $2")
        .bind(department_id)
        .bind(kind.key())
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO chain_definitions (department_id, document_kind, steps, updated_at) VALUES ($1, $2, $3, $4)")
        .bind(department_id)
        .bind(kind.key())
        .bind(&json)
        .bind(now())
        .execute(&mut *tx)
        .await?;
    crate::audit::record(
        &mut tx,
        crate::audit::Event {
            department_id: Some(department_id),
            actor,
            action: "chain.updated",
            subject: format!("chain:{}", kind.key()),
            details: serde_json::to_value(chain).unwrap_or_default(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sop_chains_are_well_formed() {
        for kind in [DocumentKind::Surat, DocumentKind::Keputusan] {
            let chain = ChainSpec::sop_default(kind);
            chain.check().unwrap();
            let minutes: Vec<i64> = chain.stages.iter().map(|s| s.standard_minutes).collect();
            match kind {
                DocumentKind::Surat => assert_eq!(minutes, [30, 30, 15, 15, 30]),
                DocumentKind::Keputusan => assert_eq!(minutes, [30, 30, 15, 15, 15, 30]),
            }
        }
    }

    #[test]
    fn malformed_chains_are_refused_with_a_reason() {
        let mut chain = ChainSpec::sop_default(DocumentKind::Surat);
        chain.stages.pop();
        assert!(chain.check().unwrap_err().contains("terakhir"));
        let mut chain = ChainSpec::sop_default(DocumentKind::Surat);
        chain.stages[2].positions.clear();
        assert!(chain.check().unwrap_err().contains("jabatan"));
        let mut chain = ChainSpec::sop_default(DocumentKind::Surat);
        chain.stages.swap(1, 2);
        assert!(chain.check().unwrap_err().contains("sebelum paraf"));
        let mut chain = ChainSpec::sop_default(DocumentKind::Surat);
        chain.stages[3].standard_minutes = 0;
        assert!(chain.check().unwrap_err().contains("waktu baku"));
    }
}
