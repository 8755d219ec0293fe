//! `naskah demo --walkthrough DIR`: the SOP's three documents on the demo department,
//! without a browser: drafted, typed, initialled and signed by the demo officials, each
//! step through the same domain functions the pages use. Writes the signed PDFs, the
//! department's public keys and `summary.json` to DIR. It works in a database and key
//! store of its own inside DIR, so it can be run any number of times.

use std::{path::Path, sync::Arc};

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;

use crate::{
    accounts::{self, User},
    db::Db,
    demo,
    keys::KeyStore,
    letters::Catalogue,
    rendering::Renderer,
    workflow::{self, Decision, DecisionRequest, Workflow},
};

/// One signed document in `summary.json`.
#[derive(Debug, Serialize)]
pub struct Signed {
    pub template: String,
    pub title: String,
    pub id: i64,
    pub number: String,
    pub date: String,
    pub verification_address: String,
    pub signer: String,
    pub sha256: String,
    pub file: String,
    /// The algorithm of the PAdES signature inside the PDF, checked before writing.
    pub pdf_signature: String,
    /// SHA-256 fingerprint of the signer's certificate.
    pub certificate: String,
}

/// The three documents, in SOP order.
const DOCUMENTS: [&str; 3] = ["surat-permintaan-data", "surat-konfirmasi-desa", "sk-penerima-bantuan-iuran"];

/// One delivery of the village letters in `summary.json`.
#[derive(Debug, Serialize)]
pub struct DeliveryLine {
    pub number: String,
    pub to: String,
    pub role: String,
    pub channel: String,
    pub address: String,
    pub status: String,
    pub attempts: i64,
    pub error: String,
}

/// What the walkthrough did.
#[derive(Debug)]
pub struct Outcome {
    pub signed: Vec<Signed>,
    pub village_letters: usize,
    /// E-mails sent to the configured SMTP server (0 when none is configured).
    pub mailed: usize,
    pub deliveries: Vec<DeliveryLine>,
}

