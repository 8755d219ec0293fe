//! `naskah demo --walkthrough DIR [--calon FILE]...`: the whole SOP on the demo
//! department, without a browser, each step through the same domain functions the
//! pages use: the data-request letter; the candidate files (the test exports of P3KE
//! and DTKS unless others are given) checked, with their reports written to DIR, and
//! imported; a confirmation letter per village from the data, signed in one bulk action
//! and distributed; every village's reply registered, disposed and applied (a few
//! rejections, one replacement); the BPJS check (the workbook written to DIR, a
//! simulated answer with a few members); the SK from the final list, signed. Writes the
//! signed PDFs, the department's public keys and `summary.json` to DIR. It works in a
//! database and key store of its own inside DIR, so it can be run any number of times.

use std::{path::Path, sync::Arc};

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;

use crate::{
    accounts::{self, User},
    cases,
    db::Db,
    demo,
    keys::KeyStore,
    letters::Catalogue,
    rendering::Renderer,
    workflow::{
        self, Decision, DecisionRequest, Workflow,
        longterm::{self, Augmenter},
    },
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
    /// PAdES B-B, or B-LT/B-LTA when a timestamp authority is configured.
    pub level: String,
}

/// The test exports of ../shared/testdata/candidates, the default candidate files.
const DEFAULT_CANDIDATE_FILES: [(&str, &str); 2] = [
    ("p3ke.csv", include_str!("../tests/data/candidates/p3ke.csv")),
    ("dtks.csv", include_str!("../tests/data/candidates/dtks.csv")),
];

/// One candidate file's import in `summary.json`.
#[derive(Debug, Serialize)]
pub struct ImportLine {
    pub file: String,
    pub source: String,
    pub rows: i64,
    pub valid: i64,
    pub refused: i64,
    pub new: i64,
    pub merged: i64,
    pub report: String,
}

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
    pub imports: Vec<ImportLine>,
    /// People on the SK's attachment.
    pub beneficiaries: usize,
    pub village_letters: usize,
    /// E-mails sent to the configured SMTP server (0 when none is configured).
    pub mailed: usize,
    pub deliveries: Vec<DeliveryLine>,
}

