//! Long decrees in parts. The SK's attachment can list tens of thousands of people; one
//! Typst compile of a 10,000-row table takes seconds and about 1 GiB. Above
//! [`PART_THRESHOLD`] rows the decree is rendered instead as parts that
//! [`Renderer::render_joined_pdf_blocking`] compiles in parallel and joins: the decree
//! itself, then one part per desa/kelurahan (a very large one split further), each
//! starting on a new page, and the page furniture (watermark and "Halaman x dari y")
//! drawn once the page count is known. The template learns which part it is from
//! `data.potongan` (see `letter_templates/sk-penerima-bantuan-iuran/template.typ`).

use serde_json::{Value, json};

use crate::rendering::{RenderError, RenderJob, Rendered, RenderedPng, Renderer};

/// Templates that can be rendered in parts, with the field holding their long list.
const PARTED: &[(&str, &str)] = &[("/sk-penerima-bantuan-iuran/template.typ", "penerima")];

/// Rows above which a decree is rendered in parts.
pub const PART_THRESHOLD: usize = 2_000;

/// Rows a part gathers before it is closed: whole desa are added until it has at least
/// this many. Fewer, larger parts spend less time starting compiles; smaller ones keep
/// both cores busy to the end and memory low.
pub const PART_ROWS: usize = 400;

/// Rows of one part at most (a desa with more is split).
pub const MAX_PART_ROWS: usize = 1_000;

/// A decree cut into parts.
#[derive(Debug, Clone)]
pub struct Parts {
    /// The decree, then the attachment's stretches, in page order.
    pub parts: Vec<RenderJob>,
    /// The page furniture (watermark, "Halaman x dari y"), drawn once the count is known.
    pub furniture: Furniture,
}

/// The job of the furniture part, without its page count.
#[derive(Debug, Clone)]
pub struct Furniture(RenderJob);

impl Furniture {
    /// The furniture job for a document of `pages` pages.
    pub fn job(&self, pages: usize) -> RenderJob {
        let mut job = self.0.clone();
        if let Some(potongan) = job.data.get_mut("potongan") {
            potongan["halaman"] = json!(pages);
        }
        job
    }
}

fn text<'a>(row: &'a Value, key: &str) -> &'a str {
    row.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Cuts `job` into parts when its template supports it and its list is longer than
/// `threshold` rows; `None` otherwise (render it whole). A part holds whole desa until
/// it has at least `part_rows` rows (a desa longer than [`MAX_PART_ROWS`] is cut).
pub fn split(job: &RenderJob, threshold: usize, part_rows: usize) -> Option<Parts> {
    let (_, field) = PARTED.iter().find(|(main, _)| *main == job.main)?;
    let rows = job.data.get("isian")?.get(*field)?.as_array()?;
    if rows.len() <= threshold {
        return None;
    }
    let total = rows.len();
    // The template's order: kecamatan, desa, name.
    let mut sorted: Vec<&Value> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        (text(a, "kecamatan"), text(a, "desa"), text(a, "nama")).cmp(&(text(b, "kecamatan"), text(b, "desa"), text(b, "nama")))
    });
    // Every part is the job without its list, plus its own rows.
    let base = RenderJob {
        data: Value::Null,
        ..job.clone()
    };
    let mut base_data = Value::Object(Default::default());
    if let Some(object) = job.data.as_object() {
        for (key, value) in object {
            if key != "isian" {
                base_data[key] = value.clone();
            }
        }
    }
    let mut isian = Value::Object(Default::default());
    if let Some(object) = job.data.get("isian").and_then(Value::as_object) {
        for (key, value) in object {
            if key != *field {
                isian[key] = value.clone();
            }
        }
    }
    base_data["isian"] = isian;
    let with = |rows: Vec<Value>, potongan: Value| {
        let mut part = base.clone();
        part.data = base_data.clone();
        part.data["isian"][*field] = Value::Array(rows);
        part.data["potongan"] = potongan;
        part
    };
    let mut parts = vec![with(Vec::new(), json!({ "jenis": "keputusan", "jumlah": total }))];
    let mut start = 0;
    let same_desa = |a: &Value, b: &Value| text(a, "kecamatan") == text(b, "kecamatan") && text(a, "desa") == text(b, "desa");
    let same_kecamatan = |a: &Value, b: &Value| text(a, "kecamatan") == text(b, "kecamatan");
    while start < sorted.len() {
        // Whole desa while the part is short of `part_rows` and the next desa fits.
        let mut end = start;
        while end < sorted.len() && end - start < part_rows.max(1) {
            let desa_len = sorted[end..].iter().take_while(|p| same_desa(p, sorted[end])).count();
            if end == start {
                end += desa_len.min(MAX_PART_ROWS);
            } else if end - start + desa_len <= MAX_PART_ROWS {
                end += desa_len;
            } else {
                break;
            }
        }
        // The first row's desa and kecamatan may have begun in an earlier part; the
        // last row's may go on in the next.
        let (first, last) = (sorted[start], sorted[end - 1]);
        let desa_start = start - sorted[..start].iter().rev().take_while(|p| same_desa(p, first)).count();
        let kec_start = start - sorted[..start].iter().rev().take_while(|p| same_kecamatan(p, first)).count();
        let desa_done = sorted.get(end).is_none_or(|p| !same_desa(p, last));
        let kec_done = sorted.get(end).is_none_or(|p| !same_kecamatan(p, last));
        parts.push(with(
            sorted[start..end].iter().map(|p| (*p).clone()).collect(),
            json!({
                "jenis": "lampiran",
                "jumlah": total,
                "awal": start == 0,
                "akhir": end == total,
                "nomor_awal": start,
                "kecamatan_baru": kec_start == start,
                "desa_baru": desa_start == start,
                "sebelumnya_di_kecamatan": start - kec_start,
                "sebelumnya_di_desa": start - desa_start,
                "kecamatan_selesai": kec_done,
                "desa_selesai": desa_done,
            }),
        ));
        start = end;
    }
    let furniture = with(Vec::new(), json!({ "jenis": "halaman", "jumlah": total, "halaman": 0 }));
    Some(Parts {
        parts,
        furniture: Furniture(furniture),
    })
}

