//! Writes the generated seeds of the fuzz corpora with the crate's own writers, so the
//! fuzzer starts from inputs that reach deep: certificates, a CRL, CMS SignedData,
//! RFC 3161 tokens, PDFs signed at every PAdES level, QR tokens of both versions and
//! workbooks. Everything is deterministic except the certificate serials and ECDSA
//! signatures' randomness; the keys are fixed (the `qr_token` target knows its key).
//!
//! `cargo run --manifest-path fuzz/seedgen/Cargo.toml -- fuzz/corpus`

use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate};
use ed25519_dalek::SigningKey;
use naskah_signing::timestamp::{Authority, TimestampError, Token};
use naskah_signing::x509::{self, Algorithm, Name, PrivateKey, Template};
use naskah_signing::{LocalSigner, cms, crl, der, ltv, pades, token};

const NOT_BEFORE: i64 = 1_600_000_000;
const NOT_AFTER: i64 = 2_400_000_000;
const SIGNED_AT: i64 = 1_795_400_100;

struct Out(PathBuf);

impl Out {
    fn write(&self, target: &str, name: &str, bytes: &[u8]) {
        let dir = self.0.join(target);
        std::fs::create_dir_all(&dir).expect("corpus folder");
        std::fs::write(dir.join(name), bytes).expect("seed written");
        println!("{target}/{name} ({} bytes)", bytes.len());
    }

    /// A PDF seed: for the upload's inspection and for the long-term validation readers.
    fn pdf(&self, name: &str, bytes: &[u8]) {
        self.write("pdf_inspect", name, bytes);
        self.write("pdf_ltv", name, bytes);
    }
}

fn name(common_name: &str) -> Vec<u8> {
    Name {
        common_name: common_name.into(),
        organization: "Dinas Sosial Kabupaten Uji".into(),
        title: Some("Kepala Dinas".into()),
        serial_number: Some("197005121998031004".into()),
    }
    .to_der()
}

/// The department's root: a self-signed P-256 authority.
fn root() -> (PrivateKey, Vec<u8>) {
    let key = PrivateKey::P256(p256::ecdsa::SigningKey::from_slice(&[5; 32]).expect("key"));
    let subject = name("CA Dinas Uji");
    let public = key.public();
    let certificate = x509::issue(
        &Template {
            serial: x509::random_serial(),
            issuer: &subject,
            subject: &subject,
            not_before: NOT_BEFORE,
            not_after: NOT_AFTER,
            subject_key: &public,
            issuer_key_identifier: &public.key_identifier(),
            authority: true,
            links: Some(x509::Links {
                crl: "http://naskah.example/ca/crl.der",
                ca_issuers: "http://naskah.example/ca/root.der",
            }),
        },
        &key,
    );
    (key, certificate)
}

fn signer(algorithm: Algorithm, root: &(PrivateKey, Vec<u8>)) -> LocalSigner {
    let key = naskah_signing::official_key(&SigningKey::from_bytes(&[9; 32]), algorithm);
    let root_certificate = x509::Certificate::parse(&root.1).expect("root reads back");
    let subject = name("Siti Aminah");
    let public = key.public();
    let certificate = x509::issue(
        &Template {
            serial: x509::random_serial(),
            issuer: root_certificate.subject,
            subject: &subject,
            not_before: NOT_BEFORE,
            not_after: NOT_AFTER,
            subject_key: &public,
            issuer_key_identifier: &root.0.public().key_identifier(),
            authority: false,
            links: Some(x509::Links {
                crl: "http://naskah.example/ca/crl.der",
                ca_issuers: "http://naskah.example/ca/root.der",
            }),
        },
        &root.0,
    );
    LocalSigner {
        key,
        certificate,
        chain: vec![root.1.clone()],
    }
}

