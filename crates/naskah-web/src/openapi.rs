//! The OpenAPI 3.1 description of `/api/v1`. Written by hand next to the routes; the
//! tests check that every documented operation is routed and every route documented.

use serde_json::{Value, json};

fn op(summary: &str, tag: &str, body: Option<&str>, ok: (&str, Option<&str>)) -> Value {
    let mut o = json!({
        "summary": summary,
        "tags": [tag],
        "responses": {
            ok.0: match ok.1 {
                Some(schema) => json!({ "description": "Berhasil", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } }),
                None => json!({ "description": "Berhasil" }),
            },
            "401": { "$ref": "#/components/responses/Error" },
            "403": { "$ref": "#/components/responses/Error" },
            "404": { "$ref": "#/components/responses/Error" },
            "409": { "$ref": "#/components/responses/Error" },
            "422": { "$ref": "#/components/responses/Error" }
        }
    });
    if let Some(schema) = body {
        o["requestBody"] = json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } });
    }
    o
}

/// An integer the server reads as i64: larger values are not ids but malformed requests.
fn int64() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": i64::MIN, "maximum": i64::MAX })
}

fn id_param() -> Value {
    json!([{ "name": "id", "in": "path", "required": true, "schema": int64() }])
}

/// What every `PUT` of a stored resource promises (see `api::overlay`).
const PUT_KEEPS: &str = "Isian yang tidak dikirim tetap seperti tersimpan; isian bernilai null dikosongkan.";

fn crud(tag: &str, item: &str, input: &str, label: &str) -> (Value, Value) {
    let list = json!({
        "get": op(&format!("Daftar {label}"), tag, None, ("200", Some(&format!("{item}List")))),
        "post": op(&format!("Tambah {label} (administrator)"), tag, Some(input), ("201", Some(item))),
    });
    let mut one = json!({
        "parameters": id_param(),
        "get": op(&format!("Satu {label}"), tag, None, ("200", Some(item))),
        "put": op(&format!("Ubah {label} (administrator)"), tag, Some(input), ("200", Some(item))),
        "delete": op(&format!("Hapus {label} (administrator)"), tag, None, ("204", None)),
    });
    one["put"]["description"] = json!(PUT_KEEPS);
    (list, one)
}

fn string_props(names: &[&str]) -> Value {
    Value::Object(names.iter().map(|n| (n.to_string(), json!({ "type": "string" }))).collect())
}

fn object(required: &[&str], props: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": props })
}

/// An operation on a list read a page at a time (`?page=` from 1, `?per_page=`).
fn paged(mut operation: Value) -> Value {
    operation["parameters"] = json!([
        { "name": "page", "in": "query", "required": false, "schema": int64() },
        { "name": "per_page", "in": "query", "required": false, "schema": int64() }
    ]);
    operation
}

fn list_of(item: &str) -> Value {
    json!({ "type": "array", "items": { "$ref": format!("#/components/schemas/{item}") } })
}