pub async fn run(
    dir: &Path,
    templates_dir: &Path,
    base_url: &str,
    mail: &crate::config::MailConfig,
    timestamp: &crate::config::TimestampConfig,
    candidate_files: &[std::path::PathBuf],
) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(dir).with_context(|| format!("{} tidak dapat dibuat", dir.display()))?;
    let database = dir.join("walkthrough.sqlite3");
    for stale in [
        database.clone(),
        dir.join("walkthrough.sqlite3-wal"),
        dir.join("walkthrough.sqlite3-shm"),
    ] {
        let _ = std::fs::remove_file(stale);
    }
    let db = Db::open(&format!("sqlite://{}?mode=rwc", database.display()), 5).await?;
    let password = accounts::generate_password();
    demo::seed(&db, Some(&password)).await?;
    let passphrase = format!("frasa {}", accounts::generate_password());
    // A walkthrough of its own: a fresh master key, its secrets in its own database.
    let store = KeyStore::new(db.clone(), crate::keys::MasterKey::generate());
    demo::seed_keys(&db, &store, Some(&passphrase)).await?;
    let renderer =
        Renderer::load(templates_dir, 2).with_context(|| format!("templat di {} tidak dapat dimuat", templates_dir.display()))?;
    // With a timestamp authority configured, each letter is made long-term (the durable
    // job's pass, after its signing transaction) before its file is written.
    let augmenter = Augmenter::from_config(&db, &store, timestamp).map_err(anyhow::Error::msg)?;
    let augmenter = augmenter.as_ref();
    let flow = Workflow {
        db: db.clone(),
        catalogue: Arc::new(Catalogue::from_renderer(&renderer)?),
        renderer,
        keys: store,
        base_url: base_url.into(),
        timestamping: augmenter.is_some(),
        distribution: std::sync::Arc::new(crate::distribution::deliveries::DirectoryPlanner),
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
    let authorities = crate::keys::authority::all(&db, department.id).await?;
    let roots: Vec<Vec<u8>> = authorities.iter().map(|r| r.certificate.clone()).collect();
    let mut signed = Vec::new();
    let record = |letter: workflow::Letter, pdf: Vec<u8>, template: &'static str| {
        let (db, flow, roots, dir) = (&db, &flow, &roots, dir);
        async move {
            let manifest = flow.catalogue.get(template)?.clone();
            let number = letter.number.clone().unwrap_or_default();
            let file = format!("{template}-{}.pdf", number.replace(['/', ' '], "-"));
            std::fs::write(dir.join(&file), &pdf).with_context(|| format!("{file} tidak dapat ditulis"))?;
            let signer = workflow::signer_block(db, &letter)
                .await?
                .map(|s| format!("{}, {}", s.nama, s.jabatan))
                .unwrap_or_default();
            let verification_id = letter.verification_id.clone().unwrap_or_default();
            // The signer's signature, not a document timestamp added after it.
            let embedded = crate::signing::pades::inspect(&pdf, roots)
                .into_iter()
                .find(|f| !f.document_timestamp)
                .context("naskah akhir tanpa tanda tangan PDF")?;
            anyhow::ensure!(embedded.valid(), "tanda tangan PDF {file} tidak sah: {:?}", embedded.problem);
            let level = match longterm::of_letter(db, letter.id).await? {
                Some(job) => job.reached().label(),
                None => crate::signing::ltv::Level::B.label(),
            };
            anyhow::Ok(Signed {
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
                level: level.into(),
            })
        }
    };
    let example = |template: &str| -> anyhow::Result<Value> {
        Ok(match flow.renderer.file(&format!("/{template}/contoh.json")) {
            Some(bytes) => serde_json::from_slice(bytes).with_context(|| format!("{template}/contoh.json bukan JSON"))?,
            None => serde_json::json!({}),
        })
    };
    let through_chain = |letter: workflow::Letter| {
        let (flow, konseptor, staf, kabid, sekdis, kadis, passphrase) = (&flow, &konseptor, &staf, &kabid, &sekdis, &kadis, &passphrase);
        async move {
            let letter = flow.submit(konseptor, letter.id, letter.version).await?;
            let mut letter = flow.submit(staf, letter.id, letter.version).await?;
            for (who, decision) in [(kabid, Decision::Paraf), (sekdis, Decision::Paraf), (kadis, Decision::TandaTangan)] {
                letter = decide(flow, who, &letter, decision, passphrase).await?;
            }
            make_long_term(augmenter).await?;
            // Read again: the long-term file replaced the official one and its hash.
            let letter = workflow::get(&flow.db, letter.department_id, letter.id).await?;
            let pdf = workflow::final_pdf(&flow.db, letter.id)
                .await?
                .context("naskah akhir tidak tersimpan")?;
            anyhow::Ok((letter, pdf))
        }
    };

    // Steps 1–7: the data request to the agencies holding the registers.
    // The data are asked for within a week of the letter's date: the example's fixed
    // deadline would be past, and a letter asking for the past needs the signer's say-so.
    let template = "surat-permintaan-data";
    let mut request = example(template)?;
    let deadline = department.tz().today() + chrono::Days::new(7);
    request["batas_waktu"] = Value::String(deadline.format("%Y-%m-%d").to_string());
    let letter = flow.create(&konseptor, template, &request, "walkthrough: konsep").await?;
    let (letter, pdf) = through_chain(letter).await?;
    signed.push(record(letter, pdf, template).await?);

    // Step 8: the registers' exports checked (reports written) and imported.
    let imports = import_candidates(&db, &department, dir, candidate_files).await?;

    // Step 16 of the SOP: the confirmation letter for every village of the demo regency,
    // drafted once, signed in one bulk action, and distributed.
    let approvers = [&kabid, &sekdis, &kadis];
    let villages = village_letters(&flow, augmenter, &department, &konseptor, &staf, approvers, &passphrase, dir).await?;
    let first = villages.first().context("tidak ada surat konfirmasi")?.clone();
    let pdf = workflow::final_pdf(&db, first.id).await?.context("naskah akhir tidak tersimpan")?;
    signed.push(record(first, pdf, "surat-konfirmasi-desa").await?);
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

    // Steps 17–19: every village's reply registered, disposed and applied.
    let replies = village_replies(&flow, &department, &villages, &staf, &kadis, &kabid).await?;

    // Steps 12'–14': the BPJS check, with a simulated answer.
    let bpjs = bpjs_check(&db, &department, dir, &kabid).await?;

    // Step 15': the SK from the final list.
    let template = crate::beneficiaries::decree::SK_TEMPLATE;
    let mut base = example(template)?;
    if let Some(object) = base.as_object_mut() {
        object.remove("penerima");
    }
    let (data, beneficiaries) = crate::beneficiaries::decree::sk_data(&db, &department, &base).await?;
    let letter = flow
        .create_from_source(
            &konseptor,
            template,
            &data,
            &format!("walkthrough: dari daftar final ({beneficiaries} penerima)"),
        )
        .await?;
    let (letter, pdf) = through_chain(letter).await?;
    signed.push(record(letter, pdf, template).await?);
    let counts = crate::beneficiaries::candidates::counts(&db, department.id).await?;

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
            "imports": imports,
            "replies": replies,
            "bpjs": bpjs,
            "candidates": counts.iter().map(|(s, n)| (s.key().to_string(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
            "sk": { "beneficiaries": beneficiaries, "file": signed.last().map(|s| s.file.clone()) },
        }))?,
    )?;
    db.pool.close().await;
    Ok(Outcome {
        signed,
        imports,
        beneficiaries,
        village_letters: villages.len(),
        mailed,
        deliveries,
    })
}