/// An RFC 3161 token over `digest` as a TSA would send it (its signer info is a stub:
/// nobody here checks the TSA's signature).
fn timestamp_token(digest: &[u8], at: i64, tsa_certificate: &[u8]) -> Vec<u8> {
    let time = DateTime::from_timestamp(at, 0).expect("time").format("%Y%m%d%H%M%SZ").to_string();
    let sha256 = der::sequence(&[&der::oid("2.16.840.1.101.3.4.2.1")]);
    let tst_info = der::sequence(&[
        &der::small_integer(1),
        &der::oid("1.3.6.1.4.1.99999.1"),
        &der::sequence(&[&sha256, &der::octet_string(digest)]),
        &der::small_integer(4242),
        &der::tlv(der::GENERALIZED_TIME, time.as_bytes()),
        &der::unsigned_integer(&[1; 8]),
    ]);
    let encapsulated = der::sequence(&[
        &der::oid("1.2.840.113549.1.9.16.1.4"),
        &der::explicit(0, &der::octet_string(&tst_info)),
    ]);
    let signer_info = der::sequence(&[
        &der::small_integer(1),
        &der::sequence(&[]),
        &sha256,
        &der::sequence(&[&der::oid("1.2.840.10045.4.3.2")]),
        &der::octet_string(&[0x30, 0x00]),
    ]);
    let signed = der::sequence(&[
        &der::small_integer(3),
        &der::set_of(&[&sha256]),
        &encapsulated,
        &der::implicit_constructed(0, &der::set_of(&[tsa_certificate])),
        &der::set_of(&[&signer_info]),
    ]);
    der::sequence(&[&der::oid("1.2.840.113549.1.7.2"), &der::explicit(0, &signed)])
}

struct FakeTsa {
    certificate: Vec<u8>,
}

impl Authority for FakeTsa {
    fn stamp(&self, digest: &[u8; 32]) -> Result<Token, TimestampError> {
        Ok(Token {
            der: timestamp_token(digest, SIGNED_AT + 60, &self.certificate),
            time: SIGNED_AT + 60,
            certificates: vec![self.certificate.clone()],
        })
    }
}

/// A one-page PDF with a classic cross-reference table, as Typst writes them.
fn minimal_pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 770 Td ({text}) Tj ET");
    let objects = [
        "<</Type /Catalog /Pages 2 0 R>>".to_string(),
        "<</Type /Pages /Kids [3 0 R] /Count 1>>".to_string(),
        "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources <</Font <</F1 5 0 R>>>> /Contents 4 0 R>>".to_string(),
        format!("<</Length {}>>\nstream\n{content}\nendstream", content.len()),
        "<</Type /Font /Subtype /Type1 /BaseFont /Helvetica>>".to_string(),
    ];
    let mut pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (index, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", index + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1).as_bytes());
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n\r\n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<</Size {} /Root 1 0 R /ID [<0102><0102>]>>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

fn signed(pdf: &[u8], signer: &LocalSigner) -> Vec<u8> {
    let at: DateTime<FixedOffset> = DateTime::from_timestamp(SIGNED_AT, 0)
        .expect("time")
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("offset"));
    pades::sign(
        pdf,
        signer,
        &pades::Details {
            name: "Siti Aminah",
            reason: "Penandatanganan naskah dinas nomor 400.9/12/DINSOS/2026",
            location: "Penajam",
            signed_at: at,
        },
    )
    .expect("signed")
}

