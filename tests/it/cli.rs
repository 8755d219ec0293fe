//! The `naskah` binary itself: configuration errors, migrate, demo, users, regions,
//! and a graceful stop that finishes the request in flight.

use std::{
    io::{Read, Write},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

pub fn naskah(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_naskah"));
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("NASKAH_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("NASKAH_LOG_LEVEL", "warn");
    cmd.env("NASKAH_TEMPLATES_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/letter_templates"));
    cmd
}

pub fn run(cmd: &mut Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn malformed_configuration_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("naskah.toml"), "[session]\nidle_minutes = \"setengah jam\"\n").unwrap();
    let (ok, _, err) = run(naskah(dir.path()).arg("config"));
    assert!(!ok);
    assert!(err.contains("naskah.toml") && err.contains("idle_minutes"), "{err}");
    std::fs::write(dir.path().join("naskah.toml"), "lisen = \"127.0.0.1:1\"\n").unwrap();
    let (ok, _, err) = run(naskah(dir.path()).arg("config"));
    assert!(!ok && err.contains("lisen"), "{err}");
    let (ok, _, err) = run(naskah(dir.path()).args(["--config", "tidak-ada.toml", "config"]));
    assert!(!ok && err.contains("tidak-ada.toml"), "{err}");
}

/// The SMTP and TSA addresses are checked where their workers are built: a bad one stops
/// `serve` before it listens, naming the setting, and never shows the secret in it.
#[test]
fn a_bad_smtp_or_tsa_address_stops_serve_and_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, setting) in [
        ("NASKAH_SMTP_URL", "ftp://pengguna:sandi-rahasia@mail.example", "mail.smtp_url"),
        ("NASKAH_TSA_URL", "tsa.example/tanpa-skema", "timestamp.url"),
    ] {
        let (ok, out, err) = run(naskah(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env(
                "NASKAH_DATABASE_URL",
                format!("sqlite://{}/naskah.sqlite3?mode=rwc", dir.path().display()),
            )
            .env(key, value));
        assert!(!ok, "{out}");
        assert!(err.contains(setting) && !err.contains("panicked"), "{err}");
        assert!(!err.contains("sandi-rahasia") && !out.contains("sandi-rahasia"), "{err}");
    }
}

#[test]
fn config_prints_layers_with_secrets_hidden() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("naskah.toml"), "base_url = \"https://naskah.example.go.id\"\n").unwrap();
    let (ok, out, err) = run(naskah(dir.path())
        .arg("config")
        .env("NASKAH_DATABASE_URL", "postgres://naskah:sangat-rahasia@db:5432/naskah"));
    assert!(ok, "{err}");
    assert!(out.contains("https://naskah.example.go.id"));
    assert!(out.contains("postgres://naskah:***@db:5432/naskah"), "{out}");
    assert!(!out.contains("sangat-rahasia"));
    let (_, out, _) = run(naskah(dir.path()).arg("config"));
    assert!(out.contains("sqlite://data/naskah.sqlite3?mode=rwc"), "{out}");
}

