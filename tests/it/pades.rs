//! The PAdES B-B signature in every final PDF, validated by the tools other people use:
//! pyHanko for both algorithms, poppler's pdfsig for P-256 (with the department's root
//! trusted in an NSS database), and one changed byte reported by both.

use std::{path::Path, process::Command};

use naskah::{
    keys::authority,
    signing::{Algorithm, pades},
};
use serde_json::{Value, json};

use crate::{
    support::{self, DEMO_PASSPHRASE},
    workflow::Demo,
};

struct Signed {
    pdf: Vec<u8>,
    root_pem: String,
    root_der: Vec<u8>,
    signer_name: String,
}

/// A data-request letter taken through the demo chain with the department's PDF
/// signature algorithm set to `algorithm`.
async fn signed_letter(algorithm: Algorithm) -> Signed {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = Demo::over(&state);
    authority::set_algorithm(&state.db, &naskah::audit::Actor::System("uji"), d.department_id, algorithm)
        .await
        .unwrap();
    let konseptor = d.user("konseptor").await;
    let data = json!({ "hal": "Permohonan data calon penerima bantuan iuran", "batas_waktu": crate::support::days_from_today(14) });
    let letter = d.flow.create(&konseptor, "surat-permintaan-data", &data, "").await.unwrap();
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    let letter = d.through_chain(letter, 1, DEMO_PASSPHRASE).await;
    let pdf = naskah::workflow::final_pdf(&state.db, letter.id).await.unwrap().unwrap();
    let root = authority::current(&state.db, d.department_id).await.unwrap().unwrap();
    Signed {
        pdf,
        root_pem: root.pem(),
        root_der: root.certificate,
        signer_name: "Drs. Bambang Sutrisno, M.Si.".into(),
    }
}

/// Flips one bit of a byte inside the first content stream Typst wrote: a change to
/// what the reader sees, well inside the signed bytes.
fn one_byte_changed(pdf: &[u8]) -> Vec<u8> {
    let stream = pdf.windows(7).position(|w| w == b"stream\n").expect("a content stream");
    let mut changed = pdf.to_vec();
    changed[stream + 7 + 20] ^= 0x01;
    changed
}

fn tool_missing(tool: &str, error: impl std::fmt::Display) -> bool {
    assert!(!support::in_ci(), "{tool} is required under CI: {error}");
    eprintln!("{tool} missing: its checks are skipped ({error})");
    true
}