/// The confirmation letter for every village: demo addresses for the villages, the
/// imported candidates, one batch, passed on and signed in bulk; each PDF written to
/// `surat-desa/`.
#[allow(clippy::too_many_arguments)]
async fn village_letters(
    flow: &Workflow,
    augmenter: Option<&Augmenter>,
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
    let manifest = flow.catalogue.get("surat-konfirmasi-desa")?.clone();
    let per_village = manifest.per_village.clone().context("templat konfirmasi tanpa [per_village]")?;
    let table = manifest.field(&per_village.rows_field).context("tabel lampiran tidak ada")?;
    let waiting = crate::beneficiaries::candidates::awaiting_list(&flow.db, department.id, "").await?;
    let rows = batches::rows_from_candidates(&waiting, table);
    let plan = batches::plan(&flow.db, department.id, "", rows).await?;
    let mut shared = batches::shared_fields(&manifest, &per_village, &manifest.defaults());
    shared["tembusan"] = serde_json::json!([{ "nama": "Bupati Penajam Paser Utara (sebagai laporan)" }]);
    let new = workflow::batch::NewBatch {
        template_id: manifest.id.clone(),
        scope: plan.scope.clone(),
        scope_label: plan.scope_label.clone(),
        shared_data: shared.clone(),
        source_name: "data calon penerima".into(),
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
        let outcome = cases::bulk::run(flow, user, &all, decision, false, passphrase).await?;
        if let Some(failed) = outcome.failed.first() {
            anyhow::bail!("surat {}: {}", failed.id, failed.message);
        }
    }
    make_long_term(augmenter).await?;
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

/// With a TSA configured: the long-term job's pass over the letters just signed
/// (timestamp, validation data), so the files written are long-term. A TSA that does not
/// answer leaves them B-B, as the service would until its next attempt.
async fn make_long_term(augmenter: Option<&Augmenter>) -> anyhow::Result<()> {
    let Some(augmenter) = augmenter else {
        return Ok(());
    };
    let run = augmenter.run_once().await?;
    if run.delayed + run.failed > 0 {
        println!(
            "Stempel waktu tertunda untuk {} naskah: otoritas stempel waktu tidak menjawab; PDF-nya ditulis tanpa stempel waktu.",
            run.delayed + run.failed
        );
    }
    Ok(())
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
        deadline_warning_accepted: false,
    };
    Ok(flow.decide(user, letter.id, &request, passphrase).await?)
}

