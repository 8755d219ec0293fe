//! Long documents in parts: each part is compiled on its own, in parallel, with Typst's
//! caches aged after each (what neither part has used lately is dropped) and dropped
//! entirely once the document is written, and their pages are joined into one PDF.
//!
//! A 10,000-row table in one compile costs Typst about 0.45 ms and 100 KiB per row, all
//! held until the end (about 5 s and 1 GiB). In parts of a few hundred rows the memory is
//! that of two parts in flight plus the finished pages, and both cores work. The parts
//! cannot know the final page count, so they are compiled without page furniture
//! (background and footer), and one more job draws the furniture of all pages ("Halaman
//! x dari y") once the count is known; its page i is laid under page i of the parts.
//!
//! The joined PDF is not tagged: the parts' tags would not form one structure tree (each
//! part's locations are only unique within that part), and for a list this long the tags
//! are most of the file (15 MB instead of 1.3 MB for 10,000 rows).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use typst::diag::Warned;
use typst::layout::{Frame, FrameItem, Point};
use typst_layout::{Page, PagedDocument};

use super::world::JobWorld;
use super::{Cache, RenderError, RenderJob, Rendered, RenderedPng, Renderer, Tagged, check_scale, guarded, pdf, png, template_error};

/// A part's pages once it is compiled.
type Slot = Mutex<Option<Result<Vec<Page>, RenderError>>>;

impl Renderer {
    /// [`render_joined_pdf_blocking`](Self::render_joined_pdf_blocking) on the renderer's
    /// threads, after waiting for a permit (one, although the parts use `workers` threads).
    pub async fn render_joined_pdf(
        &self,
        parts: Vec<RenderJob>,
        furniture: impl FnOnce(usize) -> RenderJob + Send + 'static,
        workers: usize,
    ) -> Result<Rendered, RenderError> {
        let this = self.clone();
        self.spawn(move || this.render_joined_pdf_blocking(&parts, furniture, workers))
            .await
    }

    /// [`render_joined_png_blocking`](Self::render_joined_png_blocking) on the renderer's
    /// threads, after waiting for a permit.
    pub async fn render_joined_png(
        &self,
        parts: Vec<RenderJob>,
        furniture: impl FnOnce(usize) -> RenderJob + Send + 'static,
        workers: usize,
        page: usize,
        scale: f32,
    ) -> Result<RenderedPng, RenderError> {
        let this = self.clone();
        self.spawn(move || this.render_joined_png_blocking(&parts, furniture, workers, page, scale))
            .await
    }

    /// Renders `parts` on `workers` threads and joins their pages, in order, into one PDF
    /// (each part starts on a new page). `furniture(n)` is the job of the page furniture
    /// for a document of `n` pages: it must have exactly `n` pages of the same sizes, and
    /// its page i is drawn under page i of the parts. The PDF's metadata, identifier and
    /// date are those of the first part; the PDF is not tagged. Blocking, without a
    /// permit.
    pub fn render_joined_pdf_blocking(
        &self,
        parts: &[RenderJob],
        furniture: impl FnOnce(usize) -> RenderJob,
        workers: usize,
    ) -> Result<Rendered, RenderError> {
        self.joined(parts, furniture, workers, |world, document, first| {
            pdf(world, document, first, Tagged::No)
        })
    }

    /// Page `page` (from 0) of the joined document as PNG at `scale` pixels per point.
    /// Blocking, without a permit.
    pub fn render_joined_png_blocking(
        &self,
        parts: &[RenderJob],
        furniture: impl FnOnce(usize) -> RenderJob,
        workers: usize,
        page: usize,
        scale: f32,
    ) -> Result<RenderedPng, RenderError> {
        check_scale(scale)?;
        self.joined(parts, furniture, workers, |_, document, _| png(document, page, scale))
    }

    /// The joined PDF and page `page` as PNG, from one rendering. Blocking, without a
    /// permit.
    pub fn render_joined_pdf_and_png_blocking(
        &self,
        parts: &[RenderJob],
        furniture: impl FnOnce(usize) -> RenderJob,
        workers: usize,
        page: usize,
        scale: f32,
    ) -> Result<(Rendered, RenderedPng), RenderError> {
        check_scale(scale)?;
        self.joined(parts, furniture, workers, |world, document, first| {
            Ok((pdf(world, document, first, Tagged::No)?, png(document, page, scale)?))
        })
    }

