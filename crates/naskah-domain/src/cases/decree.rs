//! The SK naming the beneficiaries: drafted only from the final list, and changed only
//! by an amending decree drafted from the list as it stands then. Its `penerima` field
//! is locked (see the template's manifest), so no typed list can reach a decree.

use super::Error;
use crate::{
    accounts::User,
    beneficiaries::{self, decree},
    departments::Department,
    workflow::{self, Letter, Workflow},
};

/// Who may draft a decree from the final list: those who work on the candidate data.
fn check_may_draft(user: &User) -> Result<(), Error> {
    if beneficiaries::may_manage(user) {
        Ok(())
    } else {
        Err(Error::Denied(
            "Hanya konseptor, staf pengetik dan pemaraf (Kepala Bidang) yang menyusun SK dari daftar final.".into(),
        ))
    }
}

/// A new SK draft with every final beneficiary, for this year's budget.
pub async fn draft(flow: &Workflow, user: &User, department: &Department) -> Result<(Letter, usize), Error> {
    check_may_draft(user)?;
    let manifest = flow.catalogue.get(decree::SK_TEMPLATE).map_err(workflow::Error::from)?;
    let mut base = manifest.defaults();
    if let Some(object) = base.as_object_mut() {
        object.insert(
            "tahun_anggaran".into(),
            serde_json::json!(chrono::Datelike::year(&department.tz().today())),
        );
    }
    let (data, count) = decree::sk_data(&flow.db, department, &base).await?;
    let note = format!("disusun dari daftar final ({count} penerima)");
    let letter = flow.create_from_source(user, decree::SK_TEMPLATE, &data, &note).await?;
    Ok((letter, count))
}

/// An amending decree of the SK in force, with the final list as it stands now.
pub async fn amend(flow: &Workflow, user: &User, department: &Department) -> Result<Letter, Error> {
    check_may_draft(user)?;
    let (sk_id, number) = decree::current_sk(&flow.db, department.id, decree::SK_TEMPLATE)
        .await?
        .ok_or_else(|| workflow::Error::Conflict("Belum ada SK yang berlaku untuk diubah.".into()))?;
    let in_force = workflow::get(&flow.db, department.id, sk_id).await?;
    let signed = workflow::revision(&flow.db, sk_id, in_force.revision).await?.fields();
    let (data, _) = decree::amendment_data(&flow.db, department, &signed, &number).await?;
    Ok(flow.start_amendment(user, sk_id, &data).await?)
}
