//! The public verification page: what anyone who scans the QR code sees, personal data
//! masked, the official PDF (staff only when it carries personal data), the upload check,
//! unknown ids answered like any failure, and the rate limit.

use axum::http::StatusCode;
use naskah::workflow;
use serde_json::json;

use crate::{
    support::{self, Client, DEMO_PASSPHRASE},
    workflow::Demo,
};

/// Takes a letter of `template` with `data` through the whole chain; returns it signed.
pub(crate) async fn signed(d: &Demo, template: &str, data: serde_json::Value) -> workflow::Letter {
    let konseptor = d.user("konseptor").await;
    let letter = d.flow.create(&konseptor, template, &data, "").await.unwrap();
    let letter = d.flow.submit(&konseptor, letter.id, letter.version).await.unwrap();
    let letter = d.flow.submit(&d.user("staf").await, letter.id, letter.version).await.unwrap();
    d.through_chain(letter, 1, DEMO_PASSPHRASE).await
}

pub(crate) fn multipart(file: &[u8]) -> (String, Vec<u8>) {
    let boundary = "batasunggah";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"berkas\"; filename=\"surat.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

story! {
    #[tokio::test]
    async fn the_public_page_of_a_signed_letter(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let letter = signed(
            &d,
            "surat-permintaan-data",
            json!({ "hal": "Permohonan data calon penerima, rujukan NIK 6409015203900001", "batas_waktu": crate::support::days_from_today(14) }),
        )
        .await;
        let id = letter.verification_id.clone().unwrap();
        assert_eq!(id.len(), 32, "128 bits as hex");
        let mut anon = Client::new(&state);

        let page = anon.get(&format!("/v/{id}")).await;
        assert_eq!(page.status, StatusCode::OK);
        for expected in [
            ">SAH<",
            letter.number.as_deref().unwrap(),
            "Drs. Bambang Sutrisno, M.Si.",
            "Kepala Dinas Tenaga Kerja Kabupaten Penajam Paser Utara",
            "Kepala Bidang Hubungan Industrial",
            "Sekretaris Dinas Tenaga Kerja",
            letter.final_sha256.as_deref().unwrap(),
            "6409********0001",
        ] {
            assert!(page.body.contains(expected), "{expected} missing:\n{}", page.body);
        }
        assert!(!page.body.contains("6409015203900001"), "no full NIK on the public page");
        assert_eq!(page.headers.get("cache-control").unwrap(), "no-store");
        let date = naskah::text::date_long(chrono::NaiveDate::parse_from_str(letter.letter_date.as_deref().unwrap(), "%Y-%m-%d").unwrap());
        assert!(page.body.contains(&date), "{date}");

        let data = anon.get(&format!("/v/{id}.json")).await.json();
        assert_eq!(data["status"], "SAH");
        assert_eq!(data["number"], letter.number.clone().unwrap());
        assert_eq!(data["paraf"].as_array().unwrap().len(), 2);
        assert!(!data.to_string().contains("6409015203900001"));
        assert!(
            data.get("letter_id").is_none() && data.get("department_id").is_none(),
            "internal ids stay inside"
        );

        // Its subject cites a full NIK, so its PDF stays with staff whatever the template says
        // (the page above shows it masked); staff download the official PDF, byte for byte.
        let official = workflow::final_pdf(&state.db, letter.id).await.unwrap().unwrap();
        assert!(!page.body.contains(&format!("href=\"/v/{id}/pdf\"")), "no public download link");
        let pdf = anon.send("GET", &format!("/v/{id}/pdf"), None, vec![], &[]).await;
        assert_eq!(pdf.status, StatusCode::FORBIDDEN, "no full NIK in a public PDF");
        let mut staff = support::logged_in(&state, "kabid").await;
        let pdf = staff.send("GET", &format!("/v/{id}/pdf"), None, vec![], &[]).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert_eq!(pdf.bytes, official, "the download is the stored official PDF");

        // The upload check: the official file is identical; one changed byte is not.
        let (kind, body) = multipart(&official);
        let same = anon.send("POST", &format!("/v/{id}/periksa"), Some(&kind), body, &[]).await;
        assert_eq!(same.status, StatusCode::OK);
        assert!(same.body.contains("sama persis dengan PDF resmi naskah ini"), "{}", same.body);
        assert!(same.body.contains("<h1 id=\"status\">SAH</h1>"), "{}", same.body);
        let mut altered = official.clone();
        let middle = altered.len() / 2;
        altered[middle] ^= 0x01;
        let (kind, body) = multipart(&altered);
        let different = anon.send("POST", &format!("/v/{id}/periksa"), Some(&kind), body, &[]).await;
        // One verdict: the red TIDAK SAH replaces the green SAH, and says why.
        assert!(different.body.contains("<h1 id=\"status\">TIDAK SAH</h1>"), "{}", different.body);
        assert!(!different.body.contains(">SAH<"), "{}", different.body);
        assert!(
            different
                .body
                .contains("Tanda tangan elektronik di dalam berkas ini tidak sah: isi PDF berubah setelah ditandatangani"),
            "{}",
            different.body
        );
        let (kind, body) = multipart(b"bukan pdf sama sekali");
        let not_pdf = anon.send("POST", &format!("/v/{id}/periksa"), Some(&kind), body, &[]).await;
        assert_eq!(not_pdf.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(not_pdf.body.contains("Berkas ini bukan PDF."));

        // Unknown, malformed and unsigned ids all get the same answer.
        let unsigned = d
            .flow
            .create(&d.user("konseptor").await, "surat-permintaan-data", &json!({}), "")
            .await
            .unwrap();
        assert!(unsigned.verification_id.is_none());
        let unknown = anon.get(&format!("/v/{}", "0".repeat(32))).await;
        let malformed = anon.get("/v/'%20OR%201=1--").await;
        let short = anon.get("/v/abc").await;
        for reply in [&unknown, &malformed, &short] {
            assert_eq!(reply.status, StatusCode::NOT_FOUND);
            assert_eq!(reply.body, unknown.body, "every failure looks the same");
        }
        assert!(unknown.body.contains("Naskah tidak ditemukan"));
        let unknown_json = anon.get(&format!("/v/{}.json", "0".repeat(32))).await;
        assert_eq!(
            (unknown_json.status, unknown_json.json()),
            (StatusCode::NOT_FOUND, json!({ "status": "TIDAK_DITEMUKAN" }))
        );
        assert_eq!(anon.get(&format!("/v/{}/pdf", "0".repeat(32))).await.status, StatusCode::NOT_FOUND);
    }
}

story! {
    #[tokio::test]
    async fn personal_data_stays_with_staff_and_the_page_is_rate_limited(test_db: support::TestDb) {
        demo_seed(&test_db).await;
        let mut config = support::test_config();
        config.public_rate_per_minute = 8;
        let state = naskah::web::AppState::new(test_db.db.clone(), config).unwrap();
        naskah::demo::seed_keys(&test_db.db, &state.keys, Some(DEMO_PASSPHRASE))
            .await
            .unwrap();
        let d = Demo::over(&state);
        let example: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string("letter_templates/surat-konfirmasi-desa/contoh.json").unwrap()).unwrap();
        let letter = signed(&d, "surat-konfirmasi-desa", example).await;
        let id = letter.verification_id.unwrap();
        let mut anon = Client::new(&state);
        let page = anon.get(&format!("/v/{id}")).await;
        assert!(page.body.contains("hanya dapat diunduh pegawai dinas"), "{}", page.body);
        assert!(!page.body.contains(&format!("href=\"/v/{id}/pdf\"")));
        assert_eq!(anon.get(&format!("/v/{id}/pdf")).await.status, StatusCode::FORBIDDEN);
        let mut staff = support::logged_in(&state, "staf").await;
        let pdf = staff.send("GET", &format!("/v/{id}/pdf"), None, vec![], &[]).await;
        assert_eq!(pdf.status, StatusCode::OK);
        assert!(pdf.body.starts_with("%PDF"));
        let staff_page = staff.get(&format!("/v/{id}")).await;
        assert!(staff_page.body.contains(&format!("href=\"/v/{id}/pdf\"")));

        // Eight requests a minute per address here: the ninth is refused, from anyone at
        // that address (the router sees no peer address, so all callers share one).
        let mut statuses = Vec::new();
        for _ in 0..12 {
            statuses.push(anon.get(&format!("/v/{}", "1".repeat(32))).await.status);
        }
        assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
        let refused = anon.get(&format!("/v/{id}")).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(refused.body.contains("Terlalu banyak permintaan"));
    }
}

async fn demo_seed(test_db: &support::TestDb) {
    naskah::demo::seed(&test_db.db, Some(support::DEMO_PASSWORD)).await.unwrap();
}

story! {
    /// The signer revokes a letter: the public page says DICABUT with the reason at once.
    /// A correction (ralat) goes back to the original drafter and, once signed, the original
    /// shows DIGANTI with a link to the new one. Others may do neither.
    #[tokio::test]
    async fn revocation_and_correction_show_on_the_public_page(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let first = signed(&d, "surat-permintaan-data", json!({ "hal": "Yang akan dicabut" })).await;
        let second = signed(&d, "surat-permintaan-data", json!({ "hal": "Yang akan diralat" })).await;
        let mut anon = Client::new(&state);

        // Seen once before (so the public record is cached): the revocation still shows at once.
        let before = anon.get(&format!("/v/{}", first.verification_id.clone().unwrap())).await.body;
        assert!(before.contains(">SAH<"), "{before}");
        // Revocation: not by the Kepala Bidang; by the signer, with a reason.
        let kabid = d.user("kabid").await;
        let r = d.flow.revoke(&kabid, first.id, "Salah alamat tujuan").await;
        assert!(matches!(r, Err(workflow::Error::Forbidden(_))), "{r:?}");
        let mut kadis = support::logged_in(&state, "kadis").await;
        let view = kadis.get(&format!("/surat/{}", first.id)).await;
        assert!(view.body.contains("Cabut surat ini") && view.body.contains("Buat ralat surat ini"));
        // The signed letter's page shows the official PDF and an image addressed apart
        // from the draft's; revocation sits closed below it, as a red button.
        assert!(view.body.contains(&format!(r#"<a href="/surat/{}/pdf">Unduh PDF resmi</a> · halaman"#, first.id)), "{}", view.body);
        assert!(!view.body.contains("Unduh PDF konsep"));
        assert!(view.body.contains(&format!(r#"src="/surat/{}/revisi/{}/halaman/1?resmi="#, first.id, first.revision)));
        let zone = &view.body[view.body.find(r#"<details class="card danger-zone" id="cabut-ralat">"#).expect("closed disclosure")..];
        assert!(zone.contains(r#"<button type="submit" class="danger">Cabut surat ini</button>"#));
        assert!(view.body.find("Naskah resmi").unwrap() < view.body.find("cabut-ralat").unwrap());
        let csrf = view.csrf();
        let empty = kadis
            .post_form(
                &format!("/surat/{}/cabut", first.id),
                &[("csrf", &csrf), ("alasan", ""), ("paham", "ya")],
            )
            .await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.body.contains("Tuliskan alasan pencabutan."));
        // Not confirmed: refused, the reason typed kept and the disclosure open.
        let unconfirmed = kadis
            .post_form(
                &format!("/surat/{}/cabut", first.id),
                &[("csrf", &csrf), ("alasan", "Salah alamat tujuan")],
            )
            .await;
        assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unconfirmed.body.contains("Centang pernyataan bahwa Anda mengerti akibat pencabutan."));
        assert!(unconfirmed.body.contains(">Salah alamat tujuan</textarea>"), "{}", unconfirmed.body);
        assert!(unconfirmed.body.contains(r#"id="cabut-ralat" open>"#));
        assert!(workflow::get(&d.flow.db, 1, first.id).await.unwrap().revoked_at.is_none());
        let done = kadis
            .post_form(
                &format!("/surat/{}/cabut", first.id),
                &[("csrf", &csrf), ("alasan", "Salah alamat tujuan"), ("paham", "ya")],
            )
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER);
        let public = anon.get(&format!("/v/{}", first.verification_id.clone().unwrap())).await.body;
        assert!(public.contains(">DICABUT<") && public.contains("Salah alamat tujuan"), "{public}");
        assert_eq!(
            anon.get(&format!("/v/{}.json", first.verification_id.unwrap())).await.json()["status"],
            "DICABUT"
        );
        let again = d.flow.revoke(&d.user("kadis").await, first.id, "Lagi-lagi").await;
        assert!(matches!(again, Err(workflow::Error::Conflict(_))), "{again:?}");

        // Correction: started by the administrator, drafted by the original konseptor.
        let admin = d.user("agendaris").await;
        let correction = d.flow.start_correction(&admin, second.id).await.unwrap();
        assert_eq!(correction.corrects, Some(second.id));
        assert_eq!(correction.created_by, d.user("konseptor").await.id);
        let twice = d.flow.start_correction(&admin, second.id).await;
        assert!(matches!(twice, Err(workflow::Error::Conflict(_))), "{twice:?}");
        let public = anon.get(&format!("/v/{}", second.verification_id.clone().unwrap())).await.body;
        assert!(public.contains(">SAH<"), "still valid until the correction is signed");
        let konseptor = d.user("konseptor").await;
        let c = d
            .flow
            .revise(
                &konseptor,
                correction.id,
                correction.version,
                &json!({ "hal": "Yang sudah diralat" }),
                "ralat hal",
            )
            .await
            .unwrap();
        let c = d.flow.submit(&konseptor, c.id, c.version).await.unwrap();
        let c = d.flow.submit(&d.user("staf").await, c.id, c.version).await.unwrap();
        let c = d.through_chain(c, 2, DEMO_PASSPHRASE).await;
        let newer = c.verification_id.clone().unwrap();
        let public = anon.get(&format!("/v/{}", second.verification_id.clone().unwrap())).await.body;
        assert!(
            public.contains(">DIGANTI<") && public.contains(&format!("href=\"/v/{newer}\"")),
            "{public}"
        );
        assert_eq!(workflow::get(&state.db, 1, second.id).await.unwrap().superseded_by, Some(c.id));
        assert_ne!(c.number, second.number, "the correction has its own number");
    }
}

/// Decodes the QR codes in a PNG page image.
fn qr_texts(png_bytes: &[u8]) -> Vec<String> {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let grey = |x: usize, y: usize| {
        let at = (y * width + x) * channels;
        let pixel = &buffer[at..at + channels];
        let luma = if channels >= 3 {
            (u32::from(pixel[0]) * 299 + u32::from(pixel[1]) * 587 + u32::from(pixel[2]) * 114) / 1000
        } else {
            u32::from(pixel[0])
        };
        // Transparent pixels are the white paper.
        if channels == 4 && pixel[3] < 128 { 255 } else { luma as u8 }
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, grey);
    image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

story! {
    /// The QR code on the signed page decodes to the verification address with its signed
    /// token; following it shows the letter as SAH with the token checked. The token checks
    /// offline too, with the keys published at /.well-known/naskah-keys.json, from the token,
    /// the address, or the PDF; a changed token does not.
    #[tokio::test]
    async fn the_qr_code_leads_to_the_page_and_checks_offline(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let d = Demo::over(&state);
        let letter = signed(&d, "surat-permintaan-data", json!({ "hal": "Permohonan data untuk kode QR" })).await;
        // The page as a phone camera sees print: about 300 dpi (4 pixels per point).
        let slots = state.workflow().final_slots(&letter).await.unwrap().unwrap();
        let manifest = state.catalogue.get(&letter.template_id).unwrap();
        let department = naskah::departments::get(&state.db, 1).await.unwrap();
        let logo = naskah::departments::logo(&state.db, 1).await.unwrap();
        let data = workflow::revision(&state.db, letter.id, 1).await.unwrap().fields();
        let job = naskah::letters::job(manifest, &department.letterhead(), logo, &data, &slots, None);
        let image = state.renderer.render_png_blocking(&job, 0, 4.0).unwrap();
        let texts = qr_texts(&image.png);
        assert_eq!(texts.len(), 1, "one QR code on the page: {texts:?}");
        let address = &texts[0];
        let id = letter.verification_id.clone().unwrap();
        // The compact token: upper-case origin, /V/, digits; scheme and host ignore case.
        let prefix = format!("{}/V/", state.config.base_url.to_ascii_uppercase());
        assert!(address.starts_with(&prefix), "{address}");
        let token = address.strip_prefix(&prefix).unwrap().to_string();
        assert!(token.bytes().all(|b| b.is_ascii_digit()) && token.len() == 231, "{token}");

        // Follow it, as a phone would.
        let path = &address[state.config.base_url.len()..];
        let mut anon = Client::new(&state);
        let page = anon.get(path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains(">SAH<") && page.body.contains("Kode QR yang Anda pindai asli"),
            "{}",
            page.body
        );
        // A token changed by one digit of its signature: the record shows, under TIDAK SAH.
        let mut bad = token.clone().into_bytes();
        let at = bad.len() - 5;
        bad[at] = if bad[at] == b'0' { b'1' } else { bad[at] - 1 };
        let bad = String::from_utf8(bad).unwrap();
        let refused = anon.get(&format!("/V/{bad}")).await;
        assert!(
            refused.body.contains(">TIDAK SAH<") && refused.body.contains("bukan kode QR asli") && !refused.body.contains(">SAH<"),
            "{}",
            refused.body
        );
        // The older form (`/v/{id}?t=`) with the new token works too.
        let old_form = anon.get(&format!("/v/{id}?t={token}")).await;
        assert!(old_form.body.contains(">SAH<"), "{}", old_form.body);

        // Offline: the published keys and the token, the address, or the signed PDF.
        let published = anon.get("/.well-known/naskah-keys.json").await;
        assert_eq!(published.status, StatusCode::OK);
        let keys = naskah::signing::token::keys_from_json(&published.json());
        assert_eq!(keys.len(), 1);
        let opened = naskah::signing::token::open(&token, &keys).unwrap();
        assert_eq!(opened.verification_id, id);
        assert_eq!(Some(opened.date.as_str()), letter.letter_date.as_deref());
        assert!(opened.names(
            &id,
            &opened.date,
            letter.number.as_deref().unwrap(),
            "Permohonan data untuk kode QR"
        ));
        assert!(!opened.names(&id, &opened.date, letter.number.as_deref().unwrap(), "Hal yang lain"));
        assert!(naskah::signing::token::open(&bad, &keys).is_err());

        let dir = tempfile::tempdir().unwrap();
        let keys_file = dir.path().join("naskah-keys.json");
        std::fs::write(&keys_file, &published.body).unwrap();
        let pdf_file = dir.path().join("surat.pdf");
        std::fs::write(&pdf_file, workflow::final_pdf(&state.db, letter.id).await.unwrap().unwrap()).unwrap();
        let cli = |what: &str| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_naskah"))
                .current_dir(dir.path())
                .env("NASKAH_LOG_LEVEL", "warn")
                .env("NASKAH_TEMPLATES_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/letter_templates"))
                .args(["verify", "--offline", what, "--keys"])
                .arg(&keys_file)
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        for what in [token.as_str(), address.as_str(), pdf_file.to_str().unwrap()] {
            let (ok, out, err) = cli(what);
            assert!(ok, "{what}: {err}");
            assert!(out.contains("SAH") && out.contains(&id), "{out}");
        }
        let (_, out, _) = cli(pdf_file.to_str().unwrap());
        assert!(out.contains(letter.number.as_deref().unwrap()), "a file names its number: {out}");
        let (ok, _, err) = cli(&bad);
        assert!(!ok && err.contains("TIDAK SAH"), "{err}");
        // A genuine token behind another letter's address does not vouch for that letter.
        let other = format!("{}/v/{}?t={token}", state.config.base_url, "0".repeat(32));
        let (ok, out, err) = cli(&other);
        assert!(!ok && err.contains("TIDAK SAH") && err.contains(&id), "{out}{err}");
        // The file also carries the signature inside the PDF, checked against the published
        // root certificates: one changed byte and the file is refused, token or not.
        let (_, out, _) = cli(pdf_file.to_str().unwrap());
        assert!(out.contains("Tanda tangan di dalam PDF SAH"), "{out}");
        let mut changed = std::fs::read(&pdf_file).unwrap();
        let stream = changed.windows(7).position(|w| w == b"stream\n").unwrap();
        changed[stream + 27] ^= 0x01;
        let changed_file = dir.path().join("diubah.pdf");
        std::fs::write(&changed_file, changed).unwrap();
        let (ok, out, err) = cli(changed_file.to_str().unwrap());
        assert!(
            !ok && err.contains("TIDAK SAH") && err.contains("isi PDF berubah setelah ditandatangani"),
            "{out}{err}"
        );
        assert!(!out.contains("SAH:"), "nothing is called valid first: {out}");
    }
}
