#!/usr/bin/env python3
"""Builds NaskahFallback-Regular.ttf: one hollow box, mapped to every code point that
none of the other fonts in this folder has.

Why: Typst draws a character that no font has with glyph 0 (.notdef), and the PDF
writer leaves glyph 0 out of the text layer, so the first such character of a document
(an emoji, say) silently disappears from copy-paste, search and `pdftotext`. With this
font every character has a real glyph: what no other font draws still shows as a box,
but the PDF's text keeps the character itself.

Its coverage is the complement of the other fonts' coverage, so it never competes with
them in Typst's fallback choice. Whitespace, control and format characters (ZWJ,
variation selectors, bidi marks, ...) are left out so they stay invisible.

Run it again after adding or changing a font in this folder:

    pip install fonttools
    python3 letter_templates/fonts/make-fallback-font.py

The output is byte-identical for the same inputs.
"""

import pathlib
import unicodedata

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable

HERE = pathlib.Path(__file__).resolve().parent
OUTPUT = HERE / "NaskahFallback-Regular.ttf"
FAMILY = "Naskah Fallback"


def covered_by_other_fonts():
    covered = set()
    for path in sorted(HERE.iterdir()):
        if path.suffix.lower() in (".ttf", ".otf") and path != OUTPUT:
            font = TTFont(path, lazy=True)
            for table in font["cmap"].tables:
                if table.isUnicode():
                    covered.update(table.cmap.keys())
    return covered


def invisible(cp):
    """Characters that must not be drawn as a box."""
    if 0xD800 <= cp <= 0xDFFF:  # surrogates never occur in text
        return True
    if 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:  # variation selectors
        return True
    if 0xE0000 <= cp <= 0xE007F:  # tags
        return True
    category = unicodedata.category(chr(cp))
    return category in ("Cc", "Cf", "Zs", "Zl", "Zp")


def box_glyph():
    pen = TTGlyphPen(None)
    # Outer rectangle clockwise, inner counter-clockwise: a hollow box.
    pen.moveTo((60, -100))
    pen.lineTo((60, 700))
    pen.lineTo((540, 700))
    pen.lineTo((540, -100))
    pen.closePath()
    pen.moveTo((120, -40))
    pen.lineTo((480, -40))
    pen.lineTo((480, 640))
    pen.lineTo((120, 640))
    pen.closePath()
    return pen.glyph()


def main():
    covered = covered_by_other_fonts()
    mapping = {cp: "box" for cp in range(0x110000) if cp not in covered and not invisible(cp)}

    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "box"])
    fb.setupCharacterMap({})
    fb.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "box": box_glyph()})
    fb.setupHorizontalMetrics({".notdef": (600, 0), "box": (600, 60)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable(
        {
            "familyName": FAMILY,
            "styleName": "Regular",
            "uniqueFontIdentifier": "naskah:NaskahFallback-Regular",
            "fullName": f"{FAMILY} Regular",
            "psName": "NaskahFallback-Regular",
            "version": "Version 1.000",
            "licenseDescription": "Dedicated to the public domain (CC0 1.0).",
        }
    )
    # Sans-serif panose, regular weight.
    fb.setupOS2(sTypoAscender=800, sTypoDescender=-200, usWinAscent=800, usWinDescent=200)
    fb.font["OS/2"].panose.bFamilyType = 2
    fb.font["OS/2"].panose.bSerifStyle = 11
    fb.setupPost()
    fb.setupHead(unitsPerEm=1000, created=0, modified=0)

    # Format 13 maps whole ranges to one glyph: a few kilobytes instead of megabytes.
    subtable = CmapSubtable.newSubtable(13)
    subtable.platformID, subtable.platEncID, subtable.language = 3, 10, 0
    subtable.cmap = mapping
    fb.font["cmap"].tables = [subtable]

    fb.save(OUTPUT)
    print(f"{OUTPUT.name}: {len(mapping)} code points, {OUTPUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
