"""The PDF-signing peer of `naskah-bench`: pyHanko signs the same unsigned final PDF
(PAdES B-B, ECDSA P-256, SHA-256, incremental update) `runs` times in one process, with a
key and certificate of its own; prints the times (ms) as JSON."""

import datetime
import io
import json
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers


def certificate_files(folder: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Peer pyHanko")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=10))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = f"{folder}/key.pem", f"{folder}/cert.pem"
    with open(key_path, "wb") as handle:
        handle.write(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def main(pdf_path: str, runs: int) -> None:
    with open(pdf_path, "rb") as handle:
        original = handle.read()
    with tempfile.TemporaryDirectory() as folder:
        key_path, cert_path = certificate_files(folder)
        signer = signers.SimpleSigner.load(key_path, cert_path)
    meta = signers.PdfSignatureMetadata(
        field_name="Tanda", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    times = []
    for _ in range(runs + 2):
        started = time.perf_counter()
        out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(original)), meta, signer=signer)
        out.getvalue()
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"ms": times[2:]}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
