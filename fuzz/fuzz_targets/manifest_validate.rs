//! A draft's data checked against every real template's manifest (the letters' forms
//! and the JSON API send it): the input is read as JSON, and inputs that are not JSON
//! are skipped.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use naskah_render::letters::{FieldType, Manifest, with_defaults};
use serde_json::Value;

static MANIFESTS: LazyLock<Vec<Manifest>> = LazyLock::new(|| {
    [
        (
            "sk-penerima-bantuan-iuran",
            include_str!("../../letter_templates/sk-penerima-bantuan-iuran/manifest.toml"),
        ),
        ("surat-dinas", include_str!("../../letter_templates/surat-dinas/manifest.toml")),
        (
            "surat-konfirmasi-desa",
            include_str!("../../letter_templates/surat-konfirmasi-desa/manifest.toml"),
        ),
        (
            "surat-permintaan-data",
            include_str!("../../letter_templates/surat-permintaan-data/manifest.toml"),
        ),
    ]
    .into_iter()
    .map(|(id, text)| Manifest::parse(id, text).unwrap_or_else(|e| panic!("manifest {id}: {e}")))
    .collect()
});

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    for manifest in MANIFESTS.iter() {
        if let Ok(normalised) = manifest.validate(&value) {
            // What validation returns is accepted again as it is.
            assert!(
                manifest.validate(&normalised).is_ok(),
                "{}: normalised data refused: {normalised}",
                manifest.id
            );
        }
        let _ = with_defaults(manifest, &value);
        for field in manifest.fields.iter().filter(|f| f.kind == FieldType::Rows) {
            // Each row of the input's table (or the input itself) as one row.
            let rows: Vec<&Value> = match value.get(&field.name) {
                Some(Value::Array(rows)) => rows.iter().collect(),
                _ => vec![&value],
            };
            for row in rows {
                if let Some(row) = row.as_object() {
                    let _ = field.check_row(row);
                }
            }
        }
    }
});