pub async fn run(dir: &Path, templates_dir: &Path, base_url: &str, mail: &crate::config::MailConfig) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(dir).with_context(|| format!("{} tidak dapat dibuat", dir.display()))?;
    let database = dir.join("walkthrough.sqlite3");
    for stale in [
        database.clone(),
        dir.join("walkthrough.sqlite3-wal"),
        dir.join("walkthrough.sqlite3-shm"),
    ] {
        let _ = std::fs::remove_file(stale);
    }
    let keys_dir = dir.join("kunci");
    let _ = std::fs::remove_dir_all(&keys_dir);
    let db = Db::open(&format!("sqlite://{}?mode=rwc", database.display()), 5).await?;
    let password = accounts::generate_password();
    demo::seed(&db, Some(&password)).await?;
    let passphrase = format!("frasa {}", accounts::generate_password());
    let store = KeyStore::new(&keys_dir);
    demo::seed_keys(&db, &store, Some(&passphrase)).await?;
    let renderer =
        Renderer::load(templates_dir, 2).with_context(|| format!("templat di {} tidak dapat dimuat", templates_dir.display()))?;
    let flow = Workflow {
        db: db.clone(),
        catalogue: Arc::new(Catalogue::from_renderer(&renderer)?),
        renderer,
        keys: store,
        base_url: base_url.into(),
    };
    let user = |name: &'static str| {
        let db = db.clone();
        async move {
            accounts::find_by_username(&db, name)
                .await?
                .with_context(|| format!("akun demo {name} tidak ada"))
        }
    };
    let (konseptor, staf, kabid, sekdis, kadis) = (
        user("konseptor").await?,
        user("staf").await?,
        user("kabid").await?,
        user("sekdis").await?,
        user("kadis").await?,
    );

    // The department's roots, which every signed PDF must verify against.
    let department = crate::departments::get_by_slug(&db, demo::DEMO_SLUG).await?;
    let authorities = crate::signing::authority::all(&db, department.id).await?;
    let roots: Vec<Vec<u8>> = authorities.iter().map(|r| r.certificate.clone()).collect();
    let mut signed = Vec::new();
    for template in DOCUMENTS {
        let manifest = flow.catalogue.get(template)?.clone();
        let example: Value = match flow.renderer.file(&format!("/{template}/contoh.json")) {
            Some(bytes) => serde_json::from_slice(bytes).with_context(|| format!("{template}/contoh.json bukan JSON"))?,
            None => serde_json::json!({}),
        };
        let letter = flow.create(&konseptor, template, &example, "walkthrough: konsep").await?;
        let letter = flow.submit(&konseptor, letter.id, letter.version).await?;
        let letter = flow.submit(&staf, letter.id, letter.version).await?;
        let mut letter = letter;
        for (who, decision) in [
            (&kabid, Decision::Paraf),
            (&sekdis, Decision::Paraf),
            (&kadis, Decision::TandaTangan),
        ] {
            letter = decide(&flow, who, &letter, decision, &passphrase).await?;
        }
        let pdf = workflow::final_pdf(&db, letter.id).await?.context("naskah akhir tidak tersimpan")?;
        let number = letter.number.clone().unwrap_or_default();
        let file = format!("{template}-{}.pdf", number.replace(['/', ' '], "-"));
        std::fs::write(dir.join(&file), &pdf).with_context(|| format!("{file} tidak dapat ditulis"))?;
        let signer = workflow::signer_block(&db, &letter)
            .await?
            .map(|s| format!("{}, {}", s.nama, s.jabatan))
            .unwrap_or_default();
        let verification_id = letter.verification_id.clone().unwrap_or_default();
        let embedded = crate::signing::pades::inspect(&pdf, &roots)
            .pop()
            .context("naskah akhir tanpa tanda tangan PDF")?;
        anyhow::ensure!(embedded.valid(), "tanda tangan PDF {file} tidak sah: {:?}", embedded.problem);
        signed.push(Signed {
            template: template.into(),
            title: manifest.title.clone(),
            id: letter.id,
            number,
            date: letter.letter_date.clone().unwrap_or_default(),
            verification_address: flow.qr_address(&verification_id, letter.qr_token.as_deref()),
            signer,
            sha256: letter.final_sha256.clone().unwrap_or_default(),
            file,
            pdf_signature: embedded.algorithm.unwrap_or_default().into(),
            certificate: embedded.certificate_fingerprint.unwrap_or_default(),
        });
    }

    // Step 16 of the SOP: the confirmation letter for every village of the demo regency,
    // drafted once, signed in one bulk action, and distributed.
    let villages = village_letters(&flow, &department, &konseptor, &staf, [&kabid, &sekdis, &kadis], &passphrase, dir).await?;
    let mut mailed = 0;
    match crate::distribution::mail::Outbox::from_config(&db, mail, base_url).map_err(anyhow::Error::msg)? {
        Some(outbox) => mailed = outbox.run_once().await?.sent,
        None => println!("mail.smtp_url kosong: surel ke desa menunggu di kotak keluar (lihat summary.json)."),
    }
    let mut deliveries = Vec::new();
    for letter in &villages {
        for d in crate::distribution::deliveries::for_letter(&db, department.id, letter.id).await? {
            deliveries.push(DeliveryLine {
                number: letter.number.clone().unwrap_or_default(),
                to: d.name,
                role: d.role,
                channel: d.channel,
                address: d.address,
                status: d.status,
                attempts: d.attempts,
                error: d.last_error,
            });
        }
    }
    let batch_id = villages.first().and_then(|l| l.batch_id);
    let carried =
        crate::distribution::list::rows(&db, department.id, batch_id, None, crate::distribution::list::Selection::Carried).await?;
    let list = crate::distribution::list::pdf(
        &flow.renderer,
        &db,
        &department,
        "Surat konfirmasi kepada desa/kelurahan",
        &carried,
        crate::distribution::list::Selection::Carried,
    )
    .await?;
    std::fs::write(dir.join("daftar-pengiriman.pdf"), list)?;

    let published = crate::verification::published_keys(&db).await?;
    std::fs::write(dir.join("naskah-keys.json"), serde_json::to_string_pretty(&published)?)?;
    // The root to trust when checking the PDFs with pyHanko, pdfsig or Acrobat.
    std::fs::write(
        dir.join("otoritas-sertifikat.pem"),
        authorities.iter().map(|r| r.pem()).collect::<String>(),
    )?;
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "department": demo::DEMO_SLUG,
            "letters": signed,
            "village_letters": {
                "count": villages.len(),
                "numbers": villages.iter().filter_map(|l| l.number.clone()).collect::<Vec<_>>(),
                "folder": "surat-desa",
                "distribution_list": "daftar-pengiriman.pdf",
            },
            "mail": {
                "smtp": if mail.smtp_url.is_empty() { String::new() } else { crate::config::redact_url(mail.smtp_url.expose()) },
                "sent": mailed,
            },
            "deliveries": deliveries,
        }))?,
    )?;
    db.pool.close().await;
    Ok(Outcome {
        signed,
        village_letters: villages.len(),
        mailed,
        deliveries,
    })
}

