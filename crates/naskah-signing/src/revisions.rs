//! What was added to a signed PDF after its signed revision, judged as PAdES practice
//! and pyHanko do: incremental updates that only add signatures, document timestamps
//! and validation data (a DSS) keep the signature valid; anything that changes what
//! the pages show (content, resources, page boxes, annotations, form values) does not.
//!
//! Both revisions are read with `lopdf` (classic and stream cross-references, object
//! streams) and compared object by object, so the judgement rests on what a reader
//! resolves, not on how the bytes are arranged.

use lopdf::{Dictionary, Document, Object, ObjectId};

/// A change that makes the file something other than the signed document, in
/// Indonesian for the verification page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Modification(pub String);

/// What an allowed update added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Addition {
    Signature,
    DocumentTimestamp,
    ValidationData,
}

/// Keys of the catalog an update may change: validation data, the signature form and
/// the extension markers a signature brings.
const CATALOG_KEYS: &[&[u8]] = &[b"DSS", b"AcroForm", b"Extensions", b"Version"];
const ACROFORM_KEYS: &[&[u8]] = &[b"Fields", b"SigFlags"];

/// Judges the bytes of `pdf` after `signed_end` (the end of the signed revision).
/// Returns what the updates added, or the first change that is not allowed.
pub fn judge(pdf: &[u8], signed_end: usize) -> Result<Vec<Addition>, Modification> {
    let Some(rest) = pdf.get(signed_end..) else {
        return Err(Modification("rentang tanda tangan melampaui berkas".into()));
    };
    if rest.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let unreadable = |_| Modification("ada tambahan pada berkas setelah ditandatangani yang tidak dapat dibaca sebagai PDF".into());
    let before = Document::load_mem(&pdf[..signed_end]).map_err(unreadable)?;
    let after = Document::load_mem(pdf).map_err(unreadable)?;
    // An update ends with its own cross-reference and %%EOF; bytes after the last
    // %%EOF, or appended without a cross-reference, are not an update at all.
    let trimmed = rest.trim_ascii_end();
    if !trimmed.ends_with(b"%%EOF") || !rest.windows(9).any(|w| w == b"startxref") {
        return Err(Modification("ada data tambahan di akhir berkas setelah ditandatangani".into()));
    }
    let root = |d: &Document| d.trailer.get(b"Root").and_then(Object::as_reference).ok();
    if root(&before) != root(&after) || after.trailer.get(b"Encrypt").is_ok() {
        return Err(Modification("katalog dokumen diganti setelah ditandatangani".into()));
    }
    let root = root(&after).ok_or_else(|| Modification("katalog dokumen tidak ditemukan".into()))?;
    let mut additions = Vec::new();
    for (id, old) in &before.objects {
        if !after.objects.contains_key(id) && !matches!(old, Object::Null) {
            return Err(Modification(format!("objek {} dihapus setelah ditandatangani", id.0)));
        }
    }
    for (id, new) in &after.objects {
        let Some(old) = before.objects.get(id) else {
            continue; // New objects matter only through what refers to them, judged below.
        };
        if old == new {
            continue;
        }
        let judged = if *id == root {
            catalog_change(&before, &after, old, new, &mut additions)
        } else if is_type(&before, old, b"Page") {
            page_change(&before, &after, old, new, &mut additions)
        } else if is_acroform(&before, *id, root) {
            acroform_change(&before, &after, old, new, &mut additions)
        } else if is_type(&before, old, b"DSS") {
            dss(&after, new, &mut additions)
        } else if is_metadata(&before, *id, root) {
            // The document information and the XMP metadata: writers stamp their name
            // and the modification date into them at every update (pyHanko does);
            // nothing of them is on a page.
            Ok(())
        } else {
            Err(Modification(format!(
                "isi naskah ({}) diubah setelah ditandatangani",
                describe(&before, old)
            )))
        };
        judged?;
    }
    additions.sort_by_key(|a| *a as u8);
    additions.dedup();
    Ok(additions)
}

fn dictionary<'a>(doc: &'a Document, object: &'a Object) -> Option<&'a Dictionary> {
    match object {
        Object::Dictionary(d) => Some(d),
        Object::Stream(s) => Some(&s.dict),
        Object::Reference(id) => doc.objects.get(id).and_then(|o| match o {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }),
        _ => None,
    }
}

/// The array under `key`, written in place or as a reference; empty when absent.
fn array(doc: &Document, d: &Dictionary, key: &[u8]) -> Vec<Object> {
    d.get(key)
        .ok()
        .and_then(|a| match a {
            Object::Reference(id) => doc.objects.get(id).and_then(|o| o.as_array().ok()).cloned(),
            other => other.as_array().ok().cloned(),
        })
        .unwrap_or_default()
}

