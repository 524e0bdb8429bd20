"""Signed evidence: DSSE-wrapped in-toto statements that bind a report to the image it describes."""

from assay.attest.dsse import PAYLOAD_TYPE, pae
from assay.attest.keys import KEY_TYPES, generate, keyid, load_private, load_public, write_keypair
from assay.attest.statement import PREDICATE_TYPE, STATEMENT_TYPE, attest, statement, verify_attestation

__all__ = [
    "KEY_TYPES",
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "STATEMENT_TYPE",
    "attest",
    "generate",
    "keyid",
    "load_private",
    "load_public",
    "pae",
    "statement",
    "verify_attestation",
    "write_keypair",
]
