"""Validates every signature embedded in a PDF with pyHanko, trusting one root
certificate; prints one JSON object per signature. Used by tests/it/pades.rs.

pyHanko's verdict on a changed file is a status with intact=False, or, for a file it
cannot read as PDF at all, its PdfReadError (reported as "unreadable"). Any other
exception is a crash: it is let through and the script exits non-zero, so a test
expecting "not intact" cannot pass on a crash."""

import json
import sys

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext


def main(pdf_path: str, root_path: str) -> None:
    root = load_cert_from_pemder(root_path)
    context = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="soft-fail")
    results = []
    with open(pdf_path, "rb") as handle:
        try:
            reader = PdfFileReader(handle, strict=False)
        except PdfReadError as error:
            print(json.dumps([{"unreadable": str(error), "intact": False, "valid": False, "bottom_line": False}]))
            return
        for signature in reader.embedded_signatures:
            entry = {"field": signature.field_name, "subfilter": str(signature.sig_object.get("/SubFilter"))}
            status = validate_pdf_signature(signature, context)
            entry.update(
                intact=bool(status.intact),
                valid=bool(status.valid),
                trusted=bool(status.trusted),
                bottom_line=bool(status.bottom_line),
                coverage=status.coverage.name if status.coverage else None,
                modification_level=status.modification_level.name if status.modification_level else None,
                docmdp_ok=status.docmdp_ok,
                mechanism=status.pkcs7_signature_mechanism,
                digest=status.md_algorithm,
                signer=status.signing_cert.subject.human_friendly,
                key_usage=sorted(status.signing_cert.key_usage_value.native) if status.signing_cert.key_usage_value else [],
            )
            results.append(entry)
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
