//! The JSON API through the real router: resources, errors, limits, the OpenAPI document.

use axum::http::StatusCode;
use serde_json::json;

use crate::support;

#[tokio::test]
async fn organisation_crud_with_clear_errors() {
    let t = support::sqlite().await;
    let state = support::demo_state(&t).await;
    let mut api = support::api_client(&state, "agendaris").await;

    let me = api.get("/api/v1/me").await.json();
    assert_eq!(me["user"]["username"], "agendaris");
    assert_eq!(me["department"]["name"], "Dinas Tenaga Kerja");

    let unit = api
        .json(
            "POST",
            "/api/v1/units",
            json!({ "code": "PPK", "name": "Seksi Perluasan Kesempatan Kerja", "kind": "seksi" }),
        )
        .await;
    assert_eq!(unit.status, StatusCode::CREATED, "{}", unit.body);
    let unit_id = unit.json()["id"].as_i64().unwrap();
    let dup = api
        .json("POST", "/api/v1/units", json!({ "code": "PPK", "name": "Lain", "kind": "seksi" }))
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert!(dup.json()["error"]["message"].as_str().unwrap().contains("sudah dipakai"));

    let position = api
        .json(
            "POST",
            "/api/v1/positions",
            json!({ "title": "Kepala Seksi PPK", "kind": "kepala_seksi", "unit_id": unit_id }),
        )
        .await;
    assert_eq!(position.status, StatusCode::CREATED);
    let position_id = position.json()["id"].as_i64().unwrap();

    let bad = api
        .json(
            "POST",
            "/api/v1/officials",
            json!({ "name": "", "nip": "19851340 201001 2 015", "grade": "V/z" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = bad.json()["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["name", "nip", "grade"]);

    let official = api
        .json("POST", "/api/v1/officials", json!({ "name": "Rina Wulandari", "title_suffix": "S.H.", "nip": "198602172011012003", "rank": "Penata", "grade": "III/c", "position_id": position_id }))
        .await;
    assert_eq!(official.status, StatusCode::CREATED, "{}", official.body);
    let official = official.json();
    assert_eq!(official["full_name"], "Rina Wulandari, S.H.");
    let same_nip = api
        .json(
            "POST",
            "/api/v1/officials",
            json!({ "name": "Orang Lain", "nip": "198602172011012003" }),
        )
        .await;
    assert_eq!(same_nip.status, StatusCode::CONFLICT);

    let updated = api
        .json(
            "PUT",
            &format!("/api/v1/units/{unit_id}"),
            json!({ "code": "PPK", "name": "Seksi PPK", "kind": "seksi" }),
        )
        .await;
    assert_eq!(updated.json()["name"], "Seksi PPK");
    assert_eq!(
        api.send("DELETE", &format!("/api/v1/positions/{position_id}"), None, vec![], &[])
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        api.get(&format!("/api/v1/positions/{position_id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // Users: a generated password is returned once; duplicates are 409.
    let created = api
        .json(
            "POST",
            "/api/v1/users",
            json!({ "username": "operator", "display_name": "Operator", "roles": ["typist"] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let initial = created.json()["initial_password"].as_str().unwrap().to_string();
    assert_eq!(initial.len(), 16);
    assert!(!created.body.contains("password_hash"));
    let again = api
        .json(
            "POST",
            "/api/v1/users",
            json!({ "username": "operator", "display_name": "Operator 2", "password": "sandi-panjang-sekali" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"]["message"], "Nama pengguna itu sudah dipakai.");

    let regions = api.get("/api/v1/regions").await.json();
    assert_eq!(regions.as_array().unwrap().len(), 58);
    let villages = api.get("/api/v1/regions?parent=64.09.02").await.json();
    assert!(villages.as_array().unwrap().iter().all(|r| r["level"] == 4));
}

#[tokio::test]
async fn tokens_are_revocable() {
    let t = support::sqlite().await;
    let state = support::demo_state(&t).await;
    let mut api = support::api_client(&state, "kadis").await;
    let created = api.json("POST", "/api/v1/tokens", json!({ "name": "kedua" })).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let secret = created.json()["secret"].as_str().unwrap().to_string();
    let id = created.json()["token"]["id"].as_i64().unwrap();
    let mut second = support::Client::new(&state);
    second.bearer = Some(secret);
    assert_eq!(second.get("/api/v1/me").await.status, StatusCode::OK);
    assert_eq!(
        api.send("DELETE", &format!("/api/v1/tokens/{id}"), None, vec![], &[]).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(second.get("/api/v1/me").await.status, StatusCode::UNAUTHORIZED);
    let listed = api.get("/api/v1/tokens").await.json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == id && !t["revoked_at"].is_null())
    );
    assert!(!api.get("/api/v1/tokens").await.body.contains("token_hash"));
}

#[tokio::test]
async fn bad_bodies_get_clear_answers() {
    let t = support::sqlite().await;
    let state = support::demo_state(&t).await;
    let mut api = support::api_client(&state, "agendaris").await;
    let broken = api
        .send("POST", "/api/v1/units", Some("application/json"), b"{\"code\": ".to_vec(), &[])
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(
        broken.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Badan JSON tidak valid")
    );
    // The test configuration limits bodies to 64 KiB.
    let huge = json!({ "code": "X", "name": "x".repeat(70 * 1024), "kind": "seksi" });
    let too_large = api.json("POST", "/api/v1/units", huge).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.json()["error"]["code"], "too_large");
    let logo = api
        .send("PUT", "/api/v1/department/logo", Some("image/png"), vec![0u8; 70 * 1024], &[])
        .await;
    assert_eq!(logo.status, StatusCode::PAYLOAD_TOO_LARGE);
    let not_image = api
        .send("PUT", "/api/v1/department/logo", Some("image/png"), b"GIF89a....".to_vec(), &[])
        .await;
    assert_eq!(not_image.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = api.get("/api/v1/tidak-ada").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.json()["error"]["message"],
        "Halaman atau data yang Anda cari tidak ditemukan."
    );
}

/// Every documented operation is routed, and every routed operation is documented.
#[tokio::test]
async fn openapi_matches_the_routes() {
    let t = support::sqlite().await;
    let state = support::demo_state(&t).await;
    let mut api = support::api_client(&state, "agendaris").await;
    let doc = api.get("/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "delete"] {
            if item.get(method).is_some() {
                documented.push((
                    method.to_uppercase(),
                    path.replace("{id}", "999999").replace("{number}", "1").replace("{kind}", "surat"),
                ));
            }
        }
    }
    assert!(documented.len() >= 25, "{documented:?}");
    for (method, path) in &documented {
        let reply = api
            .send(method, &format!("/api/v1{path}"), Some("application/json"), b"{}".to_vec(), &[])
            .await;
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} documented but not routed"
        );
        if reply.status == StatusCode::NOT_FOUND {
            // A 404 must come from a missing record, not from a missing route.
            assert!(path.contains("999999"), "{method} {path}: {}", reply.body);
        }
    }
    // Routes that exist but are not in the document would be invisible to clients.
    for (method, path) in [
        ("GET", "/units"),
        ("PUT", "/department/logo"),
        ("POST", "/users/{id}/password"),
        ("DELETE", "/tokens/{id}"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method.to_lowercase())).is_some(),
            "{method} {path} undocumented"
        );
    }
    // Every $ref points at a defined schema or response.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/").skip(1) {
        let target = part.split('"').next().unwrap();
        let (kind, name) = target.split_once('/').unwrap();
        assert!(doc["components"][kind][name].is_object(), "dangling $ref {target}");
    }
}