/// How many threads a long document's parts are compiled on.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4))
}

/// Renders `job` to PDF on the renderer's threads, behind its permits: in parts
/// when it is long enough ([`split`] with [`PART_THRESHOLD`]), whole otherwise. What a
/// request handler calls for a letter or decree that may be long.
pub async fn render_pdf(renderer: &Renderer, job: RenderJob) -> Result<Rendered, RenderError> {
    match split(&job, PART_THRESHOLD, PART_ROWS) {
        Some(Parts { parts, furniture }) => {
            renderer
                .render_joined_pdf(parts, move |pages| furniture.job(pages), workers())
                .await
        }
        None => renderer.render_pdf(job).await,
    }
}

/// Page `page` (from 0) of `job` as PNG at `scale` pixels per point, like
/// [`render_pdf`]: in parts when the document is long.
pub async fn render_png(renderer: &Renderer, job: RenderJob, page: usize, scale: f32) -> Result<RenderedPng, RenderError> {
    match split(&job, PART_THRESHOLD, PART_ROWS) {
        Some(Parts { parts, furniture }) => {
            renderer
                .render_joined_png(parts, move |pages| furniture.job(pages), workers(), page, scale)
                .await
        }
        None => renderer.render_png(job, page, scale).await,
    }
}

/// [`render_pdf`] on the calling thread, without a permit.
pub fn render_pdf_blocking(renderer: &Renderer, job: &RenderJob) -> Result<Rendered, RenderError> {
    match split(job, PART_THRESHOLD, PART_ROWS) {
        Some(parts) => renderer.render_joined_pdf_blocking(&parts.parts, |pages| parts.furniture.job(pages), workers()),
        None => renderer.render_pdf_blocking(job),
    }
}

