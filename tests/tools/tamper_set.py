"""Makes the tampered copies of a signed letter that tests/it/tamper.rs judges three
ways (the public page, `naskah verify --offline`, pyHanko). The incremental updates
are written with pyHanko's own writer, as a real editor or attacker would append them.

usage: tamper_set.py SIGNED.pdf OUT_DIR
Writes OUT_DIR/<name>.pdf for every case and prints their names as JSON.
"""

import io
import json
import re
import sys

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter


def byte_flip(data: bytes) -> bytes:
    # A byte of the first page's content stream, well inside the signed range.
    at = data.index(b"stream\n") + 7 + 20
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def media_box(data: bytes) -> bytes:
    match = re.search(rb"/MediaBox\s*\[\s*[-\d.]+\s+[-\d.]+\s+(\d+)", data)
    start, end = match.span(1)
    digits = match.group(1)
    changed = str(int(digits) + 17).encode()[: len(digits)].rjust(len(digits), b"9")
    return data[:start] + changed + data[end:]


def appended_garbage(data: bytes) -> bytes:
    return data + b"\n% nothing to see here\n" + bytes(range(256)) * 4


def writer(data: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(data), strict=False)


def finish(w: IncrementalPdfFileWriter) -> bytes:
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def draw_over_page(data: bytes) -> bytes:
    """A white box over the lower half of the last page (the signature block and the
    signer's name), added as a second content stream of that page."""
    w = writer(data)
    pages = w.root["/Pages"]
    last = int(pages["/Count"]) - 1
    box = generic.StreamObject(stream_data=b"q 1 1 1 rg 60 80 500 330 re f Q\n")
    w.add_stream_to_page(last, w.add_object(box))
    return finish(w)


def unsigned_annotation(data: bytes) -> bytes:
    """A second, unsigned revision adding a visible text annotation to the first page,
    as a PDF editor does when someone writes on the letter."""
    w = writer(data)
    page_ref = w.root["/Pages"]["/Kids"][0]
    page = page_ref.get_object()
    annot = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Annot"),
            generic.NameObject("/Subtype"): generic.NameObject("/FreeText"),
            generic.NameObject("/Rect"): generic.ArrayObject([generic.FloatObject(v) for v in (300, 700, 560, 740)]),
            generic.NameObject("/Contents"): generic.TextStringObject("SUDAH DISETUJUI"),
            generic.NameObject("/DA"): generic.pdf_string("/Helv 14 Tf 0 g"),
        }
    )
    annots = page.get("/Annots")
    annots = generic.ArrayObject(list(annots.get_object()) if annots is not None else [])
    annots.append(w.add_object(annot))
    page[generic.NameObject("/Annots")] = annots
    w.update_container(page)
    return finish(w)


def validation_data(data: bytes) -> bytes:
    """A revision adding a DSS with the signer's certificates, as B-LT augmentation does."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    signature = reader.embedded_signatures[0]
    certs = list(signature.signed_data["certificates"])
    w = writer(data)
    DocumentSecurityStore.supply_dss_in_writer(
        w, signature.pkcs7_content, certs=[c.chosen for c in certs], ocsps=(), crls=()
    )
    return finish(w)


CASES = {
    "byte-flip": byte_flip,
    "mediabox": media_box,
    "appended-garbage": appended_garbage,
    "draw-over-page": draw_over_page,
    "unsigned-revision": unsigned_annotation,
    "dss-added": validation_data,
}


def main(source: str, out_dir: str) -> None:
    data = open(source, "rb").read()
    for name, make in CASES.items():
        with open(f"{out_dir}/{name}.pdf", "wb") as handle:
            handle.write(make(data))
    print(json.dumps(sorted(CASES)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
