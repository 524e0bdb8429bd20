"""weak-password-hash: passwords stored with broken hash schemes, or not hashed at all."""

from __future__ import annotations

from collections.abc import Iterator

from assay.analysis.accounts import Scheme, SecretState, account_tables, span_evidence, stored_credentials
from assay.checks.base import Check, CheckContext
from assay.model import Finding, Severity

# Why each scheme is weak; sha256crypt, sha512crypt, bcrypt and yescrypt are acceptable.
_WEAK = {
    Scheme.DES: ("DES crypt", "uses only the first 8 characters and a 12-bit salt", Severity.HIGH),
    Scheme.MD5: ("md5crypt", "is a fast MD5-based scheme deprecated by its author", Severity.MEDIUM),
    Scheme.APR1: ("Apache apr1 md5crypt", "is a fast MD5-based scheme", Severity.MEDIUM),
    Scheme.RAW_MD5: ("unsalted MD5", "has no salt and no work factor", Severity.HIGH),
    Scheme.RAW_SHA1: ("unsalted SHA-1", "has no salt and no work factor", Severity.HIGH),
    Scheme.RAW_SHA256: ("unsalted SHA-256", "has no salt and no work factor", Severity.MEDIUM),
    Scheme.LDAP_SHA1: ("unsalted SHA-1 ({SHA})", "has no salt and no work factor", Severity.HIGH),
    Scheme.HTDIGEST: ("HTTP digest MD5", "is one unsalted MD5 per password", Severity.MEDIUM),
}


def run(ctx: CheckContext) -> Iterator[Finding]:
    for table in account_tables(ctx.index):
        for acct in table.accounts:
            s = acct.secret
            if s.state != SecretState.HASH or s.scheme not in _WEAK:
                continue  # locked accounts cannot use their hash
            name, why, severity = _WEAK[s.scheme]
            yield CHECK.finding(
                acct.path,
                f"Account '{acct.name}' password hashed with {name}",
                [span_evidence(acct.secret_span, note=f"{name} {why}")],
                severity=severity,
                details={"account": acct.name, "hash_scheme": s.scheme.value, "backup": table.backup},
            )
    for cred in stored_credentials(ctx.index):
        s = cred.secret
        who = f"'{cred.user}'" if cred.user else "an account"
        if s.state == SecretState.PLAINTEXT:
            yield CHECK.finding(
                cred.span.path,
                f"Password for {who} stored in plaintext",
                [span_evidence(cred.span, note=f"{cred.key or 'password'} is not hashed")],
                severity=Severity.HIGH,
                details={"account": cred.user, "hash_scheme": "plaintext", "store": cred.store},
            )
        elif s.state == SecretState.HASH and s.scheme in _WEAK:
            name, why, severity = _WEAK[s.scheme]
            yield CHECK.finding(
                cred.span.path,
                f"Password for {who} hashed with {name}",
                [span_evidence(cred.span, note=f"{name} {why}")],
                severity=severity,
                details={"account": cred.user, "hash_scheme": s.scheme.value, "store": cred.store},
            )


CHECK = Check(
    id="weak-password-hash",
    category="weak-crypto",
    severity=Severity.MEDIUM,
    title="Password stored with a weak hash or in plaintext",
    description=(
        "Account passwords in passwd/shadow files and service credential stores hashed with DES "
        "crypt, md5crypt/apr1, unsalted MD5/SHA-1/SHA-256 or HTTP digest, or kept in plaintext. "
        "sha256crypt, sha512crypt, bcrypt and yescrypt pass. Locked accounts are skipped."
    ),
    run=run,
    clause="4.2.3.2.3",
    references=(
        "https://cwe.mitre.org/data/definitions/916.html",
        "https://cwe.mitre.org/data/definitions/256.html",
    ),
    false_positives="A plaintext value may be a placeholder replaced at first boot.",
)
