#!/usr/bin/env python3
"""Write docs/compliance.md from the TS 33.117 profile, so the two never drift apart."""

from __future__ import annotations

import sys
from pathlib import Path

from assay.compliance import load_profile

INTRO = """# TS 33.117 (SCAS) compliance profile

`assay scan IMAGE --profile ts33117` adds a `compliance` table to the JSON, HTML and SARIF reports;
`assay compliance REPORT.json` prints it again from a saved report (exit 1 when a clause fails).

3GPP TS 33.117 is the catalogue of general security assurance requirements that network products
are evaluated against under GSMA NESAS. Most of its test cases are run by hand in a lab against a
live device. Assay decides, from the image alone, every clause the image can decide, and says for
each what a lab must still test.

## Verdicts

| verdict | meaning |
|---|---|
| `pass` | the image shows what the clause asks for; the evidence points at the files that show it |
| `fail` | the image violates the clause; `findings` lists the findings and `evidence` the bytes |
| `not-applicable` | the image has nothing the clause is about (e.g. no web server) |
| `needs-live-test` | the image cannot decide: the behaviour is set at run time, or only a live test can confirm it |

Each row in JSON is `{clause, title, verdict, reason, findings, evidence, checks, lab}`; `clause` is
the bare section number. The profile itself is data: `src/assay/compliance/ts33117.json` names for
each clause the checks that decide it and the verdict logic (`src/assay/compliance/logic.py`).

## Mapping, clause by clause
"""

LOGIC = {
    "findings": "fail if any listed check reports a finding; otherwise pass (not-applicable when the files the clause is about are absent)",
    "findings_else_live": "fail on a finding; otherwise the image shows no violation but the clause depends on the running system",
    "accounts_have_auth": "fail when a login-capable account (shell not nologin/false) has an empty password field; pass when every one has a hash or is locked",
    "uid0_only_root": "fail when /etc/passwd gives UID 0 to any account but root",
    "password_storage": "fail on DES crypt, MD5 crypt or plain digests, or plaintext passwords in configs; pass when every active hash is SHA-crypt, bcrypt or yescrypt",
    "remote_root_login": "fail on a remote shell, or when sshd/dropbear allow root and root has a password, an empty password or an authorized key; pass when root cannot log in remotely",
    "password_policy": "fail when the configured minimum length is below 8; pass when a policy of 8 or more is configured; needs-live-test when the image holds no policy",
    "syslog_started": "pass when inittab, an init script, systemd or procd starts a syslog daemon; fail otherwise",
    "syslog_remote": "pass when logs go to another host (syslogd -R, @host, omfwd, network(), log_ip); fail when no remote target is configured",
    "sysctl": "fail when a boot-time sysctl takes the insecure value; pass when every relevant key is set securely; needs-live-test when the image leaves them to kernel defaults",
    "webserver": "fail on a finding for the web server setting; pass when a web server configuration was read and is clean; not-applicable without one",
    "eol": "fail when an SBOM component is on an upstream branch past its end-of-life date (data: checks/eol_component/eol.json); pass when every component with EOL data is supported",
    "image_signature": "fail when the image carries no signature (only a uImage/TRX CRC or nothing) and the rootfs holds no update-verification key; needs-live-test when a signature or key exists, since only the device can show it verifies them",
}


def main() -> int:
    spec = load_profile("ts33117")
    out = [INTRO]
    for c in spec["clauses"]:
        out.append(f"### {c['clause']} {c['title']}\n")
        out.append(f"- **What the image shows:** {c['image_can_show']}")
        checks = ", ".join(f"`{x}`" for x in c.get("checks", [])) or "none (decided by the clause logic itself)"
        out.append(f"- **Decided by:** {checks}")
        out.append(f"- **Verdict logic (`{c['logic']}`):** {LOGIC[c['logic']]}.")
        out.append(f"- **Still to test by hand:** {c['lab']}\n")
    out.append(
        "## Not decided from the image\n\n"
        "Everything else in TS 33.117 needs the running product: protocol and interface robustness (fuzzing),\n"
        "TLS/SSH configuration as negotiated, session handling, brute-force protection, input validation of\n"
        "the web UI, privilege separation of running processes, and the vendor's processes. Assay lists the\n"
        "image-decidable clauses only; a NESAS lab runs the rest.\n\n"
        "Mapping choices that are Assay's own: TCP SYN cookies are judged under 4.3.3.1.5 with source routing;\n"
        "4.3.2.5 uses upstream end-of-life dates, so a distribution's back-ports (e.g. Debian LTS) do not count.\n"
    )
    text = "\n".join(out)
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "docs" / "compliance.md"
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