    /// Compiles the parts, joins their pages with the furniture and hands the document
    /// (with the first part's world and job) to `then`.
    fn joined<T>(
        &self,
        parts: &[RenderJob],
        furniture: impl FnOnce(usize) -> RenderJob,
        workers: usize,
        then: impl FnOnce(&JobWorld<'_>, &PagedDocument, &RenderJob) -> Result<T, RenderError>,
    ) -> Result<T, RenderError> {
        let first = parts
            .first()
            .ok_or_else(|| RenderError::InvalidJob("dokumen bagian tanpa bagian".into()))?;
        let done: Vec<Slot> = parts.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let started = std::time::Instant::now();
        // On the renderer's threads, where Typst's own parallel work inside each part
        // shares them by work stealing (scoped threads of their own handed that work to
        // rayon's global pool, two more threads, and slept).
        self.pool.scope(|scope| {
            for _ in 0..workers.clamp(1, parts.len()) {
                scope.spawn(|_| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(job) = parts.get(i) else { break };
                        let result = self.compile(job).map(|document| {
                            document
                                .pages()
                                .iter()
                                .map(|page| {
                                    let mut page = page.clone();
                                    strip_tags(&mut page.frame);
                                    page
                                })
                                .collect()
                        });
                        if result.is_err() {
                            // Hand out no more parts; the first error is reported.
                            next.store(parts.len(), Ordering::Relaxed);
                        }
                        *done[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
                    }
                });
            }
        });
        let mut pages: Vec<Page> = Vec::new();
        for slot in done {
            let part = slot
                .into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .ok_or_else(|| RenderError::Internal("a part was not rendered".into()))??;
            pages.extend(part);
        }

        let parts_done = started.elapsed();
        let furniture_job = furniture(pages.len());
        let mut under = self.compile(&furniture_job)?;
        if under.pages().len() != pages.len() {
            return Err(RenderError::Internal(format!(
                "page furniture has {} pages for a document of {}",
                under.pages().len(),
                pages.len()
            )));
        }
        let info = under.info_mut().clone();
        for (page, below) in pages.iter_mut().zip(under.pages()) {
            let mut frame = below.frame.clone();
            strip_tags(&mut frame);
            frame.push_frame(Point::zero(), std::mem::take(&mut page.frame));
            page.frame = frame;
            page.number = below.number;
        }
        drop(under);

        let furniture_done = started.elapsed();
        let document = PagedDocument::new(pages.into_iter().collect(), info);
        let world = self.world(first)?;
        let output = guarded(&first.main, Cache::DropAll, || then(&world, &document, first));
        tracing::debug!(
            template = %first.main,
            parts = parts.len(),
            parts_ms = parts_done.as_millis() as u64,
            furniture_ms = (furniture_done - parts_done).as_millis() as u64,
            output_ms = (started.elapsed() - furniture_done).as_millis() as u64,
            "rendered in parts"
        );
        output
    }

    /// Compiles one job to its pages; Typst's caches are aged afterwards (dropping them
    /// all would also drop the work of the part compiling beside this one: a quarter of
    /// a 10,000-row decree's instructions went to evicting and redoing it).
    fn compile(&self, job: &RenderJob) -> Result<PagedDocument, RenderError> {
        let world = self.world(job)?;
        guarded(&job.main, Cache::AgeOut, || {
            let Warned { output, .. } = typst::compile::<PagedDocument>(&world);
            output.map_err(|errors| template_error(&world, &errors))
        })
    }
}

/// Removes the introspection tags from a frame and its groups.
fn strip_tags(frame: &mut Frame) {
    frame.retain(|item| match item {
        FrameItem::Tag(_) => false,
        FrameItem::Group(group) => {
            strip_tags(&mut group.frame);
            true
        }
        _ => true,
    });
}

/// Pages of a PDF we rendered, by counting its page objects (`/Type /Page`, with or
/// without the space Typst leaves out; `/Pages` is the tree, not a page).
pub fn page_count(pdf: &[u8]) -> usize {
    let mut count = 0;
    let mut rest = pdf;
    while let Some(at) = rest.windows(5).position(|w| w == b"/Type") {
        let after = &rest[at + 5..];
        let skipped = after.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let value = &after[skipped..];
        if value.starts_with(b"/Page") && !value.get(5).is_some_and(|b| b.is_ascii_alphanumeric()) {
            count += 1;
        }
        rest = after;
    }
    count.max(1)
}

#[cfg(test)]
mod page_count_tests {
    use super::page_count;

    #[test]
    fn pages_are_counted_with_or_without_the_space() {
        assert_eq!(
            page_count(b"<</Type/Pages/Kids[1 0 R 2 0 R]>> <</Type/Page>> <</Type /Page /Parent 3 0 R>>"),
            2
        );
        assert_eq!(page_count(b"<</Type/Catalog>>"), 1);
    }
}
