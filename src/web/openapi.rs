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

fn id_param() -> Value {
    json!([{ "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } }])
}

fn crud(tag: &str, item: &str, input: &str, label: &str) -> (Value, Value) {
    let list = json!({
        "get": op(&format!("Daftar {label}"), tag, None, ("200", Some(&format!("{item}List")))),
        "post": op(&format!("Tambah {label} (administrator)"), tag, Some(input), ("201", Some(item))),
    });
    let one = json!({
        "parameters": id_param(),
        "get": op(&format!("Satu {label}"), tag, None, ("200", Some(item))),
        "put": op(&format!("Ubah {label} (administrator)"), tag, Some(input), ("200", Some(item))),
        "delete": op(&format!("Hapus {label} (administrator)"), tag, None, ("204", None)),
    });
    (list, one)
}

fn string_props(names: &[&str]) -> Value {
    Value::Object(names.iter().map(|n| (n.to_string(), json!({ "type": "string" }))).collect())
}

fn object(required: &[&str], props: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": props })
}

fn list_of(item: &str) -> Value {
    json!({ "type": "array", "items": { "$ref": format!("#/components/schemas/{item}") } })
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
    user_one["put"]["description"] =
        json!("Menonaktifkan akun mengakhiri semua sesinya. Administrator aktif terakhir tidak dapat dilepas.");
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
    let nullable_id = json!({ "type": ["integer", "null"] });
    let role = json!({ "type": "string", "enum": ["drafter", "typist", "approver", "signer", "agendaris", "administrator"] });

    json!({
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
            "/me/password": { "post": op("Ganti kata sandi sendiri", "akun", Some("PasswordChange"), ("204", None)) },
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
            "/users/{id}/password": { "parameters": id_param(), "post": op("Atur ulang kata sandi (administrator)", "pengguna", None, ("200", None)) },
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
    })
}