fn name_of<'a>(d: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    d.get(key).ok().and_then(|o| o.as_name().ok())
}

fn is_type(doc: &Document, object: &Object, wanted: &[u8]) -> bool {
    dictionary(doc, object).and_then(|d| name_of(d, b"Type")) == Some(wanted)
}

fn is_acroform(doc: &Document, id: ObjectId, root: ObjectId) -> bool {
    let catalog = doc.objects.get(&root).and_then(|c| dictionary(doc, c));
    catalog.and_then(|c| c.get(b"AcroForm").ok()).and_then(|a| a.as_reference().ok()) == Some(id)
}

fn is_metadata(doc: &Document, id: ObjectId, root: ObjectId) -> bool {
    let info = doc.trailer.get(b"Info").and_then(Object::as_reference).ok();
    let catalog = doc.objects.get(&root).and_then(|c| dictionary(doc, c));
    let xmp = catalog.and_then(|c| c.get(b"Metadata").ok()).and_then(|m| m.as_reference().ok());
    info == Some(id) || xmp == Some(id)
}

fn describe(doc: &Document, object: &Object) -> String {
    match dictionary(doc, object) {
        Some(d) => match (name_of(d, b"Type"), name_of(d, b"Subtype")) {
            (Some(t), _) => format!("objek {}", String::from_utf8_lossy(t)),
            (None, Some(s)) => format!("objek {}", String::from_utf8_lossy(s)),
            (None, None) if matches!(object, Object::Stream(_)) => "isi halaman atau gambar".into(),
            (None, None) => "objek".into(),
        },
        None => "nilai".into(),
    }
}

/// Keys whose value differs between two dictionaries (present in either).
fn changed_keys(old: &Dictionary, new: &Dictionary) -> Vec<Vec<u8>> {
    let mut keys: Vec<Vec<u8>> = old.iter().chain(new.iter()).map(|(k, _)| k.clone()).collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| old.get(k).ok() != new.get(k).ok());
    keys
}

fn only(keys: &[Vec<u8>], allowed: &[&[u8]], what: &str) -> Result<(), Modification> {
    match keys.iter().find(|k| !allowed.contains(&k.as_slice())) {
        Some(key) => Err(Modification(format!(
            "{what} diubah setelah ditandatangani (/{})",
            String::from_utf8_lossy(key)
        ))),
        None => Ok(()),
    }
}

fn catalog_change(
    before: &Document,
    after: &Document,
    old: &Object,
    new: &Object,
    additions: &mut Vec<Addition>,
) -> Result<(), Modification> {
    let (Some(old), Some(new)) = (dictionary(before, old), dictionary(after, new)) else {
        return Err(Modification("katalog dokumen rusak".into()));
    };
    let keys = changed_keys(old, new);
    only(&keys, CATALOG_KEYS, "katalog dokumen")?;
    if keys.iter().any(|k| k == b"DSS") {
        let dss_object = new.get(b"DSS").map_err(|_| Modification("data validasi (DSS) dihapus".into()))?;
        dss(after, dss_object, additions)?;
    }
    if keys.iter().any(|k| k == b"AcroForm") {
        let old_form = old.get(b"AcroForm").ok().and_then(|f| dictionary(before, f));
        let new_form = new
            .get(b"AcroForm")
            .ok()
            .and_then(|f| dictionary(after, f))
            .ok_or_else(|| Modification("formulir dokumen dihapus".into()))?;
        form_fields(before, after, old_form, new_form, additions)?;
    }
    Ok(())
}

fn acroform_change(
    before: &Document,
    after: &Document,
    old: &Object,
    new: &Object,
    additions: &mut Vec<Addition>,
) -> Result<(), Modification> {
    let new = dictionary(after, new).ok_or_else(|| Modification("formulir dokumen rusak".into()))?;
    form_fields(before, after, dictionary(before, old), new, additions)
}

/// A form may only gain signature fields; its other settings stay.
fn form_fields(
    before: &Document,
    after: &Document,
    old: Option<&Dictionary>,
    new: &Dictionary,
    additions: &mut Vec<Addition>,
) -> Result<(), Modification> {
    let empty = Dictionary::new();
    let old = old.unwrap_or(&empty);
    only(&changed_keys(old, new), ACROFORM_KEYS, "formulir dokumen")?;
    let (old_fields, new_fields) = (array(before, old, b"Fields"), array(after, new, b"Fields"));
    if old_fields.iter().any(|f| !new_fields.contains(f)) {
        return Err(Modification("kolom formulir dihapus setelah ditandatangani".into()));
    }
    for field in new_fields.iter().filter(|f| !old_fields.contains(f)) {
        additions.push(signature_field(after, field)?);
    }
    Ok(())
}

