#!/usr/bin/env python3
"""Thirty-two signatures at once through the API of a running naskah (demo department),
with the server's memory read from /proc: the peak before the signatures and after.

    python3 benches/concurrent_signatures.py http://127.0.0.1:8080 <server pid> <password> <passphrase> [n]
"""
import concurrent.futures, datetime, http.cookiejar, json, re, sys, urllib.parse, urllib.request

base, pid, password, passphrase = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
count = int(sys.argv[5]) if len(sys.argv) > 5 else 32


def memory():
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            fields[key] = int(value.split()[0]) // 1024
    return fields


def token(username):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/masuk").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    opener.open(base + "/masuk", urllib.parse.urlencode({"username": username, "password": password, "csrf": csrf}).encode())
    page = opener.open(base + "/akun").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    request = urllib.request.Request(base + "/api/v1/tokens", data=json.dumps({"name": "ukur"}).encode(),
                                     headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    return json.loads(opener.open(request).read())["secret"]


def api(secret, method, path, body=None):
    request = urllib.request.Request(base + "/api/v1" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=600) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


tokens = {u: token(u) for u in ["konseptor", "staf", "kabid", "sekdis", "kadis"]}
deadline = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
ids = []
for i in range(count):
    status, body = api(tokens["konseptor"], "POST", "/letters", {"template": "surat-permintaan-data", "data": {"hal": f"Ukur {i}", "batas_waktu": deadline}})
    assert status == 201, body
    letter = body["letter"]
    for user in ["konseptor", "staf"]:
        status, body = api(tokens[user], "POST", f"/letters/{letter['id']}/submit", {"version": letter["version"]})
        assert status == 200, body
        letter = body["letter"]
    ids.append(letter["id"])
for user in ["kabid", "sekdis"]:
    for letter_id in ids:
        status, body = api(tokens[user], "POST", f"/letters/{letter_id}/decision", {"decision": "paraf", "revision": 1, "passphrase": passphrase})
        assert status == 200, body
before = memory()
with concurrent.futures.ThreadPoolExecutor(count) as pool:
    answers = list(pool.map(lambda i: api(tokens["kadis"], "POST", f"/letters/{i}/decision",
                                           {"decision": "tanda_tangan", "revision": 1, "passphrase": passphrase}), ids))
after = memory()
signed = sum(1 for status, _ in answers if status == 200)
print(json.dumps({"signatures": count, "signed": signed, "peak_before_mib": before["VmHWM"], "peak_after_mib": after["VmHWM"],
                  "rss_after_mib": after["VmRSS"], "statuses": sorted({s for s, _ in answers})}))
