"""default-credential: accounts and service stores whose password is empty, known or in clear."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from assay.analysis.accounts import (
    Account,
    Scheme,
    SecretState,
    Span,
    StoredCredential,
    account_tables,
    span_evidence,
    stored_credentials,
)
from assay.checks.base import Check, CheckContext
from assay.checks.default_credential.crack import Outcome, Target, cost_per_try, crack
from assay.model import Finding, Severity

DEFAULT_CRACK_SECONDS = 20.0
# A quick scan gives each hash about this much CPU: the whole list for md5crypt/DES, the ~140
# most likely candidates (per-user pairs first) for sha512crypt. crack_depth="full" tries all.
QUICK_SECONDS_PER_HASH = 1.0

_SCHEME_NAMES = {
    Scheme.DES: "DES crypt",
    Scheme.MD5: "md5crypt",
    Scheme.APR1: "Apache apr1 md5crypt",
    Scheme.SHA256: "sha256crypt",
    Scheme.SHA512: "sha512crypt",
    Scheme.BCRYPT: "bcrypt",
    Scheme.RAW_MD5: "unsalted MD5",
    Scheme.RAW_SHA1: "unsalted SHA-1",
    Scheme.RAW_SHA256: "unsalted SHA-256",
    Scheme.LDAP_SHA1: "unsalted SHA-1 ({SHA})",
    Scheme.HTDIGEST: "HTTP digest MD5",
}


@dataclass(frozen=True)
class Wordlist:
    """Known default passwords: per-user pairs first, then every password by frequency."""

    pairs: dict[str, tuple[str, ...]]
    passwords: tuple[str, ...]

    def candidates(self, user: str | None) -> list[str]:
        seen: set[str] = set()
        out: list[str] = []
        first = [user, ""] if user else [""]
        for pw in [*first, *self.pairs.get((user or "").lower(), ()), *self.passwords]:
            if pw is not None and pw not in seen:
                seen.add(pw)
                out.append(pw)
        return out


def load_wordlist() -> Wordlist:
    base = resources.files("assay") / "data" / "credentials"
    pairs: dict[str, list[str]] = {}
    for line in (base / "pairs.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or "\t" not in line:
            continue
        user, password, _score = line.split("\t")
        pairs.setdefault(user.lower(), []).append(password)
    passwords = tuple(
        "" if line == "<blank>" else line
        for line in (base / "passwords.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    return Wordlist({k: tuple(v) for k, v in pairs.items()}, passwords)


@dataclass
class _Item:
    """One secret to judge, and where it came from."""

    span: Span
    user: str | None
    scheme: Scheme
    value: str
    account: Account | None = None
    cred: StoredCredential | None = None
    backups: list[Span] = field(default_factory=list)


def run(ctx: CheckContext) -> Iterator[Finding]:
    budget = float(ctx.options.get("crack_seconds", DEFAULT_CRACK_SECONDS))
    workers = ctx.options.get("crack_workers") or ctx.processes
    items: list[_Item] = []
    findings: list[Finding] = []
    live: dict[tuple[str, str], _Item] = {}

    for table in sorted(account_tables(ctx.index), key=lambda t: t.backup):
        for acct in table.accounts:
            s = acct.secret
            if s.state == SecretState.EMPTY:
                if acct.login_shell:
                    findings.append(_empty_account(acct))
                continue
            if not s.crackable:
                continue
            item = _Item(acct.secret_span, acct.name, s.scheme, s.value, account=acct)
            key = (acct.name, s.value)
            if table.backup and key in live:
                live[key].backups.append(acct.secret_span)
                continue
            live.setdefault(key, item)
            items.append(item)

    for cred in stored_credentials(ctx.index):
        s = cred.secret
        if s.state == SecretState.PLAINTEXT:
            findings.append(_plaintext(cred))
        elif s.state == SecretState.EMPTY and cred.user:
            findings.append(_empty_store(cred))
        elif s.crackable:
            items.append(_Item(cred.span, cred.user, s.scheme, s.value, cred=cred))

    yield from findings
    if not items:
        return
    words = load_wordlist()
    # Identical hashes (the same file in two filesystems, a copied store) are cracked once.
    unique: dict[Target, list[_Item]] = {}
    for it in items:
        realm = it.cred.realm if it.cred else None
        unique.setdefault(Target(it.scheme, it.value, it.user, realm), []).append(it)
    targets = list(unique)
    full = ctx.options.get("crack_depth", "quick") == "full"
    jobs = [(t, _depth(words.candidates(t.user), t, full)) for t in targets]
    outcomes = crack(jobs, budget, workers=int(workers) if workers else None)
    for target, outcome in zip(targets, outcomes, strict=True):
        if outcome.password is None:
            continue
        for it in unique[target]:
            yield _cracked(it, outcome)


def _depth(candidates: list[str], target: Target, full: bool) -> list[str]:
    if full:
        return candidates
    return candidates[: max(1, int(QUICK_SECONDS_PER_HASH / cost_per_try(target)))]


def _severity(acct: Account | None) -> Severity:
    if acct is None:
        return Severity.HIGH
    if not acct.login_shell:
        return Severity.MEDIUM
    return Severity.CRITICAL if acct.uid == 0 or acct.uid is None and acct.name == "root" else Severity.HIGH


def _empty_account(acct: Account) -> Finding:
    where = (
        "shadow" if acct.passwd_span is None or acct.secret_span.path != acct.passwd_span.path else "passwd"
    )
    return CHECK.finding(
        acct.path,
        f"Account '{acct.name}' has an empty password and a login shell",
        [span_evidence(acct.secret_span, note=f"empty password field in the {where} entry")],
        severity=_severity(acct),
        details={
            "account": acct.name,
            "uid": acct.uid,
            "shell": acct.shell,
            "password": "",
            "hash_scheme": "none",
        },
    )


def _plaintext(cred: StoredCredential) -> Finding:
    who = f"'{cred.user}'" if cred.user else "an account"
    return CHECK.finding(
        cred.span.path,
        f"Plaintext password '{cred.secret.value}' for {who} in a {_store_name(cred)}",
        [span_evidence(cred.span, note=f"{cred.key or 'password'} stored in clear")],
        severity=Severity.HIGH,
        details=_cred_details(cred, cred.secret.value, "plaintext"),
    )


def _empty_store(cred: StoredCredential) -> Finding:
    return CHECK.finding(
        cred.span.path,
        f"Empty password for '{cred.user}' in a {_store_name(cred)}",
        [span_evidence(cred.span, note=f"{cred.key or 'password'} is empty")],
        severity=Severity.HIGH,
        details=_cred_details(cred, "", "none"),
    )


def _cracked(it: _Item, outcome: Outcome) -> Finding:
    scheme = _SCHEME_NAMES.get(it.scheme, it.scheme.value)
    pw = outcome.password or ""
    shown = f"'{pw}'" if pw else "empty"
    note = f"{scheme} hash of the password {shown!s}"
    evidence = [span_evidence(it.span, note=note)]
    evidence += [span_evidence(b, note="the same hash in a backup copy") for b in it.backups]
    if it.account is not None:
        acct = it.account
        return CHECK.finding(
            it.span.path,
            f"Account '{acct.name}' has the known password {shown} ({scheme})",
            evidence,
            severity=_severity(acct),
            details={
                "account": acct.name,
                "uid": acct.uid,
                "shell": acct.shell,
                "password": pw,
                "hash_scheme": it.scheme.value,
                "candidates_tried": outcome.tried,
            },
        )
    assert it.cred is not None
    who = f"'{it.cred.user}'" if it.cred.user else "an account"
    return CHECK.finding(
        it.span.path,
        f"Known password {shown} for {who} in a {_store_name(it.cred)} ({scheme})",
        evidence,
        severity=Severity.HIGH,
        details={**_cred_details(it.cred, pw, it.scheme.value), "candidates_tried": outcome.tried},
    )


def _store_name(cred: StoredCredential) -> str:
    return {
        "uci": "UCI configuration",
        "keyvalue": "configuration file",
        "htpasswd": "web server password file",
        "httpd-conf": "web server configuration",
        "htdigest": "web server digest file",
        "plain-users": "web server user file",
    }.get(cred.store, "credential store")


def _cred_details(cred: StoredCredential, password: str, scheme: str) -> dict[str, Any]:
    d: dict[str, Any] = {
        "account": cred.user,
        "password": password,
        "hash_scheme": scheme,
        "store": cred.store,
    }
    if cred.key:
        d["key"] = cred.key
    if cred.section:
        d["section"] = cred.section
    if cred.realm is not None:
        d["realm"] = cred.realm
    return d


CHECK = Check(
    id="default-credential",
    category="default-credential",
    severity=Severity.CRITICAL,
    title="Empty, default or plaintext password",
    description=(
        "Accounts in passwd/shadow files (and their backups) with an empty password and a login "
        "shell, or whose hash (DES, md5crypt, sha256crypt, sha512crypt, bcrypt) matches a known "
        "device default password; and passwords kept in clear, empty, or as a crackable hash in "
        "service stores: UCI /etc/config, nvram defaults and key=value files, .htpasswd, BusyBox "
        "httpd.conf, lighttpd user and digest files. The password found is part of the evidence "
        "so anyone can re-check it. Cracking runs within options['crack_seconds'] (default 20 s)."
    ),
    run=run,
    clause="4.2.3.4.2.1",
    references=(
        "https://cwe.mitre.org/data/definitions/1392.html",
        "https://cwe.mitre.org/data/definitions/258.html",
        "https://cwe.mitre.org/data/definitions/256.html",
    ),
    false_positives=(
        "A plaintext password in a configuration file may be a placeholder the device replaces "
        "at first boot; an empty UCI password may be unused when the service is disabled."
    ),
)