/// The approval chain's part of the document (kept apart: one `json!` for everything
/// exceeds the macro's recursion limit).
fn letter_paths() -> (Value, Value) {
    let paths = json!({
            "/inbox": { "get": paged(op("Tugas saya: yang menunggu pengguna ini, satu halaman (page, per_page hingga 500; total: semua baris) — tasks: tahap surat; items: setiap jenis pekerjaan, surat satu kumpulan sebagai satu baris, dengan tindakan pertamanya; counts: jumlah per jenis atas semua baris — yang terlama di atas", "surat", None, ("200", None))) },
            "/letters": {
                "get": paged(op("Surat dinas ini, satu halaman (page, per_page hingga 500; total: semuanya), yang terakhir berubah di atas", "surat", None, ("200", None))),
                "post": op("Buat konsep surat dari templat (konseptor)", "surat", Some("NewLetter"), ("201", None))
            },
            "/letters/bulk-decision": { "post": op("Paraf atau tanda tangan banyak surat dengan satu frasa sandi, sebagai proses tersimpan (job); yang gagal disebutkan alasannya", "surat", Some("BulkDecision"), ("200", None)) },
            "/letters/{id}": { "parameters": id_param(), "get": op("Satu surat seperti halamannya: isian, tahap rantai, riwayat, revisi, status tanda tangan dan pengiriman, serta tindakan yang boleh Anda lakukan sekarang (actions)", "surat", None, ("200", None)) },
            "/letters/{id}/revisions": { "parameters": id_param(), "post": op("Simpan revisi (pemegang tahap konsep atau ketik)", "surat", Some("Revise"), ("200", None)) },
            "/letters/{id}/revisions/{number}": {
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": int64() }, { "name": "number", "in": "path", "required": true, "schema": int64() }],
                "get": op("Data satu revisi", "surat", None, ("200", None))
            },
            "/letters/{id}/revisions/{number}/pdf": {
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": int64() }, { "name": "number", "in": "path", "required": true, "schema": int64() }],
                "get": op("PDF konsep satu revisi", "surat", None, ("200", None))
            },
            "/letters/{id}/compare": {
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": int64() }, { "name": "a", "in": "query", "required": true, "schema": int64() }, { "name": "b", "in": "query", "required": true, "schema": int64() }],
                "get": op("Isian yang berbeda antara revisi a dan b", "surat", None, ("200", None))
            },
            "/letters/{id}/classification": { "parameters": id_param(), "post": op("Pilih kode klasifikasi (pemegang tahap konsep atau ketik)", "surat", Some("Classification"), ("200", None)) },
            "/register": {
                "get": {
                    "summary": "Agenda surat keluar satu tahun, satu halaman (page, per_page hingga 500; total: semuanya): setiap nomor, terbit, dicabut, diganti atau batal",
                    "tags": ["surat"],
                    "parameters": [
                        { "name": "year", "in": "query", "required": false, "schema": int64() },
                        { "name": "page", "in": "query", "required": false, "schema": int64() },
                        { "name": "per_page", "in": "query", "required": false, "schema": int64() }
                    ],
                    "responses": { "200": { "description": "Berhasil" } }
                }
            },
            "/letters/{id}/revoke": { "parameters": id_param(), "post": op("Cabut surat yang sudah ditandatangani (penandatangan atau administrator)", "surat", Some("Revoke"), ("200", None)) },
            "/letters/{id}/correction": { "parameters": id_param(), "post": op("Mulai ralat: surat baru dengan data yang sama, menggantikan surat ini setelah ditandatangani", "surat", None, ("201", None)) },
            "/letters/{id}/submit": { "parameters": id_param(), "post": op("Teruskan dari tahap konsep atau ketik ke tahap berikutnya", "surat", Some("VersionOnly"), ("200", None)) },
            "/letters/{id}/decision": {
                "parameters": id_param(),
                "post": {
                    "summary": "Paraf, tanda tangan, kembalikan (catatan wajib) atau tolak, dengan frasa sandi kunci; 428 bila keputusan anggaran oleh Plh./Plt. perlu dikonfirmasi",
                    "tags": ["surat"],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Decision" } } } },
                    "responses": { "200": { "description": "Berhasil" }, "403": { "$ref": "#/components/responses/Error" }, "409": { "$ref": "#/components/responses/Error" }, "422": { "$ref": "#/components/responses/Error" }, "428": { "$ref": "#/components/responses/Error" }, "429": { "$ref": "#/components/responses/Error" } }
                }
            },
            "/letters/{id}/statements": { "parameters": id_param(), "get": op("Periksa setiap pernyataan bertanda tangan surat (verify-chain)", "surat", None, ("200", None)) },
            "/chains/{kind}": {
                "parameters": [{ "name": "kind", "in": "path", "required": true, "schema": { "type": "string", "enum": ["surat", "keputusan"] } }],
                "get": op("Rantai persetujuan satu jenis naskah (bawaan: SOP)", "surat", None, ("200", None)),
                "put": op("Atur rantai persetujuan (administrator); surat yang sedang berjalan tetap memakai rantainya", "surat", Some("Chain"), ("200", None))
            }
    });
    let schemas = json!({
                "NewLetter": object(&["template", "data"], json!({ "template": { "type": "string" }, "data": { "$ref": "#/components/schemas/DraftData" }, "note": { "type": "string" } })),
                "Revise": object(&["version", "data"], json!({ "version": { "type": "integer", "description": "versi surat yang sedang diubah" }, "data": { "$ref": "#/components/schemas/DraftData" }, "note": { "type": "string" } })),
                "Classification": object(&["version", "code"], json!({ "version": { "type": "integer" }, "code": { "type": "string" } })),
                "Revoke": object(&["reason"], json!({ "reason": { "type": "string" } })),
                "VersionOnly": object(&["version"], json!({ "version": { "type": "integer" } })),
                "Decision": object(&["decision", "revision", "passphrase"], json!({ "decision": { "type": "string", "enum": ["paraf", "tanda_tangan", "kembalikan", "tolak"] }, "revision": { "type": "integer", "description": "revisi yang diperiksa" }, "passphrase": { "type": "string" }, "note": { "type": "string" }, "accept_budget_warning": { "type": "boolean" }, "passphrase_bsre": { "type": "string", "description": "passphrase BSrE penanda tangan (dinas yang menandatangani lewat BSrE)" }, "send_again": { "type": "boolean", "description": "kirim ulang ke BSrE setelah hasil tidak diketahui" }, "accept_deadline_warning": { "type": "boolean", "description": "penanda tangan tahu batas waktu dalam surat sudah lewat" } })),
                "BulkDecision": object(&["decision", "letters", "passphrase"], json!({ "decision": { "type": "string", "enum": ["paraf", "tanda_tangan"] }, "passphrase": { "type": "string" }, "letters": { "type": "array", "minItems": 1, "maxItems": 2000, "items": object(&["id", "revision"], json!({ "id": { "type": "integer" }, "revision": { "type": "integer" } })) }, "accept_deadline_warning": { "type": "boolean" } })),
                "Chain": object(&["stages"], json!({ "stages": { "type": "array", "items": object(&["kind", "label", "standard_minutes"], json!({
                    "kind": { "type": "string", "enum": ["konsep", "ketik", "paraf", "paraf_koordinasi", "tanda_tangan"] },
                    "label": { "type": "string" },
                    "positions": { "type": "array", "items": { "type": "string" }, "description": "jenis jabatan (mis. kepala_bidang) atau #id jabatan; lebih dari satu = paraf paralel" },
                    "optional": { "type": "boolean" },
                    "atas_nama": { "type": "string", "description": "jabatan yang diwakili (a.n.) pada tanda tangan" },
                    "standard_minutes": { "type": "integer", "minimum": 1 }
                })) } }))
    });
    (paths, schemas)
}