#[test]
fn unreachable_database_is_reported_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(naskah(dir.path())
        .arg("migrate")
        .env("NASKAH_DATABASE_URL", "postgres://naskah@127.0.0.1:1/naskah"));
    assert!(!ok);
    assert!(
        err.contains("basis data tidak dapat dihubungi") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn migrate_demo_users_and_regions() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(naskah(dir.path()).arg("migrate"));
    assert!(ok, "{err}");
    assert!(out.contains("Migrasi diterapkan"), "{out}");
    assert!(dir.path().join("data/naskah.sqlite3").exists(), "default SQLite file under ./data");
    let (_, out, _) = run(naskah(dir.path()).arg("migrate"));
    assert!(out.contains("sudah terbaru"));

    let (ok, out, err) = run(naskah(dir.path()).arg("demo"));
    assert!(ok, "{err}");
    assert!(
        out.contains("kadis") && out.contains("agendaris") && out.contains("kata sandi:"),
        "{out}"
    );
    let (_, again, _) = run(naskah(dir.path()).arg("demo"));
    assert!(again.contains("sudah ada"), "{again}");

    // A backup: a database of its own that opens with the same accounts; never over a file.
    let copy = dir.path().join("cadangan.sqlite3");
    let (ok, out, err) = run(naskah(dir.path()).arg("backup").arg(&copy));
    assert!(ok && out.contains("Cadangan basis data ditulis"), "{out}{err}");
    let (ok, _, err) = run(naskah(dir.path()).arg("backup").arg(&copy));
    assert!(!ok && err.contains("sudah ada"), "{err}");
    let (ok, out, err) = run(naskah(dir.path())
        .env("NASKAH_DATABASE_URL", format!("sqlite://{}", copy.display()))
        .args(["user", "list"]));
    assert!(ok && out.contains("agendaris"), "{out}{err}");

    let mut add = naskah(dir.path());
    add.args([
        "user",
        "add",
        "--username",
        "bendahara",
        "--name",
        "Bendahara Dinas",
        "--roles",
        "typist,agendaris",
        "--password-stdin",
    ])
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = add.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"kas-daerah-2026\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (ok, out, _) = run(naskah(dir.path()).args(["user", "add", "--username", "bendahara", "--name", "Dua", "--roles", "typist"]));
    assert!(!ok);
    let _ = out;
    let (ok, _, err) = run(naskah(dir.path()).args(["user", "add", "--username", "x1y", "--name", "X", "--roles", "raja"]));
    assert!(!ok && err.contains("peran 'raja' tidak dikenal"), "{err}");
    let (ok, out, _) = run(naskah(dir.path()).args(["user", "reset-password", "bendahara"]));
    assert!(ok && out.contains("wajib diganti"), "{out}");
    let (_, list, _) = run(naskah(dir.path()).args(["user", "list"]));
    assert!(list.contains("bendahara") && list.contains("typist,agendaris"), "{list}");

    std::fs::write(
        dir.path().join("wilayah.csv"),
        "kode,nama,tingkat\n64.09.05,Kecamatan Uji,3\n64.09.05.2001,Desa Uji,4\n",
    )
    .unwrap();
    let (ok, out, err) = run(naskah(dir.path()).args(["regions", "import", "wilayah.csv"]));
    assert!(ok && out.contains("2 wilayah diimpor"), "{out}{err}");
    std::fs::write(dir.path().join("rusak.csv"), "kode,nama,tingkat\n64.09.05,Kecamatan Uji,4\n").unwrap();
    let (ok, _, err) = run(naskah(dir.path()).args(["regions", "import", "rusak.csv"]));
    assert!(!ok && err.contains("baris 2"), "{err}");
}

/// SIGTERM while a request is being uploaded: the server stops accepting, finishes that
/// request, answers it, and exits cleanly.
#[test]
fn sigterm_finishes_requests_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = naskah(dir.path())
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .env("NASKAH_DEMO_PASSWORD", "sandi-demo-uji")
        .env("NASKAH_LOG_LEVEL", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stream = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("server did not start: {e}"),
        }
    };
    let body = "username=kadis&password=salah-sekali&csrf=x";
    write!(
        stream,
        "POST /masuk HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let status = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(300));
    // New connections are refused once shutdown began.
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "listener must close on SIGTERM"
    );
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut reply = String::new();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = stream.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 403"), "the request in flight is answered: {reply}");
    let exit = server.wait().unwrap();
    assert!(exit.success(), "clean exit after SIGTERM: {exit:?}");
    let mut log = String::new();
    server.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("sinyal berhenti diterima"), "{log}");
}

#[test]
fn logs_can_be_json() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(naskah(dir.path())
        .arg("migrate")
        .env("NASKAH_LOG_FORMAT", "json")
        .env("NASKAH_LOG_LEVEL", "info"));
    assert!(ok, "{err}");
    let line = err
        .lines()
        .find(|l| l.contains("migrasi diterapkan"))
        .unwrap_or_else(|| panic!("{err}"));
    let record: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(record["level"], "INFO");
    assert_eq!(record["fields"]["version"], 1);
    let (ok, _, err) = run(naskah(dir.path()).arg("migrate").env("NASKAH_LOG_FORMAT", "xml"));
    assert!(!ok && err.contains("NASKAH_LOG_FORMAT"), "{err}");
}

