//! The fonts, embedded in the binary so that a document renders to the same bytes on any
//! machine. No system font is ever looked at.
//!
//! The files live in `letter_templates/fonts/` with their licences:
//!
//! | family | stands in for | files |
//! |---|---|---|
//! | Liberation Sans | Arial (same metrics) | regular, bold, italic, bold italic |
//! | TeX Gyre Bonum | Bookman Old Style (same metrics) | regular, bold, italic, bold italic |
//! | Noto Naskh Arabic | Arabic script (fallback) | regular |
//! | Noto Sans Javanese | Aksara Jawa (fallback) | regular |
//! | Naskah Fallback | everything else: a box | regular |
//!
//! Templates name a family with `#set text(font: "Liberation Sans")` or
//! `"TeX Gyre Bonum"`. Text in a script that family lacks falls back to any embedded font
//! that has the glyphs. What none of them has (emoji, CJK, …) takes the box of *Naskah
//! Fallback*, a font made by `make-fallback-font.py` whose coverage is the complement of
//! the others': it looks like the usual missing-glyph box, but unlike glyph 0 (which the
//! PDF writer leaves out of the text layer) it keeps the character in the PDF's text, so
//! copy-paste, search and `pdftotext` see what was typed.

use std::sync::LazyLock;

use typst::foundations::Bytes;
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;

macro_rules! font_files {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../../../letter_templates/fonts/", $name)))),*]
    };
}

/// Every embedded font file, by file name.
pub const FONT_FILES: &[(&str, &[u8])] = font_files![
    "LiberationSans-Regular.ttf",
    "LiberationSans-Bold.ttf",
    "LiberationSans-Italic.ttf",
    "LiberationSans-BoldItalic.ttf",
    "texgyrebonum-regular.otf",
    "texgyrebonum-bold.otf",
    "texgyrebonum-italic.otf",
    "texgyrebonum-bolditalic.otf",
    "NotoNaskhArabic-Regular.ttf",
    "NotoSansJavanese-Regular.ttf",
    // Last: a box for every character the others lack (see make-fallback-font.py).
    "NaskahFallback-Regular.ttf",
];

/// The parsed fonts and their book, built once per process.
pub(crate) struct Fonts {
    pub(crate) fonts: Vec<Font>,
    pub(crate) book: LazyHash<FontBook>,
}

pub(crate) static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = FONT_FILES.iter().flat_map(|(_, data)| Font::iter(Bytes::new(*data))).collect();
    let book = LazyHash::new(FontBook::from_fonts(&fonts));
    Fonts { fonts, book }
});

/// The family names of the embedded fonts, e.g. `"Liberation Sans"`, in Typst's order.
pub fn families() -> Vec<String> {
    FONTS.book.families().map(|(name, _)| name.to_string()).collect()
}
