#!/usr/bin/env python3
"""schemathesis against a running naskah: starts `naskah serve --demo` on a fresh SQLite
file, takes an API token for the demo administrator through the login page, then lets
schemathesis call every documented operation with generated data. The run fails on any
5xx and on any response that breaks the OpenAPI document (status, content type, body).

    python3 tests/tools/api_schema_check.py path/to/naskah [examples per operation]

Operations that end the caller's own credentials (own password, password reset, token
revocation) are left out: they would turn the rest of the run into 401s.
"""
import http.cookiejar, json, os, re, socket, subprocess, sys, tempfile, time, urllib.parse, urllib.request

binary = sys.argv[1]
examples = sys.argv[2] if len(sys.argv) > 2 else "10"
password = "uji-skema-" + os.urandom(6).hex()

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
base = f"http://127.0.0.1:{port}"

work = tempfile.mkdtemp(prefix="naskah-schema-")
env = dict(os.environ,
           NASKAH_DATABASE_URL=f"sqlite://{work}/naskah.sqlite3?mode=rwc",
           NASKAH_KEYS_DIR=f"{work}/keys",
           NASKAH_LISTEN=f"127.0.0.1:{port}",
           NASKAH_BASE_URL=base,
           NASKAH_DEMO_PASSWORD=password,
           NASKAH_DEMO_PASSPHRASE="frasa-sandi-uji-skema")
server = subprocess.Popen([binary, "serve", "--demo"], env=env, stdout=open(f"{work}/server.log", "w"),
                          stderr=subprocess.STDOUT)
try:
    for _ in range(600):
        try:
            if urllib.request.urlopen(base + "/readyz", timeout=2).status == 200:
                break
        except OSError:
            pass
        if server.poll() is not None:
            sys.exit(f"naskah ended before it was ready:\n{open(work + '/server.log').read()}")
        time.sleep(0.2)
    else:
        sys.exit("naskah did not become ready within 120 s")

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/masuk").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    opener.open(base + "/masuk", urllib.parse.urlencode(
        {"username": "agendaris", "password": password, "csrf": csrf}).encode())
    page = opener.open(base + "/akun").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    request = urllib.request.Request(base + "/api/v1/tokens", data=json.dumps({"name": "schemathesis"}).encode(),
                                     headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    secret = json.loads(opener.open(request).read())["secret"]

    command = [
        "schemathesis", "run", base + "/api/v1/openapi.json",
        "--url", base + "/api/v1",
        "-H", f"Authorization: Bearer {secret}",
        "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--max-examples", examples,
        "--seed", "20261204",
        "--workers", "2",
        "--request-timeout", "60",
        "--exclude-path", "/me/password",
        "--exclude-path", "/users/{id}/password",
        "--exclude-path", "/tokens/{id}",
        "--suppress-health-check", "all",
        "--no-color",
    ]
    started = time.time()
    result = subprocess.run(command)
    print(f"schemathesis: exit {result.returncode} after {time.time() - started:.0f} s")
    sys.exit(result.returncode)
finally:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
