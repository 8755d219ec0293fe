"""The straightforward import, as a peer for `naskah-bench`: read a P3KE-layout CSV with
the csv module, apply the same row checks as naskah (NIK structure and district, date
with +40 for women, serial, sex agreement, age 18-64, empty name, duplicate in file,
known village), and write the valid rows with their source rows to SQLite with
executemany in one transaction. Prints one JSON line: seconds, valid rows, peak MiB.

usage: import_peer.py FILE.csv DISTRICTS.txt VILLAGES.txt OUT.sqlite3
"""

import csv
import datetime
import json
import resource
import sqlite3
import sys
import time


def main():
    path, districts_path, villages_path, db_path = sys.argv[1:5]
    started = time.perf_counter()
    districts = set(open(districts_path, encoding="utf-8").read().split())
    villages = set(open(villages_path, encoding="utf-8").read().split())
    today = datetime.date.today()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE TABLE candidates (id INTEGER PRIMARY KEY, nik TEXT UNIQUE, name TEXT, sex TEXT, birth_date TEXT, "
        "address TEXT, region_code TEXT, occupation TEXT, status TEXT)"
    )
    db.execute(
        "CREATE TABLE candidate_sources (id INTEGER PRIMARY KEY, nik TEXT, source TEXT, line INTEGER, "
        "source_ref TEXT, name TEXT)"
    )
    problems = []
    valid = []
    seen = {}
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        at = {name: i for i, name in enumerate(header)}
        for line, row in enumerate(reader, start=2):
            row_problems = []
            raw_name = row[at["Nama"]]
            name = " ".join(raw_name.split()).upper()
            if not name:
                row_problems.append("nama kosong")
            nik = "".join(row[at["NIK"]].strip().lstrip("'").split())
            birth_text = row[at["Tanggal Lahir"]].strip()
            try:
                birth = datetime.date.fromisoformat(birth_text)
            except ValueError:
                birth = None
                row_problems.append("tanggal lahir")
            facts = None
            if "E" in nik or "e" in nik:
                row_problems.append("notasi ilmiah")
            elif not nik.isdigit():
                row_problems.append("huruf")
            elif len(nik) != 16:
                row_problems.append("panjang")
            elif nik[:6] not in districts:
                row_problems.append("kode wilayah")
            else:
                day, month, year2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
                female = day > 40
                if female:
                    day -= 40
                if birth is not None and birth.year % 100 == year2:
                    year = birth.year
                elif 2000 + year2 <= today.year:
                    year = 2000 + year2
                else:
                    year = 1900 + year2
                try:
                    nik_birth = datetime.date(year, month, day)
                except ValueError:
                    row_problems.append("tanggal di NIK")
                    nik_birth = None
                if nik_birth is not None:
                    if nik[12:] == "0000":
                        row_problems.append("nomor urut")
                    else:
                        facts = (female, nik_birth)
                        if nik in seen:
                            row_problems.append("NIK ganda")
                        else:
                            seen[nik] = line
                        sex = row[at["Jenis Kelamin"]].strip().lower()
                        if (sex.startswith("p")) != female:
                            row_problems.append("jenis kelamin")
                        if birth is not None and birth != nik_birth:
                            row_problems.append("tanggal lahir beda")
            born = facts[1] if facts else birth
            if born is not None:
                age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
                if age < 18 or age > 64:
                    row_problems.append("umur")
            code = row[at["Kode Kemendagri"]].strip()
            if code not in villages:
                row_problems.append("desa")
            if row_problems:
                problems.append((line, row_problems))
                continue
            valid.append(
                (
                    nik,
                    name,
                    "P" if facts[0] else "L",
                    facts[1].isoformat(),
                    " ".join(row[at["Alamat"]].split()),
                    code,
                    " ".join(row[at["Pekerjaan"]].split()),
                    line,
                    row[at["ID Individu"]],
                )
            )
    with db:
        db.executemany(
            "INSERT INTO candidates (nik, name, sex, birth_date, address, region_code, occupation, status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 'kandidat') ON CONFLICT (nik) DO NOTHING",
            (v[:7] for v in valid),
        )
        db.executemany(
            "INSERT INTO candidate_sources (nik, source, line, source_ref, name) VALUES (?, 'P3KE', ?, ?, ?)",
            ((v[0], v[7], v[8], v[1]) for v in valid),
        )
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"rows": 0, "seconds": seconds, "valid": len(valid), "peak_mib": peak_mib}))


if __name__ == "__main__":
    main()