/// The PDF and page `page` as PNG from one rendering, in parts when the document is
/// long; on the calling thread, without a permit.
pub fn render_pdf_and_png_blocking(
    renderer: &Renderer,
    job: &RenderJob,
    page: usize,
    scale: f32,
) -> Result<(Rendered, RenderedPng), RenderError> {
    match split(job, PART_THRESHOLD, PART_ROWS) {
        Some(parts) => {
            renderer.render_joined_pdf_and_png_blocking(&parts.parts, |pages| parts.furniture.job(pages), workers(), page, scale)
        }
        None => renderer.render_pdf_and_png_blocking(job, page, scale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::letters;

    fn sk() -> (Renderer, RenderJob) {
        let renderer = Renderer::load(
            std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../letter_templates")),
            2,
        )
        .unwrap();
        let catalogue = letters::Catalogue::from_renderer(&renderer).unwrap();
        let manifest = catalogue.get("sk-penerima-bantuan-iuran").unwrap();
        let example: Value = serde_json::from_slice(renderer.file("/sk-penerima-bantuan-iuran/contoh.json").unwrap()).unwrap();
        // The parts depend on the list alone, not on the letterhead or the logo.
        let job = letters::draft_job(
            manifest,
            &letters::Letterhead::default(),
            None,
            &letters::with_defaults(manifest, &example),
        )
        .unwrap();
        (renderer, job)
    }

    #[test]
    fn a_long_list_is_cut_per_desa_with_running_counts() {
        let (_, job) = sk();
        let rows = job.data["isian"]["penerima"].as_array().unwrap().len();
        assert!(split(&job, rows, 1).is_none(), "not above the threshold");
        // One desa per part when a part wants a single row.
        let parts = split(&job, 10, 1).unwrap();
        // The decree, then one part per desa of the example (four desa in two kecamatan).
        assert_eq!(parts.parts.len(), 5);
        assert_eq!(parts.parts[0].data["potongan"]["jenis"], "keputusan");
        assert!(parts.parts[0].data["isian"]["penerima"].as_array().unwrap().is_empty());
        let stretches: Vec<&Value> = parts.parts[1..].iter().map(|p| &p.data["potongan"]).collect();
        let mut before = 0;
        for (i, (part, potongan)) in parts.parts[1..].iter().zip(&stretches).enumerate() {
            let n = part.data["isian"]["penerima"].as_array().unwrap().len();
            assert_eq!(potongan["jenis"], "lampiran");
            assert_eq!(potongan["nomor_awal"], before);
            assert_eq!(potongan["jumlah"], rows);
            assert_eq!(potongan["awal"], i == 0);
            assert_eq!(potongan["akhir"], i == stretches.len() - 1);
            assert_eq!(potongan["desa_baru"], true);
            assert_eq!(potongan["desa_selesai"], true);
            before += n;
        }
        assert_eq!(before, rows);
        // Kecamatan sorted by name: Babulu (one desa) first, then Penajam (three desa).
        assert_eq!(stretches[0]["kecamatan_selesai"], true);
        assert_eq!(stretches[1]["kecamatan_baru"], true);
        assert_eq!(stretches[2]["kecamatan_baru"], false);
        assert_eq!(stretches[2]["sebelumnya_di_kecamatan"], 12);
        assert_eq!(stretches[3]["kecamatan_selesai"], true);
        assert_eq!(parts.furniture.job(7).data["potongan"]["halaman"], 7);
    }

    #[test]
    fn a_desa_longer_than_a_part_is_split_with_its_counts_carried_over() {
        let (_, mut job) = sk();
        let one = job.data["isian"]["penerima"][0].clone();
        job.data["isian"]["penerima"] = Value::Array(vec![one; MAX_PART_ROWS + 5]);
        let parts = split(&job, 10, 1).unwrap();
        assert_eq!(parts.parts.len(), 3);
        let (a, b) = (&parts.parts[1].data["potongan"], &parts.parts[2].data["potongan"]);
        assert_eq!(
            (a["desa_selesai"].clone(), a["kecamatan_selesai"].clone()),
            (json!(false), json!(false))
        );
        assert_eq!((b["desa_baru"].clone(), b["kecamatan_baru"].clone()), (json!(false), json!(false)));
        assert_eq!(b["sebelumnya_di_desa"], MAX_PART_ROWS);
        assert_eq!(b["nomor_awal"], MAX_PART_ROWS);
        assert_eq!(parts.parts[2].data["isian"]["penerima"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn several_desa_share_a_part_and_their_counts_follow_the_last_row() {
        let (_, job) = sk();
        // The example: Babulu Laut (Babulu), then three desa of Penajam, 12 rows each.
        let parts = split(&job, 10, 20).unwrap();
        assert_eq!(parts.parts.len(), 3, "the decree and two parts of two desa each");
        let (a, b) = (&parts.parts[1].data["potongan"], &parts.parts[2].data["potongan"]);
        assert_eq!(parts.parts[1].data["isian"]["penerima"].as_array().unwrap().len(), 24);
        assert_eq!((a["kecamatan_baru"].clone(), a["desa_baru"].clone()), (json!(true), json!(true)));
        // Its last desa is done, but Penajam goes on in the next part.
        assert_eq!(
            (a["desa_selesai"].clone(), a["kecamatan_selesai"].clone()),
            (json!(true), json!(false))
        );
        assert_eq!((b["kecamatan_baru"].clone(), b["desa_baru"].clone()), (json!(false), json!(true)));
        assert_eq!(b["sebelumnya_di_kecamatan"], 12);
        assert_eq!(b["sebelumnya_di_desa"], 0);
        assert_eq!(
            (b["desa_selesai"].clone(), b["kecamatan_selesai"].clone()),
            (json!(true), json!(true))
        );
    }

    #[test]
    fn parts_render_to_one_pdf_with_every_page_numbered() {
        let (renderer, job) = sk();
        let whole = renderer.render_pdf_blocking(&job).unwrap();
        let whole_text = crate::rendering::tests::pdf_layout_text(&whole.pdf);
        for part_rows in [1, 20] {
            let parts = split(&job, 10, part_rows).unwrap();
            let joined = renderer
                .render_joined_pdf_blocking(&parts.parts, |n| parts.furniture.job(n), 2)
                .unwrap();
            assert!(joined.pdf.starts_with(b"%PDF-"));
            // Each part starts on a new page, so never fewer pages than in one piece.
            assert!(joined.pages >= whole.pages, "{} < {}", joined.pages, whole.pages);
            // Every subtotal and total of the whole document is there, and every page is
            // numbered out of the joined count.
            let (Some(text), Some(whole_text)) = (crate::rendering::tests::pdf_layout_text(&joined.pdf), whole_text.as_ref()) else {
                continue;
            };
            let totals = |t: &str| -> Vec<String> {
                t.lines()
                    .filter(|l| (l.contains("Jumlah ") || l.contains("JUMLAH SELURUHNYA")) && l.contains(" orang"))
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                    .collect()
            };
            assert_eq!(totals(whole_text).len(), 4 + 2 + 1, "four desa, two kecamatan, the grand total");
            assert_eq!(totals(&text), totals(whole_text), "part_rows {part_rows}");
            for page in 1..=joined.pages {
                assert!(text.contains(&format!("Halaman {page} dari {}", joined.pages)), "page {page}");
            }
        }
        let parts = split(&job, 10, 1).unwrap();
        // A furniture job with the wrong page count is refused, not drawn askew.
        let wrong = renderer.render_joined_pdf_blocking(&parts.parts, |n| parts.furniture.job(n + 1), 2);
        assert!(matches!(wrong, Err(RenderError::Internal(_))));
    }

    #[tokio::test]
    async fn a_decree_above_the_threshold_is_rendered_in_parts_through_the_async_api() {
        let (renderer, mut job) = sk();
        let rows = job.data["isian"]["penerima"].as_array().unwrap().clone();
        let many: Vec<Value> = rows.iter().cycle().take(PART_THRESHOLD + 1).cloned().collect();
        job.data["isian"]["penerima"] = Value::Array(many);
        let rendered = render_pdf(&renderer, job.clone()).await.unwrap();
        // The parts path draws no tags, so its PDF is far smaller than a tagged one would be.
        assert!(rendered.pdf.starts_with(b"%PDF-"));
        assert!(rendered.pages > 40, "{} pages", rendered.pages);
        let blocking = render_pdf_blocking(&renderer, &job).unwrap();
        assert_eq!(blocking.pages, rendered.pages);
        assert_eq!(blocking.pdf, rendered.pdf, "the same job gives the same bytes");

        // A preview of any page, the last included, comes from the same joined document.
        let last = render_png(&renderer, job.clone(), rendered.pages - 1, 0.5).await.unwrap();
        assert!(last.png.starts_with(b"\x89PNG"));
        assert_eq!(last.pages, rendered.pages);
        let beyond = render_png(&renderer, job.clone(), rendered.pages, 0.5).await;
        assert!(matches!(beyond, Err(RenderError::PageOutOfRange { .. })), "{beyond:?}");
        let (pdf, first) = render_pdf_and_png_blocking(&renderer, &job, 0, 0.5).unwrap();
        assert_eq!(pdf.pdf, rendered.pdf);
        assert_eq!(first.pages, rendered.pages);
        assert_ne!(first.png, last.png, "the first page is not the last");
    }
}