pub fn document() -> Value {
    let (units, unit) = crud("organisasi", "Unit", "UnitInput", "unit kerja");
    let (positions, position) = crud("organisasi", "Position", "PositionInput", "jabatan");
    let (officials, official) = crud("organisasi", "Official", "OfficialInput", "pejabat");
    let mut user_one = json!({
        "parameters": id_param(),
        "get": op("Satu pengguna (administrator)", "pengguna", None, ("200", Some("User"))),
        "put": op("Ubah pengguna (administrator)", "pengguna", Some("UserInput"), ("200", Some("User"))),
    });
    user_one["put"]["description"] = json!(format!(
        "{PUT_KEEPS} Menonaktifkan akun mengakhiri semua sesi dan token API-nya. Administrator aktif terakhir tidak dapat dilepas."
    ));
    let mut department_input = string_props(&[
        "name",
        "regency_name",
        "region_code",
        "address",
        "postal_code",
        "phone",
        "email",
        "website",
        "city",
    ]);
    department_input["timezone"] = json!({ "type": "string", "enum": ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"] });
    let mut department = department_input.clone();
    department["id"] = json!({ "type": "integer" });
    department["slug"] = json!({ "type": "string" });
    department["logo_mime"] = json!({ "type": ["string", "null"] });
    department["region_code"] = json!({ "type": ["string", "null"] });
    department["created_at"] = json!({ "type": "integer" });
    department["updated_at"] = json!({ "type": "integer" });
    let nullable_id = json!({ "type": ["integer", "null"] });
    let role = json!({ "type": "string", "enum": ["drafter", "typist", "approver", "signer", "agendaris", "administrator"] });

    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "naskah API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Naskah dinas elektronik. Autentikasi dengan token API (Authorization: Bearer nsk_...). Pesan galat berbahasa Indonesia dalam bentuk {\"error\": {\"code\", \"message\", \"fields\"}}."
        },
        "servers": [{ "url": "/api/v1" }],
        "security": [{ "bearer": [] }],
        "paths": {
            "/me": { "get": op("Pengguna yang sedang masuk dan dinasnya", "akun", None, ("200", None)) },
            "/me/password": { "post": op("Ganti kata sandi sendiri; sesi lain dan semua token API (termasuk yang dipakai) diakhiri", "akun", Some("PasswordChange"), ("204", None)) },
            "/department": {
                "get": op("Data kop surat dan pengaturan dinas", "dinas", None, ("200", Some("Department"))),
                "put": op("Ubah kop surat dan pengaturan (administrator)", "dinas", Some("DepartmentInput"), ("200", Some("Department")))
            },
            "/department/logo": {
                "get": op("Logo dinas", "dinas", None, ("200", None)),
                "put": {
                    "summary": "Unggah logo (PNG, JPEG atau SVG; administrator)",
                    "tags": ["dinas"],
                    "requestBody": { "required": true, "content": { "image/png": {}, "image/jpeg": {}, "image/svg+xml": {} } },
                    "responses": { "204": { "description": "Tersimpan" }, "413": { "$ref": "#/components/responses/Error" }, "422": { "$ref": "#/components/responses/Error" } }
                }
            },
            "/units": units, "/units/{id}": unit,
            "/positions": positions, "/positions/{id}": position,
            "/officials": officials, "/officials/{id}": official,
            "/users": {
                "get": op("Daftar pengguna (administrator)", "pengguna", None, ("200", Some("UserList"))),
                "post": op("Tambah pengguna (administrator); tanpa password, kata sandi awal dibuat dan dikembalikan sekali", "pengguna", Some("NewUser"), ("201", Some("User")))
            },
            "/users/{id}": user_one,
            "/users/{id}/password": { "parameters": id_param(), "post": op("Atur ulang kata sandi (administrator); semua sesi dan token API pengguna diakhiri", "pengguna", None, ("200", None)) },
            "/tokens": {
                "get": op("Token API milik sendiri", "akun", None, ("200", Some("ApiTokenList"))),
                "post": op("Buat token API; rahasianya dikembalikan sekali", "akun", Some("TokenRequest"), ("201", None))
            },
            "/tokens/{id}": { "parameters": id_param(), "delete": op("Cabut token API", "akun", None, ("204", None)) },
            "/regions": {
                "get": {
                    "summary": "Wilayah: kecamatan dan desa/kelurahan kabupaten dinas, atau anak dari kode induk",
                    "tags": ["wilayah"],
                    "parameters": [{ "name": "parent", "in": "query", "required": false, "schema": { "type": "string" } }],
                    "responses": { "200": { "description": "Berhasil", "content": { "application/json": { "schema": list_of("Region") } } } }
                }
            },
            "/templates": { "get": op("Daftar templat beserta isian (manifes) dan nilai bawaannya", "templat", None, ("200", None)) },
            "/templates/{id}": {
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "get": op("Satu templat: isian, jenis, label dan bantuan", "templat", None, ("200", None))
            },
            "/templates/{id}/validate": {
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
                "post": op("Periksa data konsep terhadap manifes templat (galat per isian)", "templat", Some("DraftData"), ("200", None))
            },
            "/templates/{id}/preview": {
                "parameters": [
                    { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                    { "name": "format", "in": "query", "required": false, "schema": { "type": "string", "enum": ["pdf", "png"] } },
                    { "name": "page", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1 } }
                ],
                "post": op("Pratinjau konsep (KONSEP) sebagai PDF atau satu halaman PNG", "templat", Some("DraftData"), ("200", None))
            },
            "/openapi.json": { "get": { "summary": "Dokumen ini", "tags": ["meta"], "security": [], "responses": { "200": { "description": "Berhasil" } } } }
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "responses": {
                "Error": { "description": "Galat", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
            },
            "schemas": {
                "Error": object(&["error"], json!({ "error": object(&["code", "message"], json!({
                    "code": { "type": "string" }, "message": { "type": "string" },
                    "fields": { "type": "array", "items": object(&["field", "message"], string_props(&["field", "message"])) }
                })) })),
                "Department": object(&["id", "slug", "name"], department),
                "DepartmentInput": object(&["name", "regency_name"], department_input),
                "Unit": object(&["id", "code", "name", "kind"], json!({ "id": { "type": "integer" }, "department_id": { "type": "integer" }, "code": { "type": "string" }, "name": { "type": "string" }, "kind": { "type": "string", "enum": ["sekretariat", "bidang", "sub_bagian", "seksi", "uptd"] }, "parent_id": nullable_id })),
                "UnitList": list_of("Unit"),
                "UnitInput": object(&["code", "name", "kind"], json!({ "code": { "type": "string" }, "name": { "type": "string" }, "kind": { "type": "string" }, "parent_id": nullable_id })),
                "Position": object(&["id", "title", "kind"], json!({ "id": { "type": "integer" }, "department_id": { "type": "integer" }, "title": { "type": "string" }, "kind": { "type": "string", "enum": ["kepala_dinas", "sekretaris", "kepala_bidang", "kepala_sub_bagian", "kepala_seksi", "staf", "agendaris", "lainnya"] }, "unit_id": nullable_id })),
                "PositionList": list_of("Position"),
                "PositionInput": object(&["title", "kind"], json!({ "title": { "type": "string" }, "kind": { "type": "string" }, "unit_id": nullable_id })),
                "Official": object(&["id", "name", "nip"], json!({ "id": { "type": "integer" }, "department_id": { "type": "integer" }, "name": { "type": "string" }, "title_prefix": { "type": "string" }, "title_suffix": { "type": "string" }, "full_name": { "type": "string" }, "nip": { "type": "string", "pattern": "^[0-9]{18}$" }, "rank": { "type": "string" }, "grade": { "type": "string" }, "rank_line": { "type": "string" }, "position_id": nullable_id })),
                "OfficialList": list_of("Official"),
                "OfficialInput": object(&["name", "nip"], json!({ "name": { "type": "string" }, "title_prefix": { "type": "string" }, "title_suffix": { "type": "string" }, "nip": { "type": "string", "description": "18 angka; tanggal lahir di dalamnya harus valid" }, "rank": { "type": "string" }, "grade": { "type": "string" }, "position_id": nullable_id })),
                "User": object(&["id", "username", "roles"], json!({ "id": { "type": "integer" }, "department_id": { "type": "integer" }, "username": { "type": "string" }, "display_name": { "type": "string" }, "email": { "type": "string" }, "official_id": nullable_id, "active": { "type": "boolean" }, "must_change_password": { "type": "boolean" }, "roles": { "type": "array", "items": role }, "created_at": { "type": "integer" }, "initial_password": { "type": "string" } })),
                "UserList": list_of("User"),
                "UserInput": object(&["username", "display_name"], json!({ "username": { "type": "string" }, "display_name": { "type": "string" }, "email": { "type": "string" }, "roles": { "type": "array", "items": role }, "official_id": nullable_id, "active": { "type": "boolean" } })),
                "NewUser": { "allOf": [{ "$ref": "#/components/schemas/UserInput" }, object(&[], json!({ "password": { "type": "string", "minLength": 10 } }))] },
                "PasswordChange": object(&["current_password", "new_password"], string_props(&["current_password", "new_password"])),
                "TokenRequest": object(&["name"], string_props(&["name"])),
                "ApiTokenList": { "type": "array", "items": object(&["id", "name"], json!({ "id": { "type": "integer" }, "name": { "type": "string" }, "prefix": { "type": "string" }, "created_at": { "type": "integer" }, "last_used_at": nullable_id, "revoked_at": nullable_id })) },
                "DraftData": { "type": "object", "description": "Isian templat menurut manifesnya; isian yang tidak dikirim memakai nilai bawaan.", "additionalProperties": true },
                "Region": object(&["code", "name", "level", "kind"], json!({ "code": { "type": "string" }, "name": { "type": "string" }, "level": { "type": "integer" }, "kind": { "type": "string" }, "parent_code": { "type": ["string", "null"] } }))
            }
        }
    });
    doc["paths"]["/department"]["put"]["description"] = json!(PUT_KEEPS);
    let (paths, schemas) = letter_paths();
    for (section, extra) in [("paths", paths), ("schemas", schemas)] {
        let target = if section == "paths" {
            &mut doc["paths"]
        } else {
            &mut doc["components"]["schemas"]
        };
        if let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) {
            target.extend(extra);
        }
    }
    document_common_errors(&mut doc);
    doc
}

/// Every authenticated operation may answer with the error body for a malformed request
/// (400), a missing or revoked token (401), a role that may not (403), an unknown id
/// (404), a conflict (409), data that does not pass the checks (422) or too many
/// requests (429); one with a body also for a body over the limit (413).
fn document_common_errors(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            if method == "parameters" || operation.get("security").is_some_and(|s| s.as_array().is_some_and(Vec::is_empty)) {
                continue;
            }
            let has_body = operation.get("requestBody").is_some();
            let Some(responses) = operation.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for code in ["400", "401", "403", "404", "409", "422", "429"]
                .into_iter()
                .chain(has_body.then_some("413"))
            {
                responses
                    .entry(code)
                    .or_insert_with(|| json!({ "$ref": "#/components/responses/Error" }));
            }
        }
    }
}
