"""The long-term signing peer of `naskah-bench`: pyHanko signs the same unsigned final
PDF at PAdES B-LT (ECDSA P-256, SHA-256, incremental update) `runs` times in one
process, with a key and certificate of its own, a signature timestamp from the same
local TSA (RFC 3161 over HTTP) and the validation data embedded (the TSA's CRL fetched
from its distribution point, as naskah does; a fresh validation context per signature,
so nothing is cached between letters). Prints the times (ms) as JSON.

    python3 pyhanko_blt.py UNSIGNED.pdf TSA_URL TSA_ROOT.pem RUNS
"""

import io
import json
import sys
import tempfile
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko_certvalidator import ValidationContext

from pyhanko_sign import certificate_files


def main(pdf_path: str, tsa_url: str, tsa_root_path: str, runs: int) -> None:
    with open(pdf_path, "rb") as handle:
        original = handle.read()
    with tempfile.TemporaryDirectory() as folder:
        key_path, cert_path = certificate_files(folder)
        signer = signers.SimpleSigner.load(key_path, cert_path)
        own_root = load_cert_from_pemder(cert_path)
    tsa_root = load_cert_from_pemder(tsa_root_path)
    timestamper = timestamps.HTTPTimeStamper(tsa_url)
    times = []
    for _ in range(runs + 2):
        started = time.perf_counter()
        context = ValidationContext(trust_roots=[own_root, tsa_root], allow_fetching=True)
        meta = signers.PdfSignatureMetadata(
            field_name="Tanda",
            subfilter=fields.SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            embed_validation_info=True,
            validation_context=context,
        )
        out = signers.sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(original)), meta, signer=signer, timestamper=timestamper
        )
        out.getvalue()
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"ms": times[2:]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
