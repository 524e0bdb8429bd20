#!/usr/bin/env python3
"""TS 33.117 verdicts on a labelled corpus: clean images must pass the account/root-login
clauses, and every image with a planted default credential, hidden account or remote shell
must fail the matching clause.

    .venv/bin/python bench/compliance_corpus.py [CORPUS] [--reports DIR]

Without --reports it scans every CORPUS/*/image.bin with `--profile ts33117` first.
Exit 1 if any expectation fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CLEAN_PASS = ("4.2.3.4.2.3", "4.2.4.2.2", "4.3.2.6")
# planted category -> clauses of which at least one must fail
PLANTED_FAIL = {
    "default-credential": ("4.2.3.4.2.2",),
    "hidden-account": ("4.2.4.2.2", "4.2.3.4.2.2"),
    "remote-shell": ("4.3.2.1",),
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "corpus", nargs="?", default=str(Path(__file__).resolve().parents[2] / "shared" / "corpus")
    )
    ap.add_argument("--reports")
    args = ap.parse_args()
    corpus = Path(args.corpus)
    reports = Path(args.reports or tempfile.mkdtemp(prefix="assay-compliance-"))
    assay = str(Path(sys.executable).parent / "assay")
    bad = 0
    for truth_file in sorted(corpus.glob("*/truth.json")):
        name = truth_file.parent.name
        out = reports / f"{name}.json"
        if not out.exists():
            subprocess.run(
                [
                    assay,
                    "scan",
                    str(truth_file.parent / "image.bin"),
                    "-f",
                    "json",
                    "-o",
                    str(out),
                    "-q",
                    "--profile",
                    "ts33117",
                ],
                check=False,
            )
        truth = json.loads(truth_file.read_text())
        report = json.loads(out.read_text())
        verdicts = {c["clause"]: c["verdict"] for c in report.get("compliance") or []}
        planted = sorted({i["category"] for i in truth.get("items", [])})
        problems = []
        if truth.get("clean"):
            problems += [
                f"{c} is {verdicts.get(c)}, expected pass" for c in CLEAN_PASS if verdicts.get(c) != "pass"
            ]
        for cat in planted:
            clauses = PLANTED_FAIL.get(cat)
            if clauses and not any(verdicts.get(c) == "fail" for c in clauses):
                problems.append(f"{cat} planted but {'/'.join(clauses)} not failed")
        shown = " ".join(f"{c}={verdicts.get(c)}" for c in (*CLEAN_PASS, "4.2.3.4.2.2", "4.3.2.1"))
        print(f"{name:8} {'clean' if truth.get('clean') else ','.join(planted):60} {shown}")
        for p in problems:
            print(f"    FAIL {p}")
        bad += len(problems)
    print(f"{bad} expectation(s) failed; reports in {reports}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
