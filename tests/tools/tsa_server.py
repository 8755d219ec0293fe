"""A real RFC 3161 timestamp authority for tests: `openssl ts -reply` behind a tiny
HTTP server. Used by tests/it/ltv.rs.

    python3 tsa_server.py DIR PORT

creates (once) in DIR a test root, its CRL and a TSA certificate (P-256, extended key
usage timeStamping, critical, CRL distribution point on this server) and the [tsa]
section of an openssl configuration, then answers `POST /` (application/timestamp-query)
and `GET /akar.crl` (`?pada=UNIX`: as it would be issued then) on 127.0.0.1:PORT (0:
any free port).
Prints the port on its first line when ready. Basic authentication is required when
the environment variable TSA_BASIC is set (user:password)."""

import base64
import datetime
import http.server
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def root_crl(root_key, root_name, at: datetime.datetime):
    """The test root's CRL (nothing revoked) as issued at `at`, valid 30 days."""
    return (x509.CertificateRevocationListBuilder().issuer_name(root_name)
            .last_update(at).next_update(at + datetime.timedelta(days=30))
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
            .add_extension(x509.CRLNumber(int(at.timestamp())), critical=False)
            .sign(root_key, hashes.SHA256()))


def setup(directory: str, port: int) -> str:
    """The test root, the TSA's certificate (with a CRL distribution point on this
    server) and the root's CRL, written with `cryptography` (a pyHanko dependency)."""
    config = os.path.join(directory, "tsa.cnf")
    if os.path.exists(config):
        return config
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
                           x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TSA Uji"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "Akar TSA Uji")])
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=7300))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA256()))
    tsa_key = ec.generate_private_key(ec.SECP256R1())
    tsa_name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TSA Uji"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "Otoritas Stempel Waktu Uji")])
    crl_url = f"http://127.0.0.1:{port}/akar.crl"
    tsa = (x509.CertificateBuilder().subject_name(tsa_name).issuer_name(root_name)
           .public_key(tsa_key.public_key()).serial_number(x509.random_serial_number())
           .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=7000))
           .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
           .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True)
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False)
           .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
               [x509.UniformResourceIdentifier(crl_url)], None, None, None)]), critical=False)
           .sign(root_key, hashes.SHA256()))
    crl = root_crl(root_key, root_name, now)
    pem = serialization.Encoding.PEM
    key_format = (pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    for name, data in (("ca.crt", root.public_bytes(pem)), ("tsa.crt", tsa.public_bytes(pem)),
                       ("tsa.key", tsa_key.private_bytes(*key_format)), ("ca.key", root_key.private_bytes(*key_format)),
                       ("akar.crl", crl.public_bytes(serialization.Encoding.DER)), ("tsaserial", b"01\n")):
        with open(os.path.join(directory, name), "wb") as handle:
            handle.write(data)
    with open(config, "w") as handle:
        handle.write(f"""[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {directory}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/ca.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
""")
    return config


def handler_for(directory: str):
    expected = os.environ.get("TSA_BASIC")
    config = os.path.join(directory, "tsa.cnf")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path != "/akar.crl":
                self.send_response(404)
                self.end_headers()
                return
            if query.startswith("pada="):
                # The CRL a validator would fetch at that (future) moment.
                with open(os.path.join(directory, "ca.key"), "rb") as handle:
                    root_key = serialization.load_pem_private_key(handle.read(), None)
                with open(os.path.join(directory, "ca.crt"), "rb") as handle:
                    root_name = x509.load_pem_x509_certificate(handle.read()).subject
                at = datetime.datetime.fromtimestamp(int(query[5:]), datetime.timezone.utc)
                body = root_crl(root_key, root_name, at).public_bytes(serialization.Encoding.DER)
            else:
                with open(os.path.join(directory, "akar.crl"), "rb") as handle:
                    body = handle.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            if expected is not None:
                given = self.headers.get("Authorization", "")
                if given != "Basic " + base64.b64encode(expected.encode()).decode():
                    self.send_response(401)
                    self.end_headers()
                    return
            length = int(self.headers.get("Content-Length", "0"))
            if self.headers.get("Content-Type") != "application/timestamp-query" or not 0 < length < 65536:
                self.send_response(400)
                self.end_headers()
                return
            query = self.rfile.read(length)
            with tempfile.TemporaryDirectory() as scratch:
                query_path = os.path.join(scratch, "q.tsq")
                reply_path = os.path.join(scratch, "r.tsr")
                with open(query_path, "wb") as handle:
                    handle.write(query)
                done = subprocess.run(["openssl", "ts", "-reply", "-config", config, "-queryfile", query_path,
                                       "-out", reply_path], capture_output=True)
                if done.returncode != 0:
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(done.stderr)
                    return
                with open(reply_path, "rb") as handle:
                    reply = handle.read()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args) -> None:
            pass

    return Handler


def main() -> None:
    directory, port = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    os.makedirs(directory, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler_for(directory))
    setup(directory, server.server_address[1])
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