/// The confirmation letter for every village: demo addresses for the villages, the
/// synthetic candidates, one batch, passed on and signed in bulk; each PDF written to
/// `surat-desa/`.
async fn village_letters(
    flow: &Workflow,
    department: &crate::departments::Department,
    drafter: &User,
    typist: &User,
    approvers: [&User; 3],
    passphrase: &str,
    dir: &Path,
) -> anyhow::Result<Vec<workflow::Letter>> {
    use crate::distribution::batches;
    // Demo addresses only in the walkthrough's own database (".example" never delivers).
    sqlx::query(
        "UPDATE recipients SET email = LOWER(REPLACE(name, ' ', '.')) || '@desa.example' \
         WHERE department_id = $1 AND kind IN ('desa', 'kelurahan') AND email = ''",
    )
    .bind(department.id)
    .execute(&flow.db.pool)
    .await?;
    let csv = demo::candidates_csv(&flow.db, department.id).await?;
    let manifest = flow.catalogue.get("surat-konfirmasi-desa")?.clone();
    let per_village = manifest.per_village.clone().context("templat konfirmasi tanpa [per_village]")?;
    let table = manifest.field(&per_village.rows_field).context("tabel lampiran tidak ada")?;
    let rows = batches::parse_candidates(&csv, table)?;
    let plan = batches::plan(&flow.db, department.id, "", rows).await?;
    let mut shared = batches::shared_fields(&manifest, &per_village, &manifest.defaults());
    shared["tembusan"] = serde_json::json!([{ "nama": "Bupati Penajam Paser Utara (sebagai laporan)" }]);
    let new = workflow::batch::NewBatch {
        template_id: manifest.id.clone(),
        scope: plan.scope.clone(),
        scope_label: plan.scope_label.clone(),
        shared_data: shared.clone(),
        source_name: "calon-demo.csv".into(),
        source_rows: plan.total_rows as i64,
        rows_used: plan.letters.iter().map(|l| l.rows.len() as i64).sum(),
    };
    let (batch, letters) = flow
        .create_batch(drafter, &new, batches::drafts(&per_village, &plan, &shared, true))
        .await?;
    for user in [drafter, typist] {
        let outcome = flow.submit_batch(user, batch.id).await?;
        anyhow::ensure!(outcome.failed.is_empty(), "meneruskan kumpulan gagal: {:?}", outcome.failed);
    }
    let all: Vec<(i64, i64)> = letters.iter().map(|l| (l.id, l.revision)).collect();
    for (user, decision) in approvers.into_iter().zip([Decision::Paraf, Decision::Paraf, Decision::TandaTangan]) {
        let request = DecisionRequest {
            decision,
            note: String::new(),
            expected_revision: 0,
            budget_warning_accepted: false,
        };
        for (id, outcome) in flow.decide_many(user, &all, &request, passphrase, |_, _| {}).await? {
            outcome.with_context(|| format!("surat {id}"))?;
        }
    }
    let signed = workflow::batch_letters(&flow.db, department.id, batch.id).await?;
    let folder = dir.join("surat-desa");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder)?;
    for letter in &signed {
        let pdf = workflow::final_pdf(&flow.db, letter.id)
            .await?
            .context("naskah akhir tidak tersimpan")?;
        let number = letter.number.clone().unwrap_or_default();
        std::fs::write(folder.join(format!("{}.pdf", number.replace(['/', ' '], "-"))), pdf)?;
    }
    Ok(signed)
}

async fn decide(
    flow: &Workflow,
    user: &User,
    letter: &workflow::Letter,
    decision: Decision,
    passphrase: &str,
) -> anyhow::Result<workflow::Letter> {
    let request = DecisionRequest {
        decision,
        note: String::new(),
        expected_revision: letter.revision,
        budget_warning_accepted: false,
    };
    Ok(flow.decide(user, letter.id, &request, passphrase).await?)
}
