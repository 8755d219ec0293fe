#!/usr/bin/env python3
"""Hostile import files, uploaded to a running naskah as a user who imports, with the
server's peak memory (VmHWM) and each answer's time measured from outside.

    python3 benches/import_bombs.py http://127.0.0.1:8080 <server pid> [username] [password]

Writes the files to a temporary folder; prints one line per file and a JSON summary.
"""
import io, json, os, re, sys, tempfile, time, urllib.parse, urllib.request, http.cookiejar, zipfile, zlib

TYPES = '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
RELS = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
BOOK = '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
BOOK_RELS = '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
HEAD = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
TAIL = '</sheetData></worksheet>'


def inline(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def workbook(rows_iter, shared=None):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, text in [("[Content_Types].xml", TYPES), ("_rels/.rels", RELS), ("xl/workbook.xml", BOOK), ("xl/_rels/workbook.xml.rels", BOOK_RELS)]:
            z.writestr(name, text)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(HEAD.encode())
            for chunk in rows_iter:
                sheet.write(chunk)
            sheet.write(TAIL.encode())
        if shared is not None:
            with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                for chunk in shared:
                    part.write(chunk)
    return out.getvalue()


def header():
    yield f'<row r="1">{inline("A1", "NIK")}{inline("B1", "Nama")}</row>'.encode()


def sheet_bomb():
    # 2 GiB of rows with one cell each.
    yield from header()
    row = b'<row><c t="inlineStr"><is><t>6409014205668780</t></is></c></row>'
    block = row * (1 << 20 // len(row) + 1)
    written = 0
    while written < 2 << 30:
        yield block
        written += len(block)


def shared_bomb():
    yield b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>'
    block = b"x" * (1 << 20)
    for _ in range(512):
        yield block
    yield b"</t></si></sst>"


def files():
    yield "XLSX, lembar mengembang 2 GiB", "bom-lembar.xlsx", workbook(sheet_bomb())
    rows = [f'<row r="1">{inline("A1", "NIK")}</row><row r="2"><c r="B2" t="s"><v>0</v></c></row>'.encode()]
    yield "XLSX, satu string bersama 512 MiB", "bom-string.xlsx", workbook(iter(rows), shared_bomb())
    far = [f'<row r="1">{inline("A1", "NIK")}</row><row r="200000000">{inline("A200000000", "x")}</row>'.encode()]
    yield "XLSX, satu sel di baris 200.000.000", "bom-baris.xlsx", workbook(iter(far))

    def wide():
        yield from header()
        for r in range(2, 20_002):
            yield f'<row r="{r}">{inline(f"A{r}", "6409014205668780")}{inline(f"XFD{r}", "x")}</row>'.encode()
    yield "XLSX, 20.000 baris dengan sel di kolom XFD", "bom-kolom.xlsx", workbook(wide())
    text = ("k," * 1_000_000 + "\n").encode()
    text += ("1," * (int(9.9 * 1024 * 1024 - len(text)) // 2)).encode()
    yield "CSV 9,9 MB, 1.000.000 kolom", "bom-kolom.csv", text
    yield "CSV, 1.048.577 baris data", "bom-baris.csv", b"NIK\n" + b"6409014205668780\n" * 1_048_577
    # Not an attack: an ordinary export near the upload limit (the test P3KE rows over
    # and over, each NIK made unique), checked like any other.
    sample = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "candidates", "p3ke.csv")
    lines = open(sample, encoding="utf-8").read().splitlines()
    head, rows = lines[0], lines[1:]
    out, size, i = [head], len(head), 0
    while size < 30 * 1024 * 1024:
        cells = rows[i % len(rows)].split(",")
        cells[10] = cells[10][:12] + f"{(i // len(rows)) % 10000:04d}"
        line = ",".join(cells)
        out.append(line)
        size += len(line) + 1
        i += 1
    yield f"CSV biasa 30 MB, {i:,} baris (bukan serangan)".replace(",", "."), "p3ke-besar.csv", ("\n".join(out) + "\n").encode()


def peak_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    base, pid = sys.argv[1], int(sys.argv[2])
    username = sys.argv[3] if len(sys.argv) > 3 else "konseptor"
    password = sys.argv[4] if len(sys.argv) > 4 else os.environ.get("NASKAH_DEMO_PASSWORD", "")
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/masuk").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    opener.open(base + "/masuk", urllib.parse.urlencode({"username": username, "password": password, "csrf": csrf}).encode())
    page = opener.open(base + "/calon/impor").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    results = []
    for label, name, data in files():
        boundary = "naskahbomb"
        body = b"".join([
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="sumber"\r\n\r\np3ke\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="berkas"; filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode(),
            data, f"\r\n--{boundary}--\r\n".encode(),
        ])
        request = urllib.request.Request(base + "/calon/impor", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        start = time.monotonic()
        try:
            answer = opener.open(request, timeout=600)
            status, text = answer.status, answer.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode(errors="replace")
        seconds = time.monotonic() - start
        message = re.search(r'(Berkas tidak dapat dibaca[^<]*)', text)
        results.append({"file": label, "bytes": len(data), "status": status, "seconds": round(seconds, 2),
                        "peak_mib_so_far": peak_kib(pid) // 1024, "message": message.group(1) if message else ""})
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    print(json.dumps({"peak_mib": peak_kib(pid) // 1024, "results": results}, ensure_ascii=False))


if __name__ == "__main__":
    main()