/// Checks and imports the candidate files (the embedded test exports when none are
/// given), writing each report to DIR as `laporan-impor-<file>.csv`.
async fn import_candidates(
    db: &Db,
    department: &crate::departments::Department,
    dir: &Path,
    files: &[std::path::PathBuf],
) -> anyhow::Result<Vec<ImportLine>> {
    use crate::beneficiaries::import::{self, Upload};
    let mut inputs: Vec<(String, Vec<u8>)> = Vec::new();
    for path in files {
        let bytes = std::fs::read(path).with_context(|| format!("{} tidak dapat dibaca", path.display()))?;
        let name = path.file_name().map_or("calon.csv".into(), |n| n.to_string_lossy().into_owned());
        inputs.push((name, bytes));
    }
    if inputs.is_empty() {
        inputs = DEFAULT_CANDIDATE_FILES
            .iter()
            .map(|(name, text)| (name.to_string(), text.as_bytes().to_vec()))
            .collect();
    }
    let actor = crate::audit::Actor::System("walkthrough");
    let mut lines = Vec::new();
    for (name, bytes) in &inputs {
        let checked = import::check(
            db,
            &actor,
            department,
            Upload {
                file_name: name,
                content: import::Content::Bytes(bytes),
                source: "",
                mapping: None,
            },
        )
        .await
        .with_context(|| format!("{name} tidak dapat diperiksa"))?;
        anyhow::ensure!(
            checked.status == "checked",
            "{name}: kolomnya tidak dikenali (P3KE, DTKS); petakan lewat halaman Impor"
        );
        let report = format!("laporan-impor-{}.csv", name.trim_end_matches(".csv").trim_end_matches(".xlsx"));
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(["Baris", "Kolom", "Jenis", "Akibat", "Keterangan"])?;
        for p in import::report(db, checked.id).await? {
            out.write_record([
                p.line.to_string(),
                crate::text::spreadsheet_safe(&p.column_name),
                p.code,
                if p.refused { "ditolak".into() } else { "diperbaiki".into() },
                crate::text::spreadsheet_safe(&p.message),
            ])?;
        }
        std::fs::write(dir.join(&report), out.into_inner().map_err(|e| anyhow::anyhow!(e.to_string()))?)?;
        let done = import::apply(db, &actor, department, checked.id, &|_, _| {}).await?;
        lines.push(ImportLine {
            file: name.clone(),
            source: done.source.clone(),
            rows: done.rows_total,
            valid: done.rows_valid,
            refused: done.rows_refused,
            new: done.rows_new,
            merged: done.rows_merged,
            report,
        });
    }
    Ok(lines)
}