/// pyHanko's findings, one JSON object per signature; `None` when pyHanko is absent.
pub fn pyhanko(dir: &Path, pdf: &[u8], root_pem: &str) -> Option<Vec<Value>> {
    let probe = Command::new("python3")
        .args(["-c", "import pyhanko, pyhanko_certvalidator"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        Ok(out) => {
            tool_missing("pyHanko (pip install pyhanko)", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        Err(e) => {
            tool_missing("python3", e);
            return None;
        }
    }
    let pdf_path = dir.join("naskah.pdf");
    let root_path = dir.join("root.pem");
    std::fs::write(&pdf_path, pdf).unwrap();
    std::fs::write(&root_path, root_pem).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/pyhanko_validate.py");
    let out = Command::new("python3").arg(script).arg(&pdf_path).arg(&root_path).output().unwrap();
    assert!(
        out.status.success(),
        "pyHanko script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap())
}

/// The helper gives pyHanko's verdict or fails: a file pyHanko crashes on is not
/// reported as "not intact", so no tamper test can pass on a crash.
#[test]
fn the_pyhanko_helper_fails_on_a_crash_instead_of_reporting_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let probe = Command::new("python3").args(["-c", "import pyhanko"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        tool_missing("pyHanko (pip install pyhanko)", "import failed");
        return;
    }
    let not_a_pdf = dir.path().join("bukan.pdf");
    std::fs::write(&not_a_pdf, b"%PDF-1.7\nthis is not a PDF body at all\n").unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, b"not a certificate either").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/pyhanko_validate.py");
    let out = Command::new("python3").arg(script).arg(&not_a_pdf).arg(&root).output().unwrap();
    assert!(!out.status.success(), "a crash must fail: {}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stdout.is_empty(), "no verdict printed on a crash");
}

/// pdfsig's report, with the root trusted in a fresh NSS database; `None` when poppler
/// or certutil is absent.
pub fn pdfsig(dir: &Path, pdf: &[u8], root_der: &[u8]) -> Option<String> {
    let nss = dir.join("nss");
    std::fs::create_dir_all(&nss).unwrap();
    let nss_arg = format!("sql:{}", nss.display());
    // An empty password from a file: with stdin closed, `--empty-password` spins.
    let password = dir.join("nss-password.txt");
    std::fs::write(&password, "\n").unwrap();
    match Command::new("certutil").args(["-N", "-d", &nss_arg, "-f"]).arg(&password).output() {
        Ok(out) => assert!(out.status.success(), "certutil -N: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => {
            tool_missing("certutil (libnss3-tools)", e);
            return None;
        }
    }
    let root_path = dir.join("root.der");
    std::fs::write(&root_path, root_der).unwrap();
    let added = Command::new("certutil")
        .args(["-A", "-d", &nss_arg, "-n", "otoritas-dinas", "-t", "C,C,C", "-f"])
        .arg(&password)
        .arg("-i")
        .arg(&root_path)
        .output()
        .unwrap();
    assert!(added.status.success(), "certutil -A: {}", String::from_utf8_lossy(&added.stderr));
    let pdf_path = dir.join("naskah-pdfsig.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    match Command::new("pdfsig").arg("-nssdir").arg(&nss_arg).arg(&pdf_path).output() {
        // pdfsig exits non-zero when a signature is invalid; its report is what counts.
        Ok(out) => Some(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )),
        Err(e) => {
            tool_missing("pdfsig (poppler-utils)", e);
            None
        }
    }
}

#[tokio::test]
async fn a_p256_signature_is_valid_for_pyhanko_and_pdfsig_and_one_changed_byte_is_not() {
    let signed = signed_letter(Algorithm::P256).await;
    let dir = tempfile::tempdir().unwrap();

    // Our own reader first: the same check the public page runs on an upload.
    let found = pades::inspect(&signed.pdf, std::slice::from_ref(&signed.root_der));
    assert_eq!(found.len(), 1);
    assert!(found[0].valid() && found[0].covers_whole_file, "{:?}", found[0]);
    assert_eq!(found[0].signer.as_deref(), Some(signed.signer_name.as_str()));

    if let Some(report) = pyhanko(dir.path(), &signed.pdf, &signed.root_pem) {
        assert_eq!(report.len(), 1, "{report:?}");
        let one = &report[0];
        assert_eq!(one["subfilter"], "/ETSI.CAdES.detached", "{one}");
        assert_eq!(one["intact"], true, "{one}");
        assert_eq!(one["valid"], true, "{one}");
        assert_eq!(one["trusted"], true, "{one}");
        assert_eq!(one["bottom_line"], true, "{one}");
        assert_eq!(one["coverage"], "ENTIRE_FILE", "{one}");
        assert_eq!(one["digest"], "sha256", "{one}");
        assert!(one["key_usage"].as_array().unwrap().iter().any(|u| u == "non_repudiation"), "{one}");
        assert!(one["signer"].as_str().unwrap().contains(&signed.signer_name), "{one}");
    }
    if let Some(report) = pdfsig(dir.path(), &signed.pdf, &signed.root_der) {
        assert!(report.contains("Signature Validation: Signature is Valid."), "{report}");
        assert!(report.contains("Certificate Validation: Certificate is Trusted."), "{report}");
        assert!(
            report.contains("The signature form field is signed by the whole document") || report.contains("Total document signed"),
            "{report}"
        );
        assert!(report.contains("ETSI.CAdES.detached"), "{report}");
    }

    let changed = one_byte_changed(&signed.pdf);
    let found = pades::inspect(&changed, std::slice::from_ref(&signed.root_der));
    assert!(!found[0].valid() && !found[0].intact);
    if let Some(report) = pyhanko(dir.path(), &changed, &signed.root_pem) {
        assert_eq!(report[0]["intact"], false, "{report:?}");
        assert_eq!(report[0]["bottom_line"], false, "{report:?}");
    }
    if let Some(report) = pdfsig(dir.path(), &changed, &signed.root_der) {
        assert!(report.contains("Signature Validation: Digest Mismatch."), "{report}");
    }
}

#[tokio::test]
async fn an_ed25519_signature_is_valid_for_pyhanko_and_one_changed_byte_is_not() {
    let signed = signed_letter(Algorithm::Ed25519).await;
    let dir = tempfile::tempdir().unwrap();
    let found = pades::inspect(&signed.pdf, std::slice::from_ref(&signed.root_der));
    assert!(found[0].valid() && found[0].covers_whole_file, "{:?}", found[0]);
    assert_eq!(found[0].algorithm, Some(Algorithm::Ed25519.label()));
    // ISO/TS 32002 declared in the catalog of the update.
    let tail = String::from_utf8_lossy(&signed.pdf[signed.pdf.len() - 40_000..]).to_string();
    assert!(tail.contains("/ExtensionLevel 32002"), "the EdDSA extension is declared");

    if let Some(report) = pyhanko(dir.path(), &signed.pdf, &signed.root_pem) {
        let one = &report[0];
        assert_eq!(one["subfilter"], "/ETSI.CAdES.detached", "{one}");
        assert_eq!(
            (&one["intact"], &one["valid"], &one["trusted"]),
            (&json!(true), &json!(true), &json!(true)),
            "{one}"
        );
        assert_eq!(one["digest"], "sha512", "RFC 8419: {one}");
        assert_eq!(one["mechanism"], "ed25519", "{one}");
        assert_eq!(one["coverage"], "ENTIRE_FILE", "{one}");
    }
    let changed = one_byte_changed(&signed.pdf);
    assert!(!pades::inspect(&changed, std::slice::from_ref(&signed.root_der))[0].valid());
    if let Some(report) = pyhanko(dir.path(), &changed, &signed.root_pem) {
        assert_eq!(report[0]["intact"], false, "{report:?}");
        assert_eq!(report[0]["bottom_line"], false, "{report:?}");
    }
}

#[tokio::test]
async fn the_administrator_chooses_the_algorithm_on_the_settings_page() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut admin = support::logged_in(&state, "agendaris").await;
    let page = admin.get("/pengaturan/tanda-tangan").await;
    assert_eq!(page.status, axum::http::StatusCode::OK);
    assert!(
        page.body.contains("Otoritas Sertifikat Dinas Tenaga Kerja") && page.body.contains("/.well-known/naskah-ca/1.pem"),
        "{}",
        page.body
    );
    let csrf = admin.csrf_of("/pengaturan/tanda-tangan").await;

    let refused = admin
        .post_form("/pengaturan/tanda-tangan", &[("csrf", &csrf), ("algorithm", "rsa")])
        .await;
    assert_eq!(refused.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Pilih ECDSA P-256 atau Ed25519."), "{}", refused.body);
    assert_eq!(authority::algorithm(&state.db, 1).await.unwrap(), Algorithm::P256, "nothing saved");

    let saved = admin
        .post_form("/pengaturan/tanda-tangan", &[("csrf", &csrf), ("algorithm", "ed25519")])
        .await;
    assert_eq!(saved.status, axum::http::StatusCode::SEE_OTHER);
    assert_eq!(authority::algorithm(&state.db, 1).await.unwrap(), Algorithm::Ed25519);

    // The root certificate is published for readers to trust.
    let mut anon = support::Client::new(&state);
    let pem = anon.get("/.well-known/naskah-ca/1.pem").await;
    assert_eq!(pem.status, axum::http::StatusCode::OK);
    assert!(pem.body.starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        anon.get("/.well-known/naskah-ca/99.pem").await.status,
        axum::http::StatusCode::NOT_FOUND
    );
    let keys = anon.get("/.well-known/naskah-keys.json").await.json();
    assert_eq!(naskah::verification::authorities_from_json(&keys).len(), 1);
}

story! {
    /// A renamed signer signs under a new certificate in the new name; what they signed
    /// before keeps its certificate and stays valid.
    #[tokio::test]
    async fn a_renamed_official_signs_under_a_new_certificate(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let konseptor = d.user("konseptor").await;
        let staf = d.user("staf").await;
        let sign_one = |subject: &'static str| {
            let (d, konseptor, staf) = (&d, &konseptor, &staf);
            async move {
                let data = json!({ "hal": subject, "batas_waktu": crate::support::days_from_today(14) });
                let letter = d.flow.create(konseptor, "surat-permintaan-data", &data, "").await.unwrap();
                let letter = d.flow.submit(konseptor, letter.id, letter.version).await.unwrap();
                let letter = d.flow.submit(staf, letter.id, letter.version).await.unwrap();
                let letter = d.through_chain(letter, 1, DEMO_PASSPHRASE).await;
                naskah::workflow::final_pdf(&d.flow.db, letter.id).await.unwrap().unwrap()
            }
        };
        let root = authority::current(&state.db, d.department_id).await.unwrap().unwrap().certificate;
        let before = sign_one("Sebelum ganti nama").await;
        let kadis = d.user("kadis").await;
        let official = naskah::departments::get_official(&state.db, d.department_id, kadis.official_id.unwrap())
            .await
            .unwrap();
        let old_name = official.full_name();
        naskah::departments::update_official(
            &state.db,
            &naskah::audit::Actor::System("uji"),
            d.department_id,
            official.id,
            naskah::departments::OfficialInput {
                name: "Bambang Sutrisno Wibowo".into(),
                title_prefix: official.title_prefix.clone(),
                title_suffix: official.title_suffix.clone(),
                nip: official.nip.clone(),
                rank: official.rank.clone(),
                grade: official.grade.clone(),
                position_id: official.position_id,
            },
        )
        .await
        .unwrap();
        let after = sign_one("Sesudah ganti nama").await;

        let old = &pades::inspect(&before, std::slice::from_ref(&root))[0];
        let new = &pades::inspect(&after, std::slice::from_ref(&root))[0];
        assert!(old.valid() && new.valid(), "{old:?} / {new:?}");
        assert_ne!(old.certificate_fingerprint, new.certificate_fingerprint, "a new certificate");
        let signer = |found: &pades::Found| found.signer.clone().unwrap_or_default();
        assert!(signer(old).contains(&old_name), "{}", signer(old));
        assert!(signer(new).contains("Bambang Sutrisno Wibowo"), "{}", signer(new));
        assert!(!signer(new).contains(&old_name), "{}", signer(new));
        // Signing again under the same name reuses the new certificate.
        let again = sign_one("Sekali lagi").await;
        let again = &pades::inspect(&again, std::slice::from_ref(&root))[0];
        assert_eq!(again.certificate_fingerprint, new.certificate_fingerprint);
    }
}
