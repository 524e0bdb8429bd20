"""Compliance profiles (3GPP TS 33.117 SCAS): a verdict per clause, with evidence."""

from assay.compliance.engine import VERDICTS, available_profiles, evaluate, load_profile

__all__ = ["VERDICTS", "available_profiles", "evaluate", "load_profile"]
