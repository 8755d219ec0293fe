//! The JSON API through the real router: resources, errors, limits, the OpenAPI document.

use axum::http::StatusCode;
use serde_json::json;

use crate::support;

story! {
    #[tokio::test]
    async fn organisation_crud_with_clear_errors(t: support::TestDb) {
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
}

story! {
    #[tokio::test]
    async fn tokens_are_revocable(t: support::TestDb) {
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
}

story! {
    #[tokio::test]
    async fn bad_bodies_get_clear_answers(t: support::TestDb) {
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
        // axum's own refusal of a path it cannot read comes in the API's error body too.
        let not_an_id = api.get("/api/v1/units/null%2Cnull").await;
        assert_eq!(not_an_id.status, StatusCode::BAD_REQUEST);
        assert_eq!(not_an_id.json()["error"]["code"], "bad_request", "{}", not_an_id.body);
        let bad_query = api.get("/api/v1/register?year=null").await;
        assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
        assert!(bad_query.json()["error"]["message"].as_str().unwrap().contains("year"));
        let missing = api.get("/api/v1/tidak-ada").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(
            missing.json()["error"]["message"],
            "Halaman atau data yang Anda cari tidak ditemukan."
        );
    }
}

story! {
    /// Every documented operation is routed, and every routed operation is documented.
    #[tokio::test]
    async fn openapi_matches_the_routes(t: support::TestDb) {
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
}

story! {
    /// A `PUT` that names some fields changes those and leaves the rest as stored; `null`
    /// clears. Bodies of the wrong shape are refused, not read as empty drafts.
    #[tokio::test]
    async fn put_changes_only_what_it_names(test_db: support::TestDb) {
        let state = support::demo_state(&test_db).await;
        let mut api = support::api_client(&state, "agendaris").await;
        let before = api.get("/api/v1/department").await.json();
        assert!(before["region_code"].is_string(), "{before}");
        assert_ne!(before["address"], "");

        let renamed = api
            .json("PUT", "/api/v1/department", json!({ "name": "Dinas Tenaga Kerja dan Transmigrasi", "regency_name": before["regency_name"] }))
            .await;
        assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
        let after = api.get("/api/v1/department").await.json();
        assert_eq!(after["name"], "Dinas Tenaga Kerja dan Transmigrasi");
        for kept in ["region_code", "address", "email", "website", "postal_code", "city", "timezone"] {
            assert_eq!(after[kept], before[kept], "{kept} changed by a PUT that did not name it");
        }
        assert_eq!(api.get("/api/v1/regions").await.status, StatusCode::OK);

        let cleared = api.json("PUT", "/api/v1/department", json!({ "website": null })).await;
        assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
        assert_eq!(cleared.json()["website"], "");
        assert_eq!(cleared.json()["name"], "Dinas Tenaga Kerja dan Transmigrasi");

        let users = api.get("/api/v1/users").await.json();
        let signer = users.as_array().unwrap().iter().find(|u| u["username"] == "kadis").unwrap().clone();
        assert!(!signer["roles"].as_array().unwrap().is_empty());
        let path = format!("/api/v1/users/{}", signer["id"]);
        let updated = api.json("PUT", &path, json!({ "display_name": "Kepala Dinas (baru)" })).await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
        let updated = updated.json();
        assert_eq!(updated["display_name"], "Kepala Dinas (baru)");
        assert_eq!(updated["roles"], signer["roles"]);
        assert_eq!(updated["official_id"], signer["official_id"]);
        assert_eq!(updated["email"], signer["email"]);

        let not_object = api.json("PUT", &path, json!([1, 2])).await;
        assert_eq!(not_object.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", not_object.body);
        let template = api.get("/api/v1/templates").await.json()[0]["id"].as_str().unwrap().to_string();
        let number = api
            .json("POST", &format!("/api/v1/templates/{template}/validate"), json!(-126000))
            .await;
        assert_eq!(number.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", number.body);
        assert_eq!(number.json()["error"]["fields"][0]["field"], "body");
        let letter = api.json("POST", "/api/v1/letters", json!({ "template": template, "data": 5 })).await;
        assert_eq!(letter.status, StatusCode::BAD_REQUEST, "{}", letter.body);
    }
}

story! {
    /// An SVG logo is stored as usvg rewrote it: a link spelt to slip past a list of
    /// forbidden strings (`javascript&#x3a;`) does not survive, the drawing does.
    #[tokio::test]
    async fn an_svg_logo_is_stored_rewritten(t: support::TestDb) {
        let state = support::demo_state(&t).await;
        let mut api = support::api_client(&state, "agendaris").await;
        let hostile = r##"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10"><a xlink:href="javascript&#x3a;alert(1)"><rect width="10" height="10" fill="#1a5c2e"/></a><set attributeName="onmouseover" to="alert(1)"/></svg>"##;
        let put = api
            .send("PUT", "/api/v1/department/logo", Some("image/svg+xml"), hostile.as_bytes().to_vec(), &[])
            .await;
        assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.body);
        let stored = api.get("/api/v1/department/logo").await;
        assert_eq!(stored.headers["content-type"], "image/svg+xml");
        let lower = stored.body.to_ascii_lowercase();
        assert!(lower.contains("<path") || lower.contains("<rect"), "{}", stored.body);
        for gone in ["javascript", "alert", "<a ", "onmouseover"] {
            assert!(!lower.contains(gone), "{gone} survived: {}", stored.body);
        }
        let broken = api
            .send("PUT", "/api/v1/department/logo", Some("image/svg+xml"), b"<svg><g>".to_vec(), &[])
            .await;
        assert_eq!(broken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(broken.json()["error"]["fields"][0]["message"].as_str().unwrap().contains("Logo SVG"));
    }
}

/// Lists come a page at a time through the API, with the total.
#[tokio::test]
async fn lists_come_a_page_at_a_time() {
    let test_db = support::sqlite().await;
    let state = support::demo_state(&test_db).await;
    let mut konseptor = support::api_client(&state, "konseptor").await;
    let mut ids = Vec::new();
    for subject in ["Pertama", "Kedua"] {
        let created = konseptor
            .json(
                "POST",
                "/api/v1/letters",
                json!({ "template": "surat-permintaan-data", "data": crate::workflow::letter_data(subject) }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        ids.push(created.json()["letter"]["id"].as_i64().unwrap());
    }
    let id = ids[0];
    let page = konseptor.get("/api/v1/letters?per_page=1&page=2").await.json();
    assert_eq!(
        (page["total"].as_i64(), page["page"].as_i64(), page["per_page"].as_i64()),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(
        page["letters"][0]["id"].as_i64(),
        Some(id),
        "the older one on the second page: {page}"
    );
    let past = konseptor.get("/api/v1/letters?page=9").await.json();
    assert_eq!(past["letters"].as_array().map(Vec::len), Some(0));
    let inbox = konseptor.get("/api/v1/inbox?per_page=1").await.json();
    let lengths = (inbox["items"].as_array().map(Vec::len), inbox["tasks"].as_array().map(Vec::len));
    assert_eq!((lengths, inbox["total"].as_i64()), ((Some(1), Some(1)), Some(2)), "{inbox}");
    assert_eq!(konseptor.get("/api/v1/letters?page=x").await.status, StatusCode::BAD_REQUEST);
}