fn pdf_seeds(out: &Out) {
    let root = root();
    let p256 = signer(Algorithm::P256, &root);
    let ed25519 = signer(Algorithm::Ed25519, &root);
    let plain = minimal_pdf("Surat uji");
    out.pdf("plain.pdf", &plain);

    let signed_p256 = signed(&plain, &p256);
    out.pdf("signed-p256.pdf", &signed_p256);
    let signed_ed25519 = signed(&minimal_pdf("Surat uji Ed25519"), &ed25519);
    out.pdf("signed-ed25519.pdf", &signed_ed25519);

    let tsa = FakeTsa {
        certificate: root.1.clone(),
    };
    let (with_timestamp, _) = ltv::add_signature_timestamp(&signed_p256, &tsa).expect("B-T");
    out.pdf("signed-b-t.pdf", &with_timestamp);
    let revocation = crl_of(&root, &p256.certificate);
    let with_validation = ltv::add_validation_data(
        &with_timestamp,
        &ltv::ValidationData {
            certificates: vec![root.1.clone(), p256.certificate.clone()],
            crls: vec![revocation],
        },
    )
    .expect("B-LT");
    out.pdf("signed-b-lt.pdf", &with_validation);
    let (archived, _) = ltv::add_document_timestamp(&with_validation, &tsa).expect("B-LTA");
    out.pdf("signed-b-lta.pdf", &archived);

    // Changed after signing: a byte inside the signed revision, and a new revision that
    // replaces the page's content.
    let mut flipped = signed_p256.clone();
    let at = plain.len() / 2;
    flipped[at] ^= 0x01;
    out.pdf("signed-byte-changed.pdf", &flipped);
    let mut appended = signed_p256.clone();
    let page = "<</Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R>>";
    let object_at = appended.len();
    appended.extend_from_slice(format!("3 0 obj\n{page}\nendobj\n").as_bytes());
    let xref_at = appended.len();
    let previous = String::from_utf8_lossy(&signed_p256[signed_p256.len() - 40..])
        .split_whitespace()
        .rev()
        .nth(1)
        .unwrap_or("0")
        .to_string();
    appended.extend_from_slice(
        format!("xref\n3 1\n{object_at:010} 00000 n\r\ntrailer\n<</Size 9 /Root 1 0 R /Prev {previous}>>\nstartxref\n{xref_at}\n%%EOF\n")
            .as_bytes(),
    );
    out.pdf("signed-then-changed.pdf", &appended);

    // The seeds reach the checks they are for.
    let roots = std::slice::from_ref(&root.1);
    for (label, pdf) in [
        ("P-256", &signed_p256),
        ("Ed25519", &signed_ed25519),
        ("B-T", &with_timestamp),
        ("B-LT", &with_validation),
        ("B-LTA", &archived),
    ] {
        let found = pades::inspect(pdf, roots);
        assert!(matches!(pades::verdict(&found), pades::Verdict::Valid(..)), "{label}: {found:?}");
    }
    assert!(matches!(
        pades::verdict(&pades::inspect(&flipped, roots)),
        pades::Verdict::Invalid(..)
    ));
    assert!(matches!(
        pades::verdict(&pades::inspect(&appended, roots)),
        pades::Verdict::Modified(..)
    ));
}

fn crl_of(root: &(PrivateKey, Vec<u8>), revoked_certificate: &[u8]) -> Vec<u8> {
    let root_certificate = x509::Certificate::parse(&root.1).expect("root");
    let revoked = x509::Certificate::parse(revoked_certificate).expect("certificate");
    crl::issue(
        &crl::Contents {
            issuer: root_certificate.subject,
            issuer_key_identifier: &root.0.public().key_identifier(),
            number: 7,
            this_update: SIGNED_AT,
            next_update: SIGNED_AT + 7 * 86_400,
            revoked: &[crl::Revoked {
                serial: revoked.serial.to_vec(),
                at: SIGNED_AT - 86_400,
                reason: crl::REASON_SUPERSEDED,
            }],
        },
        &root.0,
    )
}

fn der_seeds(out: &Out) {
    let root = root();
    out.write("der", "certificate-root.der", &root.1);
    let p256 = signer(Algorithm::P256, &root);
    out.write("der", "certificate-p256.der", &p256.certificate);
    let ed25519 = signer(Algorithm::Ed25519, &root);
    out.write("der", "certificate-ed25519.der", &ed25519.certificate);
    out.write("der", "crl.der", &crl_of(&root, &p256.certificate));
    // The empty CRL an authority publishes before it revokes anything.
    let root_certificate = x509::Certificate::parse(&root.1).expect("root");
    let empty = crl::issue(
        &crl::Contents {
            issuer: root_certificate.subject,
            issuer_key_identifier: &root.0.public().key_identifier(),
            number: 1,
            this_update: SIGNED_AT,
            next_update: SIGNED_AT + 86_400,
            revoked: &[],
        },
        &root.0,
    );
    out.write("der", "crl-empty.der", &empty);

    for (label, signer) in [("p256", &p256), ("ed25519", &ed25519)] {
        // The fuzz target checks the SignedData against the input itself; the digest
        // here is over other content, so the check reads everything and then differs.
        let digest = cms::content_digest(naskah_signing::DocumentSigner::algorithm(signer), &[b"isi"]);
        let signed_data = cms::signed_data(signer, &digest).expect("SignedData");
        out.write("der", &format!("cms-{label}.der"), &signed_data);
        if label == "p256" {
            let token = timestamp_token(&[3; 32], SIGNED_AT, &root.1);
            let stamped = cms::with_unsigned_attribute(&signed_data, cms::OID_SIGNATURE_TIME_STAMP, &token).expect("unsigned attribute");
            out.write("der", "cms-p256-timestamped.der", &stamped);
        }
    }
    let token = timestamp_token(&[0; 32], SIGNED_AT, &root.1);
    out.write("der", "timestamp-token.der", &token);
    // A TimeStampResp granting a token over the digest and nonce the target asks for.
    let response = der::sequence(&[&der::sequence(&[&der::small_integer(0)]), &token]);
    out.write("der", "timestamp-response.der", &response);
    out.write(
        "der",
        "timestamp-request.der",
        &naskah_signing::timestamp::request(&[0; 32], &[1; 8]),
    );
}