/// A new field must be an invisible signature field holding a signature or a document
/// timestamp: a visible one would paint over the page.
fn signature_field(doc: &Document, field: &Object) -> Result<Addition, Modification> {
    let d = dictionary(doc, field).ok_or_else(|| Modification("kolom formulir baru tidak terbaca".into()))?;
    if name_of(d, b"FT") != Some(b"Sig") {
        return Err(Modification("kolom formulir baru yang bukan tanda tangan ditambahkan".into()));
    }
    // The field is its own widget, or has widgets as kids.
    match d.get(b"Kids").ok().and_then(|k| k.as_array().ok()) {
        Some(kids) => {
            for kid in kids {
                let widget = dictionary(doc, kid).ok_or_else(|| Modification("anotasi baru tidak terbaca".into()))?;
                invisible(doc, widget)?;
            }
        }
        None => invisible(doc, d)?,
    }
    let kind = d.get(b"V").ok().and_then(|v| dictionary(doc, v)).and_then(|v| name_of(v, b"Type"));
    match kind {
        Some(b"DocTimeStamp") => Ok(Addition::DocumentTimestamp),
        Some(b"Sig") => Ok(Addition::Signature),
        _ => Err(Modification("kolom tanda tangan baru tanpa tanda tangan ditambahkan".into())),
    }
}

/// A widget draws nothing when its rectangle has no area or it is hidden.
fn invisible(doc: &Document, widget: &Dictionary) -> Result<(), Modification> {
    const HIDDEN: i64 = 2;
    let flags = widget.get(b"F").ok().and_then(|f| f.as_i64().ok()).unwrap_or(0);
    let rect: Vec<f32> = widget
        .get(b"Rect")
        .ok()
        .and_then(|r| match r {
            Object::Reference(id) => doc.objects.get(id).and_then(|o| o.as_array().ok()),
            other => other.as_array().ok(),
        })
        .map(|a| a.iter().filter_map(|n| n.as_float().ok()).collect())
        .unwrap_or_default();
    let empty = rect.len() == 4 && ((rect[2] - rect[0]).abs() < 0.01 || (rect[3] - rect[1]).abs() < 0.01);
    if flags & HIDDEN != 0 || empty {
        Ok(())
    } else {
        Err(Modification(
            "tampilan baru ditambahkan di atas halaman setelah ditandatangani".into(),
        ))
    }
}

/// A page may only gain the widgets of new, invisible signature fields.
fn page_change(before: &Document, after: &Document, old: &Object, new: &Object, additions: &mut Vec<Addition>) -> Result<(), Modification> {
    let (Some(old), Some(new)) = (dictionary(before, old), dictionary(after, new)) else {
        return Err(Modification("halaman rusak".into()));
    };
    only(&changed_keys(old, new), &[b"Annots"], "halaman")?;
    let (old_annots, new_annots) = (array(before, old, b"Annots"), array(after, new, b"Annots"));
    if old_annots.iter().any(|a| !new_annots.contains(a)) {
        return Err(Modification("anotasi halaman dihapus setelah ditandatangani".into()));
    }
    for annot in new_annots.iter().filter(|a| !old_annots.contains(a)) {
        let d = dictionary(after, annot).ok_or_else(|| Modification("anotasi baru tidak terbaca".into()))?;
        if name_of(d, b"Subtype") != Some(b"Widget") {
            return Err(Modification("anotasi ditambahkan pada halaman setelah ditandatangani".into()));
        }
        // A widget is its field, or a kid of it.
        let field = d.get(b"Parent").ok().cloned().unwrap_or_else(|| annot.clone());
        additions.push(signature_field(after, &field)?);
        invisible(after, d)?;
    }
    Ok(())
}

/// A DSS holds only certificates, CRLs, OCSP responses and per-signature indexes.
fn dss(doc: &Document, object: &Object, additions: &mut Vec<Addition>) -> Result<(), Modification> {
    let d = dictionary(doc, object).ok_or_else(|| Modification("data validasi (DSS) tidak terbaca".into()))?;
    only(
        &d.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
        &[b"Type", b"Certs", b"CRLs", b"OCSPs", b"VRI"],
        "data validasi (DSS)",
    )?;
    additions.push(Addition::ValidationData);
    Ok(())
}