/// Every village answers its letter: all confirmed but every seventh candidate (moved
/// away); the first village proposes a replacement for its rejection. Each reply is
/// registered by the staff, disposed by the Kepala Dinas to the Kepala Bidang, applied,
/// and the disposition closed.
async fn village_replies(
    flow: &Workflow,
    department: &crate::departments::Department,
    letters: &[workflow::Letter],
    staf: &User,
    kadis: &User,
    kabid: &User,
) -> anyhow::Result<serde_json::Value> {
    use crate::{
        beneficiaries::replies::{self, Answer, Replacement},
        incoming::{self, DispositionInput, IncomingInput},
    };
    let today = department.tz().today().format("%Y-%m-%d").to_string();
    let actor = staf.actor();
    let (mut confirmed, mut rejected, mut replaced) = (0, 0, 0);
    let mut seen = 0usize;
    for (i, letter) in letters.iter().enumerate() {
        let reply = incoming::register(
            &flow.db,
            staf,
            department,
            IncomingInput {
                received_on: today.clone(),
                letter_number: format!("140/{:03}/{}", i + 1, &today[..4]),
                letter_date: today.clone(),
                subject: "Hasil konfirmasi data calon penerima bantuan iuran".into(),
                reply_to_letter_id: Some(letter.id),
                ..IncomingInput::default()
            },
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("surat masuk: {e}"))?;
        let disposition = incoming::dispose(
            &flow.db,
            kadis,
            department,
            reply.id,
            DispositionInput {
                to: Some(incoming::Target::User(kabid.id)),
                instructions: "Perbarui data calon sesuai balasan desa".into(),
                due_on: today.clone(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("disposisi: {e}"))?;
        let list = replies::list_of_letter(&flow.db, department.id, letter.id).await?;
        let mut answers = Vec::new();
        let mut replacements = Vec::new();
        for candidate in &list {
            seen += 1;
            if seen.is_multiple_of(7) {
                answers.push((candidate.id, Answer::Rejected("pindah domisili".into())));
                if replacements.is_empty() && replaced == 0 {
                    // A woman born 15 July 1988, first registered in the village's district.
                    let district: String = candidate.region_code.chars().filter(|c| c.is_ascii_digit()).take(6).collect();
                    replacements.push(Replacement {
                        replaces: candidate.id,
                        nik: format!("{district}5507880003"),
                        name: "Siti Aminah".into(),
                        sex: "P".into(),
                        birth_date: "1988-07-15".into(),
                        occupation: "Pedagang".into(),
                        address: "RT 004".into(),
                    });
                }
            } else {
                answers.push((candidate.id, Answer::Confirmed));
            }
        }
        let applied = replies::apply(&flow.db, &actor, department, &reply, &answers, &replacements).await?;
        confirmed += applied.confirmed;
        rejected += applied.rejected;
        replaced += applied.replacements;
        incoming::complete(&flow.db, kabid, department.id, disposition.id, "data calon diperbarui")
            .await
            .map_err(|e| anyhow::anyhow!("disposisi selesai: {e}"))?;
    }
    Ok(serde_json::json!({ "letters": letters.len(), "confirmed": confirmed, "rejected": rejected, "replacements": replaced }))
}

/// The BPJS check: the workbook written to DIR; BPJS's answer simulated (every
/// twentieth candidate already a member) and written as `jawaban-bpjs.csv`, then read
/// back and applied as a user would upload it.
async fn bpjs_check(db: &Db, department: &crate::departments::Department, dir: &Path, kabid: &User) -> anyhow::Result<serde_json::Value> {
    use crate::beneficiaries::{bpjs, import::Villages};
    let waiting = bpjs::awaiting_check(db, department.id).await?;
    let villages = Villages::load(db, department.region_code.as_deref().unwrap_or_default(), &department.regency_name).await?;
    let stamp = format!("Diekspor oleh {} (walkthrough).", kabid.display_name);
    bpjs::write_export(db, department.id, &villages, &stamp, &dir.join("cek-kepesertaan-bpjs.xlsx")).await?;
    bpjs::record_export(db, &kabid.actor(), department.id, waiting.len()).await?;
    let mut answer = String::from("NIK,STATUS_KEPESERTAAN,KETERANGAN\n");
    for (i, c) in waiting.iter().enumerate() {
        let insured = i % 20 == 19;
        answer.push_str(&format!(
            "{},{},{}\n",
            c.nik,
            if insured { "TERDAFTAR" } else { "TIDAK TERDAFTAR" },
            if insured { "peserta BPU aktif" } else { "" }
        ));
    }
    std::fs::write(dir.join("jawaban-bpjs.csv"), &answer)?;
    let answers = bpjs::read_answer(answer.as_bytes(), &waiting)?;
    let applied = bpjs::apply_answer(db, &kabid.actor(), department, "jawaban-bpjs.csv", &answers, None).await?;
    Ok(serde_json::json!({
        "checked": waiting.len(), "insured": applied.insured, "final": applied.final_,
        "export": "cek-kepesertaan-bpjs.xlsx", "answer": "jawaban-bpjs.csv",
    }))
}
