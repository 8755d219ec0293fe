"""Validates a long-term PAdES signature with pyHanko, offline, trusting the
department's root and the test TSA's root; prints one JSON object. Used by
tests/it/ltv.rs.

    python3 pyhanko_ltv.py FILE.pdf DEPARTMENT_ROOT.pem TSA_ROOT.pem [ISO-TIME [CRL...]]
    python3 pyhanko_ltv.py --many DEPARTMENT_ROOT.pem TSA_ROOT.pem FILE.pdf...

With --many (the walkthrough's letters, in one process): for each file, the DSS and
each person's signature with its timestamp, revocation required and taken from the DSS
only (no fetching); prints a JSON list.

- `signatures`: each person's signature checked with revocation required (hard-fail)
  and its signature timestamp;
- `dss`: what the document security store holds;
- `document_timestamps`: each document timestamp checked;
- `ades`: the AdES (ETSI EN 319 102-1) long-term validation of each signature with
  revocation data required, at ISO-TIME when given (e.g. after the signer's
  certificate was revoked or expired), else now, with the given CRLs (DER) known as a
  validator would fetch them at that time (the TSA's, whose certificate outlives the
  signer's)."""

import asyncio
import json
import sys
from datetime import datetime, timezone

from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.dss import DocumentSecurityStore
from asn1crypto import crl as asn1_crl
from pyhanko.sign.validation.policy_decl import LocalKnowledge, PdfSignatureValidationSpec, SignatureValidationSpec
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy, FreshnessReqType
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer


def read_dss(reader):
    try:
        dss = DocumentSecurityStore.read_dss(reader)
    except Exception:  # no DSS: a B-B or B-T file
        dss = None
    summary = {
        "certificates": len(list(dss.load_certs())) if dss else 0,
        "crls": len(dss.crls) if dss else 0,
        "ocsps": len(dss.ocsps) if dss else 0,
    }
    return dss, summary


def check_signature(signature, dss, roots) -> dict:
    """One person's signature and its timestamp, revocation required, from the DSS only."""
    settings = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "hard-fail"}
    context = dss.as_validation_context(settings) if dss else ValidationContext(crls=[], **settings)
    entry = {"field": signature.field_name}
    try:
        status = validate_pdf_signature(signature, context, ts_validation_context=context)
        stamp = status.timestamp_validity
        entry.update(
            intact=status.intact, valid=status.valid, trusted=status.trusted,
            bottom_line=status.bottom_line, coverage=status.coverage.name,
            modification_level=status.modification_level.name if status.modification_level else None,
            timestamp=None if stamp is None else {
                "intact": stamp.intact, "valid": stamp.valid, "trusted": stamp.trusted,
                "time": stamp.timestamp.isoformat(),
            },
        )
    except Exception as error:
        entry.update(error=f"{type(error).__name__}: {error}", bottom_line=False)
    return entry


def many(root_path: str, tsa_root_path: str, pdf_paths: list[str]) -> None:
    roots = [load_cert_from_pemder(root_path), load_cert_from_pemder(tsa_root_path)]
    out = []
    for pdf_path in pdf_paths:
        with open(pdf_path, "rb") as handle:
            reader = PdfFileReader(handle, strict=False)
            dss, summary = read_dss(reader)
            out.append({
                "file": pdf_path,
                "dss": summary,
                "signatures": [check_signature(s, dss, roots) for s in reader.embedded_regular_signatures],
            })
    print(json.dumps(out, default=str))


def main(pdf_path: str, root_path: str, tsa_root_path: str, at: str | None, crl_paths: list[str]) -> None:
    roots = [load_cert_from_pemder(root_path), load_cert_from_pemder(tsa_root_path)]
    out = {"signatures": [], "document_timestamps": [], "ades": []}
    with open(pdf_path, "rb") as handle:
        reader = PdfFileReader(handle, strict=False)
        dss, out["dss"] = read_dss(reader)
        for signature in reader.embedded_regular_signatures:
            out["signatures"].append(check_signature(signature, dss, roots))

            policy = CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=roots),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO, freshness=None,
                                                  freshness_req_type=FreshnessReqType.MAX_DIFF_REVOCATION_VALIDATION),
            )
            known = []
            for crl_path in crl_paths:
                with open(crl_path, "rb") as crl_file:
                    known.append(CRLContainer(asn1_crl.CertificateList.load(crl_file.read())))
            spec = PdfSignatureValidationSpec(
                signature_validation_spec=SignatureValidationSpec(
                    cert_validation_policy=policy, local_knowledge=LocalKnowledge(known_crls=known)),
                diff_policy=DEFAULT_DIFF_POLICY,
            )
            if at:
                moment = datetime.fromisoformat(at).astimezone(timezone.utc)
                timing = ValidationTimingInfo(moment, moment, point_in_time_validation=True)
            else:
                timing = ValidationTimingInfo.now()
            try:
                result = asyncio.run(ades_lta_validation(signature, spec, timing_info=timing))
                out["ades"].append({
                    "indication": str(result.ades_subindic.status.name if result.ades_subindic else "PASSED"),
                    "subindication": str(result.ades_subindic.name) if result.ades_subindic else None,
                    "bottom_line": result.api_status.bottom_line if result.api_status else False,
                })
            except Exception as error:
                out["ades"].append({"error": f"{type(error).__name__}: {error}", "bottom_line": False})
        for stamp in reader.embedded_timestamp_signatures:
            context = ValidationContext(trust_roots=roots, allow_fetching=False)
            try:
                status = validate_pdf_timestamp(stamp, validation_context=context)
                out["document_timestamps"].append({
                    "intact": status.intact, "valid": status.valid, "trusted": status.trusted,
                    "coverage": status.coverage.name,
                })
            except Exception as error:
                out["document_timestamps"].append({"error": f"{type(error).__name__}: {error}", "bottom_line": False})
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    if sys.argv[1] == "--many":
        many(sys.argv[2], sys.argv[3], sys.argv[4:])
        sys.exit(0)
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None, sys.argv[5:])
