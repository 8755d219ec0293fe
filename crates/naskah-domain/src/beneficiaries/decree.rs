//! The SK's attachment from the final list: every candidate the village confirmed and
//! BPJS found not yet insured, with the department's contribution settings, as the
//! data of the `sk-penerima-bantuan-iuran` template (which groups by kecamatan and
//! desa, adds subtotals, the total and the total in words).

use serde_json::{Value, json};

use super::{
    Error, Settings,
    candidates::{self, Candidate, Status},
    import::Villages,
};
use crate::{db::Db, departments::Department};

/// The template of the decree naming the beneficiaries.
pub const SK_TEMPLATE: &str = "sk-penerima-bantuan-iuran";

/// The final list, by kecamatan, village and name.
pub async fn final_list(db: &Db, department_id: i64) -> Result<Vec<Candidate>, Error> {
    candidates::with_status(db, department_id, Status::Final).await
}

/// The rows of the SK's `penerima` table.
pub fn rows(list: &[Candidate], villages: &Villages) -> Vec<Value> {
    list.iter()
        .map(|c| {
            let (village, district) = villages
                .get(&c.region_code)
                .map_or((c.region_code.clone(), String::new()), |v| (v.name.clone(), v.district.clone()));
            json!({
                "nik": c.nik,
                "nama": c.name,
                "jenis_kelamin": c.sex,
                "pekerjaan": if c.occupation.is_empty() { "-".to_string() } else { c.occupation.clone() },
                "desa": village,
                "kecamatan": district,
            })
        })
        .collect()
}

/// The SK's data: `base` (what the drafter typed) with the final list and the
/// contribution per month and number of months from the department's settings.
pub async fn sk_data(db: &Db, department: &Department, base: &Value) -> Result<(Value, usize), Error> {
    let list = final_list(db, department.id).await?;
    if list.is_empty() {
        return Err(Error::Conflict(
            "Belum ada penerima final: konfirmasi desa dan pengecekan BPJS belum selesai untuk seorang pun.".into(),
        ));
    }
    let villages = Villages::load(db, department.region_code.as_deref().unwrap_or_default(), &department.regency_name).await?;
    let settings = Settings::load(db, department.id).await?;
    let mut data = base.as_object().cloned().unwrap_or_default();
    data.insert("penerima".into(), Value::Array(rows(&list, &villages)));
    data.insert("iuran_per_bulan".into(), json!(settings.monthly_rupiah));
    data.insert("jumlah_bulan".into(), json!(settings.months));
    Ok((Value::Object(data), list.len()))
}

/// The people an amending decree changes: who leaves the signed SK's list and who joins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub leaving: Vec<String>,
    pub joining: Vec<String>,
}

/// The data of an amending decree of a signed SK: its data with the current final list
/// and "Perubahan atas Keputusan … Nomor …" before what it is about; the changes
/// against the signed list. `Error::Conflict` when nothing changed.
pub async fn amendment_data(db: &Db, department: &Department, signed: &Value, number: &str) -> Result<(Value, Changes), Error> {
    let (mut data, _) = sk_data(db, department, signed).await?;
    let niks = |v: &Value| -> std::collections::BTreeMap<String, String> {
        v["penerima"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p["nik"].as_str()?.to_string(), p["nama"].as_str().unwrap_or_default().to_string())))
            .collect()
    };
    let (before, after) = (niks(signed), niks(&data));
    let changes = Changes {
        leaving: before
            .iter()
            .filter(|(k, _)| !after.contains_key(*k))
            .map(|(_, n)| n.clone())
            .collect(),
        joining: after
            .iter()
            .filter(|(k, _)| !before.contains_key(*k))
            .map(|(_, n)| n.clone())
            .collect(),
    };
    if changes.leaving.is_empty() && changes.joining.is_empty() {
        return Err(Error::Conflict(
            "Daftar final sama dengan lampiran SK yang sudah ditandatangani.".into(),
        ));
    }
    let about = signed["tentang"].as_str().unwrap_or_default();
    if !about.starts_with("Perubahan atas") {
        data["tentang"] = Value::String(format!("Perubahan atas Keputusan Kepala Dinas Nomor {number} tentang {about}"));
    }
    Ok((data, changes))
}

/// The signed SK in force (neither replaced nor revoked), newest first: (letter id, number).
pub async fn current_sk(db: &Db, department_id: i64, template_id: &str) -> Result<Option<(i64, String)>, Error> {
    Ok(sqlx::query_as::<sqlx::Any, (i64, String)>(
        "SELECT id, number FROM letters WHERE department_id = $1 AND template_id = $2 AND number IS NOT NULL \
         AND superseded_by IS NULL AND revoked_at IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(department_id)
    .bind(template_id)
    .fetch_optional(&db.pool)
    .await?)
}
