#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz corpora: CSV registers in every encoding and
layout the reader accepts, a workbook written part by part, NIK and NIP strings,
manifest data and small PDFs. The generated seeds (signed PDFs, DER, QR tokens,
spreadsheets written by rust_xlsxwriter) come from `cargo run` in this folder.

    python3 fuzz/seedgen/text_seeds.py            # from the repository root
"""

import json
import pathlib
import zipfile
import io

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fuzz" / "corpus"
CANDIDATES = ROOT / "tests" / "data" / "candidates"


def write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    print(f"{target}/{name} ({len(data)} bytes)")


def sample_lines(name: str, count: int) -> list[str]:
    """The header, the first data lines and every line with a listed defect."""
    lines = (CANDIDATES / f"{name}.csv").read_text(encoding="utf-8").splitlines()
    defects = json.loads((CANDIDATES / "defects.json").read_text())["defects"][name.split(".")[0]]
    wanted = set(range(2, 2 + count))
    seen_kinds = set()
    for line, kind in sorted(defects.items(), key=lambda item: int(item[0])):
        if kind not in seen_kinds:
            seen_kinds.add(kind)
            wanted.add(int(line))
    return [lines[0]] + [lines[n - 1] for n in sorted(wanted) if n - 1 < len(lines)]


def csv_seeds() -> None:
    p3ke = sample_lines("p3ke", 8)
    dtks = sample_lines("dtks", 8)
    write("csv", "p3ke-sample.csv", ("\n".join(p3ke) + "\n").encode())
    write("csv", "dtks-sample.csv", ("\n".join(dtks) + "\n").encode())
    # Semicolons, a byte-order mark, CRLF and a quoted line break.
    write(
        "csv",
        "semicolon-bom-crlf.csv",
        "\ufeffNIK;Nama;Alamat\r\n6409014205668780;NUR;\"RT 012\r\nPejala\"\r\n\r\n"
        "6409011305657105;DARMAWAN;RT 3\r\n".encode(),
    )
    # UTF-16 with tabs, both byte orders.
    text = "NIK\tNama\tTanggal Lahir\r\n6409014205668780\tÉlise\t02/05/1966\r\n"
    write("csv", "utf16le-tab.csv", b"\xff\xfe" + text.encode("utf-16-le"))
    write("csv", "utf16be-tab.csv", b"\xfe\xff" + text.encode("utf-16-be"))
    # Windows-1252, pipes and old Mac line ends.
    write("csv", "windows1252.csv", "NIK,Nama\n6409014205668780,André\n".encode("cp1252"))
    write("csv", "pipes-cr.csv", b"NIK|Nama\r1|A\r2|B\r")
    # What spreadsheets do to a NIK, formulas in cells, ragged rows.
    write(
        "csv",
        "spreadsheet-damage.csv",
        b"NIK,Nama,Jenis Kelamin\n6.40901E+15,A,L\n'6409014205668780,B,P\n"
        b"6409 0142 0566 8780,=HYPERLINK(\"x\"),+1\n,,\n1,2,3,4,5\n\"unterminated,C\n",
    )


def xlsx_seed() -> None:
    """A workbook with inline strings and shared strings, stored uncompressed."""
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/sharedStrings.xml": '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>NIK</t></si><si><t xml:space="preserve"> Nama </t></si></sst>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row><row r="3"><c r="A3" t="inlineStr"><is><t>6409014205668780</t></is></c><c r="B3" t="inlineStr"><is><t>NUR</t></is></c><c r="C3"><v>24229</v></c><c r="D3" t="b"><v>1</v></c><c r="E3" t="e"><v>#N/A</v></c></row><row r="5"><c r="A5"><v>6409011305657105</v></c><c r="IV5" t="str"><v>far</v></c></row></sheetData></worksheet>',
    }
    for name, compression in (("handmade-stored.xlsx", zipfile.ZIP_STORED), ("handmade-deflated.xlsx", zipfile.ZIP_DEFLATED)):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression) as archive:
            for part, text in parts.items():
                info = zipfile.ZipInfo(part, date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = compression
                archive.writestr(info, text)
        write("xlsx", name, buffer.getvalue())


def nik_nip_seeds() -> None:
    seeds = {
        "nik-valid-female.txt": "6409014205668780",
        "nik-valid-male.txt": "6409011305657105",
        "nik-apostrophe-spaces.txt": " '6409 0142 0566 8780 ",
        "nik-scientific.txt": "6.40901E+15",
        "nik-bad-day.txt": "6409013202660001",
        "nik-serial-0000.txt": "6409014205660000",
        "nik-unknown-region.txt": "9999014205668780",
        "nik-letters.txt": "64090142O5668780",
        "nik-29-february.txt": "6409012902010001",
        "nip-valid.txt": "19700512 199803 1 004",
        "nip-pppk.txt": "198501012023211001",
        "nip-bad-month.txt": "197005121998131004",
        "nip-short.txt": "1970051219980310",
    }
    for name, text in seeds.items():
        write("nik_nip", name, text.encode())


def manifest_seeds() -> None:
    for folder in sorted((ROOT / "letter_templates").iterdir()):
        example = folder / "contoh.json"
        if example.exists():
            write("manifest_validate", f"{folder.name}.json", example.read_bytes())
    write(
        "manifest_validate",
        "edge-values.json",
        json.dumps(
            {
                "hal": " Undangan\u202e ",
                "tanggal": "2026-02-29",
                "penerima": ["Camat Penajam", {"nama": "", "alamat": 3}],
                "jumlah": "Rp 1.000.000,00",
                "baris": [{"nik": "6409014205668780", "nama": "NUR"}, 7],
            }
        ).encode(),
    )


def pdf_seeds() -> None:
    """Small unsigned PDFs and signature-like fragments, written by hand."""
    for target in ("pdf_inspect", "pdf_ltv"):
        pdf_fragments(target)


def pdf_fragments(target: str) -> None:
    write(
        target,
        "byte-range-fragment.pdf",
        b"%PDF-1.7\n1 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached "
        b"/ByteRange [0 120 154 40] /Contents <3003020100> /M (D:20261122101500+08'00') "
        b"/Reason <FEFF0055006A0069>>>\nendobj\n%%EOF\n",
    )
    write(
        target,
        "doc-timestamp-fragment.pdf",
        b"%PDF-1.7\n<</Type /DocTimeStamp /SubFilter /ETSI.RFC3161 /ByteRange [0 95 105 12] "
        b"/Contents <300302010>>>trailer\n%%EOF\n",
    )


if __name__ == "__main__":
    csv_seeds()
    xlsx_seed()
    nik_nip_seeds()
    manifest_seeds()
    pdf_seeds()
