//! The SK's attachment from the final list: every candidate the village confirmed and
//! BPJS found not yet insured, with the department's contribution settings, as the
//! data of the `sk-penerima-bantuan-iuran` template (which groups by kecamatan and
//! desa, adds subtotals, the total and the total in words).

use serde_json::{Value, json};

use super::{
    Error, Settings,
    candidates::{self, Candidate, Filter, Status},
    import::Villages,
};
use crate::{db::Db, departments::Department};

/// The final list, by kecamatan, village and name.
pub async fn final_list(db: &Db, department_id: i64) -> Result<Vec<Candidate>, Error> {
    let (rows, _) = candidates::list(
        db,
        department_id,
        &Filter {
            status: Some(Status::Final),
            ..Filter::default()
        },
        1_000_000,
        0,
    )
    .await?;
    Ok(rows)
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
