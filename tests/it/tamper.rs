//! A signed letter and its tampered copies, judged three ways that must agree: the
//! public page's upload check, `naskah verify --offline` and pyHanko. The copies are
//! made by tests/tools/tamper_set.py with pyHanko's own incremental writer.

use std::{path::Path, process::Command};

use axum::http::StatusCode;
use naskah::workflow;
use serde_json::json;

use crate::{
    support::{self, Client, DEMO_PASSPHRASE},
    workflow::Demo,
};

fn multipart(file: &[u8], token: &str) -> (String, Vec<u8>) {
    let boundary = "batasunggah";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"t\"\r\n\r\n{token}\r\n").into_bytes();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; filename=\"surat.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The verdict's headline on a page.
fn headline(body: &str) -> &str {
    let start = body.find("<h1 id=\"status\">").expect("a verdict") + "<h1 id=\"status\">".len();
    &body[start..start + body[start..].find('<').unwrap()]
}

fn pyhanko_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pyhanko, pyhanko_certvalidator"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok || !support::in_ci(), "pyHanko is required under CI (pip install pyhanko)");
    ok
}

#[tokio::test]
async fn the_page_the_cli_and_pyhanko_judge_every_tampered_copy_alike() {
    if !pyhanko_available() {
        eprintln!("pyHanko missing: the tampered set is skipped");
        return;
    }
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let d = Demo::over(&state);
    let konseptor = d.user("konseptor").await;
    let data = json!({ "hal": "Permohonan data calon penerima bantuan iuran", "batas_waktu": "2026-12-05" });
    let letter = d.flow.create(&konseptor, "surat-permintaan-data", &data, "").await.unwrap();
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    let letter = d.through_chain(letter, 1, DEMO_PASSPHRASE).await;
    let official = workflow::final_pdf(&state.db, letter.id).await.unwrap().unwrap();
    let id = letter.verification_id.clone().unwrap();
    let token = letter.qr_token.clone().unwrap();
    let root = naskah::keys::authority::current(&state.db, d.department_id).await.unwrap().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("asli.pdf");
    std::fs::write(&original, &official).unwrap();
    let keys = dir.path().join("naskah-keys.json");
    let published = naskah::verification::published_keys(&state.db).await.unwrap();
    std::fs::write(&keys, published.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/tamper_set.py");
    let made = Command::new("python3").arg(script).arg(&original).arg(dir.path()).output().unwrap();
    assert!(made.status.success(), "tamper_set.py: {}", String::from_utf8_lossy(&made.stderr));
    let names: Vec<String> = serde_json::from_slice(&made.stdout).unwrap();
    assert_eq!(names.len(), 6);

    let expected_valid = |name: &str| matches!(name, "asli" | "dss-added");
    let mut anon = Client::new(&state);
    let mut table = Vec::new();
    for name in std::iter::once("asli".to_string()).chain(names) {
        let path = dir.path().join(format!("{name}.pdf"));
        let file = std::fs::read(&path).unwrap();

        let (kind, body) = multipart(&file, &token);
        let reply = anon.send("POST", &format!("/v/{id}/periksa"), Some(&kind), body, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}");
        let page = headline(&reply.body).to_string();

        let cli = Command::new(env!("CARGO_BIN_EXE_naskah"))
            .env("NASKAH_LOG_LEVEL", "warn")
            .args(["verify", "--offline"])
            .arg(&path)
            .arg("--keys")
            .arg(&keys)
            .output()
            .unwrap();
        let cli_valid = cli.status.success();

        let case_dir = dir.path().join(format!("pyhanko-{name}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        let report = crate::pades::pyhanko(&case_dir, &file, &root.pem()).expect("pyHanko present");
        let pyhanko_valid = report.first().is_some_and(|s| s["bottom_line"] == true);

        table.push(format!(
            "{name:<18} page {page:<9} cli {cli_valid:<5} pyHanko {pyhanko_valid:<5} {}",
            report
                .first()
                .map(|s| format!("{} {}", s["coverage"], s["modification_level"]))
                .unwrap_or_default()
        ));
        let page_valid = page == "SAH";
        assert_eq!(
            (page_valid, cli_valid, pyhanko_valid),
            (expected_valid(&name), expected_valid(&name), expected_valid(&name)),
            "{name}: page {page}, cli {}{}, pyHanko {report:?}\n{}",
            String::from_utf8_lossy(&cli.stdout),
            String::from_utf8_lossy(&cli.stderr),
            reply.body
        );
        if !page_valid {
            assert!(!reply.body.contains(">SAH<"), "{name}: no green SAH anywhere on a failed check");
        }
        if name == "appended-garbage" {
            // Bytes after the signed %%EOF are named as such, on the page and by the CLI,
            // not only counted as "not valid".
            let cli_text = format!("{}{}", String::from_utf8_lossy(&cli.stdout), String::from_utf8_lossy(&cli.stderr));
            for (who, text) in [("page", reply.body.as_str()), ("cli", cli_text.as_str())] {
                assert!(
                    text.contains("tambahan") && text.contains("setelah ditandatangani"),
                    "{who} does not name the appended bytes: {text}"
                );
            }
            let found = naskah::signing::pades::inspect(&file, std::slice::from_ref(&root.certificate));
            assert!(found[0].intact && !found[0].covers_whole_file, "{:?}", found[0]);
            let reason = found[0].after_signing.as_ref().err();
            assert!(reason.is_some_and(|r| r.contains("tambahan")), "{reason:?}");
        }
    }
    eprintln!("{}", table.join("\n"));
}