#[test]
fn a_refused_demo_password_leaves_nothing_half_done() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(naskah(dir.path()).arg("demo").env("NASKAH_DEMO_PASSWORD", "pendek"));
    assert!(!ok && err.contains("NASKAH_DEMO_PASSWORD") && err.contains("minimal 10"), "{err}");
    // An empty variable means "not set": random passwords are generated.
    let (ok, out, err) = run(naskah(dir.path()).arg("demo").env("NASKAH_DEMO_PASSWORD", ""));
    assert!(ok, "{err}");
    assert!(out.contains("dibuat") && out.contains("kadis"), "{out}");
}

#[test]
fn templates_and_render_commands() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(naskah(dir.path()).arg("templates"));
    assert!(ok, "{err}");
    assert!(
        out.contains("surat-permintaan-data — Surat Permintaan Data Calon Penerima (surat)"),
        "{out}"
    );
    assert!(out.contains("penerima") && out.contains("tabel") && out.contains("(wajib)"));
    let data = dir.path().join("data.json");
    std::fs::write(&data, r#"{"hal": "Uji", "penerima": ["Camat Waru"], "isi": "Isi."}"#).unwrap();
    let (ok, out, err) = run(naskah(dir.path()).args(["render", "surat-dinas", "--data", "data.json", "-o", "uji.pdf", "--png", "1"]));
    assert!(ok, "{err}");
    assert!(out.contains("1 halaman"), "{out}");
    assert!(std::fs::read(dir.path().join("uji.pdf")).unwrap().starts_with(b"%PDF"));
    assert!(std::fs::read(dir.path().join("uji.hal1.png")).unwrap().starts_with(b"\x89PNG"));
    std::fs::write(&data, r#"{"hal": "", "sifat": "Kilat"}"#).unwrap();
    let (ok, _, err) = run(naskah(dir.path()).args(["render", "surat-dinas", "--data", "data.json", "-o", "x.pdf"]));
    assert!(
        !ok && err.contains("sifat: Sifat harus salah satu dari") && err.contains("hal: Hal wajib diisi."),
        "{err}"
    );
    let (ok, _, err) = run(naskah(dir.path()).args(["render", "tidak-ada", "-o", "x.pdf"]));
    assert!(!ok && err.contains("templat 'tidak-ada' tidak ada"), "{err}");
}

#[test]
fn a_missing_template_folder_is_named_once_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("tidak-ada");
    let (ok, _, err) = run(naskah(dir.path()).arg("templates").env("NASKAH_TEMPLATES_DIR", &missing));
    assert!(!ok);
    assert!(err.contains("templat di") && err.contains("tidak dapat dimuat"), "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

pub fn run_with_stdin(cmd: &mut Command, input: &str) -> (bool, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The demo seeds keys for its approvers; keys are generated, re-encrypted and rotated
/// from the command line; `audit verify` names a tampered row.
#[test]
fn keys_and_audit_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(naskah(dir.path()).arg("demo").env("NASKAH_DEMO_PASSPHRASE", "frasa sandi demo cli"));
    assert!(ok, "{err}");
    assert!(
        out.contains("Kunci tanda tangan dibuat") && out.contains("frasa sandi demo cli"),
        "{out}"
    );
    // The keys are in the database; the folder holds only the single node's generated
    // master key (0600), told once on standard error.
    let in_folder: Vec<_> = std::fs::read_dir(dir.path().join("keys"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(in_folder, vec![std::ffi::OsString::from("kunci-induk.rahasia")]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("keys/kunci-induk.rahasia"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // Seeding again creates no second set.
    let (ok, out, _) = run(naskah(dir.path()).arg("demo"));
    assert!(ok && !out.contains("Kunci tanda tangan dibuat"), "{out}");

    // The root certification authority: already made by the demo; init reports it,
    // sets the algorithm and writes the certificate; an unknown algorithm is refused.
    let pem = dir.path().join("otoritas.pem");
    let (ok, out, err) = run(naskah(dir.path())
        .args(["keys", "init", "--algorithm", "ed25519", "--out"])
        .arg(&pem));
    assert!(ok, "{err}");
    assert!(
        out.contains("Otoritas sertifikat sudah ada: Otoritas Sertifikat Dinas Tenaga Kerja")
            && out.contains("algoritme tanda tangan PDF: Ed25519"),
        "{out}"
    );
    let pem_text = std::fs::read_to_string(&pem).unwrap();
    assert!(pem_text.starts_with("-----BEGIN CERTIFICATE-----\n") && pem_text.trim_end().ends_with("-----END CERTIFICATE-----"));
    let (ok, _, err) = run(naskah(dir.path()).args(["keys", "init", "--algorithm", "rsa"]));
    assert!(!ok && err.contains("algoritme tanda tangan tidak dikenal"), "{err}");
    let (ok, out, _) = run(naskah(dir.path()).args(["keys", "init", "--algorithm", "p256"]));
    assert!(ok && out.contains("ECDSA P-256"), "{out}");

    let (ok, _, err) = run_with_stdin(
        naskah(dir.path()).args(["keys", "generate", "konseptor"]),
        "frasa sandi konseptor\n",
    );
    assert!(ok, "{err}");
    let (ok, _, err) = run_with_stdin(
        naskah(dir.path()).args(["keys", "generate", "konseptor"]),
        "frasa sandi lain sekali\n",
    );
    assert!(!ok && err.contains("sudah memiliki kunci aktif"), "{err}");
    let (ok, _, err) = run_with_stdin(
        naskah(dir.path()).args(["keys", "passphrase", "kabid"]),
        "salah sekali ini\nfrasa baru kabid 1\n",
    );
    assert!(!ok && err.contains("frasa sandi salah"), "{err}");
    let (ok, out, err) = run_with_stdin(
        naskah(dir.path()).args(["keys", "passphrase", "kabid"]),
        "frasa sandi demo cli\nfrasa baru kabid 1\n",
    );
    assert!(ok && out.contains("diganti"), "{err}");
    // By NIP, too.
    let (ok, out, err) = run_with_stdin(
        naskah(dir.path()).args(["keys", "rotate", "197005121998031004"]),
        "frasa kadis yang baru\n",
    );
    assert!(ok && out.contains("dipensiunkan"), "{err}");
    let (ok, out, err) = run(naskah(dir.path()).args(["keys", "list"]));
    assert!(ok, "{err}");
    assert_eq!(out.matches(" aktif").count(), 4, "{out}");
    assert_eq!(out.matches("pensiun ").count(), 1, "{out}");
    let (ok, _, err) = run_with_stdin(naskah(dir.path()).args(["keys", "generate", "tidak-ada"]), "frasa sandi apa saja\n");
    assert!(!ok && err.contains("tidak-ada"), "{err}");

    let (ok, out, err) = run(naskah(dir.path()).args(["audit", "verify"]));
    assert!(ok, "{err}");
    assert!(out.contains("department:1") && out.contains("utuh"), "{out}");

    // Edit one row behind the service's back: the command fails and names it.
    // sqlx, not a python3 with sqlite3, so this half runs wherever the test does.
    let url = format!("sqlite://{}", dir.path().join("data/naskah.sqlite3").display());
    let (edited, secrets) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = naskah::db::Db::connect(&url, 1).await.unwrap();
        let (secrets,): (i64,) = sqlx::query_as::<sqlx::Any, (i64,)>("SELECT COUNT(*) FROM key_secrets")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        let done = sqlx::query("UPDATE audit_log SET details = '{}' WHERE id = (SELECT id FROM audit_log WHERE action = 'key.rotated')")
            .execute(&db.pool)
            .await
            .unwrap();
        db.pool.close().await;
        (done.rows_affected(), secrets)
    });
    assert_eq!(
        secrets, 7,
        "kabid, sekdis, kadis before and after rotation, konseptor, the QR-token key and the CA key"
    );
    assert_eq!(edited, 1, "one audit row edited behind the service's back");
    let (ok, out, err) = run(naskah(dir.path()).args(["audit", "verify"]));
    assert!(!ok, "{out}");
    assert!(
        out.contains("RUSAK") && out.contains("key.rotated") && out.contains("diubah"),
        "{out}"
    );
    assert!(err.contains("tidak utuh"), "{err}");

    let (ok, _, err) = run(naskah(dir.path()).args(["verify-chain", "999"]));
    assert!(!ok && err.contains("surat 999 tidak ditemukan"), "{err}");
}

/// The walkthrough signs the three SOP documents in a folder of its own: signed PDFs
/// whose hashes are in summary.json and whose QR tokens check offline with the keys it
/// writes; running it again starts afresh. With a local TSA configured, every signed
/// PDF (the three documents and the 54 village letters) is PAdES B-LT: pyHanko validates
/// each as a timestamped signature with its revocation data embedded, and pdfsig each
/// P-256 signature.
#[test]
fn the_walkthrough_signs_the_three_documents() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("jalan");
    let tsa = crate::ltv::start_tsa(&dir.path().join("tsa"), 0);
    for _ in 0..2 {
        let mut command = naskah(dir.path());
        if let Some(tsa) = &tsa {
            command.env("NASKAH_TSA_URL", tsa.url());
        }
        let (ok, out, err) = run(command.args(["demo", "--walkthrough"]).arg(&out_dir));
        assert!(ok, "{err}");
        assert!(out.contains("summary.json"), "{out}");
    }
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    let letters = summary["letters"].as_array().unwrap();
    let templates: Vec<&str> = letters.iter().map(|l| l["template"].as_str().unwrap()).collect();
    assert_eq!(
        templates,
        ["surat-permintaan-data", "surat-konfirmasi-desa", "sk-penerima-bantuan-iuran"]
    );
    let numbers: Vec<&str> = letters.iter().map(|l| l["number"].as_str().unwrap()).collect();
    assert!(numbers[0].starts_with("500.15.16/0001/Disnaker/"), "{numbers:?}");
    assert!(
        numbers[1].starts_with("500.15.16/00") && numbers[1] != numbers[0],
        "letters share a series: {numbers:?}"
    );
    // The candidate files: both imported with their reports; the SK lists the final ones.
    let imports = summary["imports"].as_array().unwrap();
    assert_eq!(imports.len(), 2);
    assert_eq!((imports[0]["rows"].as_i64(), imports[1]["rows"].as_i64()), (Some(1500), Some(800)));
    assert!(
        imports[1]["merged"].as_i64().unwrap() > 150,
        "the DTKS rows shared with P3KE merged"
    );
    for i in imports {
        let report = std::fs::read_to_string(out_dir.join(i["report"].as_str().unwrap())).unwrap();
        assert_eq!(
            report
                .lines()
                .filter(|l| l.contains(",ditolak,"))
                .map(|l| l.split(',').next().unwrap())
                .collect::<std::collections::BTreeSet<_>>()
                .len() as i64,
            i["refused"].as_i64().unwrap()
        );
    }
    let candidates = &summary["candidates"];
    assert_eq!(summary["sk"]["beneficiaries"], candidates["final"]);
    assert!(candidates["final"].as_i64().unwrap() > 1500, "{candidates}");
    assert!(candidates["ditolak"].as_i64().unwrap() > 0 && candidates["terdaftar"].as_i64().unwrap() > 0);
    assert_eq!(candidates["kandidat"], 0, "everyone went on a village list");
    assert_eq!(summary["replies"]["letters"], 54);
    assert_eq!(summary["replies"]["replacements"], 1);
    assert!(std::fs::read(out_dir.join("cek-kepesertaan-bpjs.xlsx")).unwrap().starts_with(b"PK"));
    assert!(
        numbers[2].starts_with("500.15.16/0001/Kep/Disnaker/"),
        "decrees have their own series: {numbers:?}"
    );
    for letter in letters {
        let pdf = std::fs::read(out_dir.join(letter["file"].as_str().unwrap())).unwrap();
        assert!(pdf.starts_with(b"%PDF"));
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&pdf))
        };
        assert_eq!(letter["sha256"], sha);
        assert!(
            letter["verification_address"].as_str().unwrap().contains("/V/"),
            "the compact QR address"
        );
        assert!(
            letter["signer"]
                .as_str()
                .unwrap()
                .starts_with("Drs. Bambang Sutrisno, M.Si., Kepala Dinas")
        );
        let (ok, out, err) = run(naskah(dir.path())
            .args(["verify", "--offline"])
            .arg(out_dir.join(letter["file"].as_str().unwrap()))
            .arg("--keys")
            .arg(out_dir.join("naskah-keys.json")));
        assert!(ok && out.contains(letter["number"].as_str().unwrap()), "{out}{err}");
    }
    // Every signed PDF's QR code reads from paper: the three documents and the 54 village
    // letters, at 100 dpi and as a photocopy.
    let mut pdfs: Vec<std::path::PathBuf> = letters.iter().map(|l| out_dir.join(l["file"].as_str().unwrap())).collect();
    let mut village_pdfs: Vec<_> = std::fs::read_dir(out_dir.join("surat-desa"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    village_pdfs.sort();
    pdfs.extend(village_pdfs);
    crate::qr_scan::assert_every_qr_code_reads(&pdfs);
    if let Some(tsa) = &tsa {
        for letter in letters {
            assert_eq!(letter["level"], "PAdES B-LT", "{letter}");
        }
        crate::ltv::assert_long_term_in_pyhanko_and_pdfsig(&pdfs, &out_dir.join("otoritas-sertifikat.pem"), tsa);
    }
    // The village letters: one per village, signed in one bulk action, each PDF written;
    // without an SMTP server their e-mails wait in the outbox, copies go by hand.
    let villages = &summary["village_letters"];
    assert_eq!(villages["count"], 54);
    let pdfs = std::fs::read_dir(out_dir.join("surat-desa")).unwrap().count();
    assert_eq!(pdfs, 54);
    assert!(std::fs::read(out_dir.join("daftar-pengiriman.pdf")).unwrap().starts_with(b"%PDF"));
    let deliveries = summary["deliveries"].as_array().unwrap();
    let count = |channel: &str, status: &str| {
        deliveries
            .iter()
            .filter(|d| d["channel"] == channel && d["status"] == status)
            .count()
    };
    assert_eq!(count("email", "queued"), 54, "each village by e-mail, waiting");
    assert_eq!(count("hand", "queued"), 2 * 54, "the Bupati and the Camat as copies, by hand");
    assert_eq!(summary["mail"]["sent"], 0);
    // The walkthrough leaves the configured database alone.
    assert!(!dir.path().join("data").exists());
}

/// With an SMTP server configured, the walkthrough e-mails the village letters to it and
/// records each delivery in summary.json.
#[test]
fn the_walkthrough_mails_the_village_letters_to_a_local_smtp_server() {
    if !crate::mail::aiosmtpd_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = crate::mail::free_port();
    let sink = crate::mail::start_sink(port, &dir.path().join("kotak-surel"));
    let out_dir = dir.path().join("jalan");
    let (ok, out, err) = run(naskah(dir.path())
        .env("NASKAH_SMTP_URL", format!("smtp+plain://127.0.0.1:{port}"))
        .env("NASKAH_MAIL_FROM", "Disnaker PPU <naskah@disnaker.example>")
        .args(["demo", "--walkthrough"])
        .arg(&out_dir));
    assert!(ok, "{err}");
    assert!(out.contains("54 dikirim lewat surel"), "{out}");
    let messages = sink.messages();
    assert_eq!(messages.len(), 54);
    assert!(
        messages
            .iter()
            .all(|m| m.contains("application/pdf") && m.contains("/tanda-terima/"))
    );
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    let sent = summary["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["channel"] == "email" && d["status"] == "sent" && d["attempts"] == 1)
        .count();
    assert_eq!(sent, 54);
    assert_eq!(summary["mail"]["smtp"], format!("smtp+plain://127.0.0.1:{port}"));
}
