"""The file-check peer of `naskah-bench`: pyHanko validates every signature embedded in
the same signed PDF `runs` times in one process, trusting the department's root
(revocation checking off: naskah's upload check fetches nothing either). Prints the
times (ms) as JSON; exits non-zero when a signature does not validate, so a broken
file is never timed.

    python3 pyhanko_validate.py SIGNED.pdf ROOT.der RUNS
"""

import io
import json
import sys
import time

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext


def main(pdf_path: str, root_path: str, runs: int) -> None:
    with open(pdf_path, "rb") as handle:
        data = handle.read()
    root = load_cert_from_pemder(root_path)
    times = []
    for _ in range(runs + 2):
        started = time.perf_counter()
        context = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        for signature in reader.embedded_signatures:
            if signature.sig_object.get("/Type") == "/DocTimeStamp":
                status = validate_pdf_timestamp(signature, validation_context=context)
            else:
                status = validate_pdf_signature(signature, context)
            if not status.intact or not status.valid:
                sys.exit(f"signature {signature.field_name} does not validate: {status.summary()}")
        times.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"ms": times[2:]}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