fn token_seeds(out: &Out) {
    let key = SigningKey::from_bytes(&[7; 32]);
    let key_id = naskah_signing::key_id(&key.verifying_key());
    let verification_id = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let date = NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let subject = "Permintaan data calon penerima bantuan iuran";
    let number = "400.9/12/DINSOS/2026";
    let compact = token::make_compact(&key, &key_id, verification_id, date, number, subject).expect("compact token");
    let claims = token::Claims::new(&key_id, verification_id, number, "2026-11-22", subject, "Siti Aminah");
    let v1 = token::make(&key, &claims);
    let keys = std::collections::HashMap::from([(key_id.clone(), key.verifying_key())]);
    assert!(token::open(&compact, &keys).is_ok() && token::open(&v1, &keys).is_ok());
    out.write("qr_token", "v2-digits.txt", compact.as_bytes());
    out.write(
        "qr_token",
        "v2-address.txt",
        format!("HTTPS://NASKAH.EXAMPLE/V/{compact}").as_bytes(),
    );
    out.write("qr_token", "v1-token.txt", v1.as_bytes());
    out.write(
        "qr_token",
        "v1-address.txt",
        format!("https://naskah.example/v/{verification_id}?t={v1}&lang=id").as_bytes(),
    );
    // Another key's token: the key id is unknown.
    let stranger = SigningKey::from_bytes(&[8; 32]);
    let stranger_id = naskah_signing::key_id(&stranger.verifying_key());
    let other = token::make_compact(&stranger, &stranger_id, verification_id, date, number, subject).expect("token");
    out.write("qr_token", "v2-unknown-key.txt", other.as_bytes());
}

fn xlsx_seeds(out: &Out) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Data").expect("name");
    for (column, header) in ["NIK", "Nama", "Tanggal Lahir", "Jenis Kelamin", "Alamat", "Desa"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, column as u16, *header).expect("header");
    }
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    let rows = [
        ("6409014205668780", "NUR", (1966, 5, 2), "P", "RT 012", "Pejala"),
        ("6409011305657105", "DARMAWAN", (1965, 5, 13), "L", "RT 3", "Sepaku"),
    ];
    for (index, (nik, nama, (y, m, d), sex, alamat, desa)) in rows.iter().enumerate() {
        let row = index as u32 + 1;
        sheet.write_string(row, 0, *nik).expect("cell");
        sheet.write_string(row, 1, *nama).expect("cell");
        let date = ExcelDateTime::from_ymd(*y, *m, *d).expect("date");
        sheet.write_datetime_with_format(row, 2, &date, &date_format).expect("cell");
        sheet.write_string(row, 3, *sex).expect("cell");
        sheet.write_string(row, 4, *alamat).expect("cell");
        sheet.write_string(row, 5, *desa).expect("cell");
    }
    // A skipped row, then a NIK typed as a number, a boolean and a formula.
    sheet.write_number(4, 0, 6409011305657105.0).expect("cell");
    sheet.write_string(4, 1, "ANGKA").expect("cell");
    sheet.write_boolean(4, 3, true).expect("cell");
    sheet.write_formula(4, 4, "=1+1").expect("cell");
    book.add_worksheet().set_name("Lain").expect("second sheet");
    out.write("xlsx", "register.xlsx", &book.save_to_buffer().expect("workbook"));

    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "nik").expect("cell");
    sheet.write_string(0, 1, "nama").expect("cell");
    sheet.write_string(1, 0, "'6409014205668780").expect("cell");
    sheet.write_string(1, 1, "Siti; \"Ani\"\nbaris dua").expect("cell");
    sheet.write_number(2, 0, 1.5e15).expect("cell");
    sheet.write_number(2, 1, -0.25).expect("cell");
    out.write("xlsx", "small.xlsx", &book.save_to_buffer().expect("workbook"));
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "../corpus".into());
    let out = Out(Path::new(&dir).to_path_buf());
    der_seeds(&out);
    pdf_seeds(&out);
    token_seeds(&out);
    xlsx_seeds(&out);
}
