//! An uploaded SVG logo, parsed and written anew by usvg (already compiled in through
//! Typst): what comes out holds only shapes, gradients and embedded pictures — no script,
//! event handler, link, foreign object or outside reference can survive a rewrite, however
//! it was spelt in the upload (entities, `javascript&#x3a;`, odd case).

use std::sync::Arc;

/// Largest SVG text usvg is asked to read; logos are far smaller.
pub const MAX_SVG_BYTES: usize = 1024 * 1024;

/// The logo rewritten as plain SVG, or why it cannot be one (Indonesian, for the form).
pub fn clean_svg(bytes: &[u8]) -> Result<Vec<u8>, String> {
    if bytes.len() > MAX_SVG_BYTES {
        return Err("Logo SVG terlalu besar; paling besar 1024 KB.".into());
    }
    // Text in a logo becomes outlines of the letters' own fonts, not whatever the server has.
    let mut fonts = usvg::fontdb::Database::new();
    for (_, data) in super::fonts::FONT_FILES {
        fonts.load_font_data(data.to_vec());
    }
    // The generic families a logo names map onto the embedded ones.
    fonts.set_sans_serif_family("Liberation Sans");
    fonts.set_serif_family("TeX Gyre Bonum");
    let options = usvg::Options {
        // Pictures only from data: URLs inside the file; a path or address is never opened.
        image_href_resolver: usvg::ImageHrefResolver {
            resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
            resolve_string: Box::new(|_, _| None),
        },
        fontdb: Arc::new(fonts),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_data(bytes, &options)
        .map_err(|e| format!("Logo SVG tidak dapat dibaca ({e}); simpan ulang sebagai SVG biasa atau PNG."))?;
    if !tree.root().has_children() {
        return Err("Logo SVG tidak memuat gambar apa pun.".into());
    }
    Ok(tree.to_string(&usvg::WriteOptions::default()).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(svg: &str) -> String {
        String::from_utf8(clean_svg(svg.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn scripts_handlers_and_links_do_not_survive_however_spelt() {
        let hostile = [
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)"><rect width="10" height="10"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><a xlink:href="javascript&#x3a;alert(1)"><rect width="10" height="10"/></a></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><foreignObject width="10" height="10"><iframe xmlns="http://www.w3.org/1999/xhtml" src="https://x.example"/></foreignObject><rect width="10" height="10"/></svg>"#,
            r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image width="10" height="10" xlink:href="/etc/hostname"/><rect width="10" height="10"/></svg>"#,
            r#"<SVG xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" ONCLICK="alert(1)"/></SVG>"#,
        ];
        for svg in hostile {
            match clean_svg(svg.as_bytes()) {
                Ok(bytes) => {
                    let out = String::from_utf8(bytes).unwrap().to_ascii_lowercase();
                    for gone in [
                        "script",
                        "onload",
                        "onclick",
                        "javascript",
                        "foreignobject",
                        "iframe",
                        "etc/hostname",
                        "<a ",
                    ] {
                        assert!(!out.contains(gone), "{gone} survived in {out}");
                    }
                }
                Err(message) => assert!(message.contains("Logo SVG"), "{message}"),
            }
        }
    }

    #[test]
    fn an_ordinary_logo_keeps_its_shapes() {
        let out = cleaned(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 120"><path d="M10 10 L90 10 L50 110 Z" fill="#1a5c2e"/><circle cx="50" cy="40" r="12" fill="gold"/></svg>"##,
        );
        assert!(out.contains("<path"), "{out}");
        assert!(out.contains("#1a5c2e") || out.contains("#1A5C2E"), "{out}");
        assert!(cleaned(&out).contains("<path"), "a rewrite reads back");
    }

    #[test]
    fn text_in_a_logo_becomes_outlines_of_the_embedded_fonts() {
        let out = cleaned(
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 40"><text x="4" y="30" font-family="sans-serif" font-size="24">DINAS</text></svg>"#,
        );
        assert!(out.contains("<path"), "the letters are drawn: {out}");
        assert!(!out.contains("<text"), "{out}");
    }

    #[test]
    fn entities_and_nonsense_are_refused_with_a_message() {
        let mut entities = String::from(r#"<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a0 "aaaaaaaaaa">"#);
        for level in 1..10 {
            let previous = format!("&a{};", level - 1).repeat(10);
            entities.push_str(&format!(r#"<!ENTITY a{level} "{previous}">"#));
        }
        entities.push_str(r#"]><svg xmlns="http://www.w3.org/2000/svg"><text>&a9;</text></svg>"#);
        assert!(clean_svg(entities.as_bytes()).is_err(), "a billion laughs is not expanded");
        assert!(clean_svg(b"<svg").is_err());
        assert!(
            clean_svg(br#"<svg xmlns="http://www.w3.org/2000/svg"/>"#).is_err(),
            "nothing to draw"
        );
    }
}
