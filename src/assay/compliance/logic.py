"""The verdict logic a profile clause names in its `logic` field."""

from __future__ import annotations

import re
from typing import Any

from assay.analysis.accounts import AccountTable, Scheme, SecretState, Span, account_tables
from assay.compliance.engine import Inputs, Logic, Verdict, fail_from
from assay.index import FileEntry, FileIndex

Clause = dict[str, Any]

_NO_INDEX = "decided only while scanning: re-run `assay scan --profile` on the image"


def _file_ev(
    e: FileEntry, note: str, offset: int | None = None, excerpt: str | None = None
) -> dict[str, Any]:
    d: dict[str, Any] = {"path": e.path, "sha256": e.sha256 or "", "note": note}
    if offset is not None:
        d["offset"] = offset
    if excerpt is not None:
        d["excerpt"] = excerpt
    return d


def findings(clause: Clause, inp: Inputs) -> Verdict:
    """Fail on any finding of the clause's checks; pass where the clause applies; else n/a."""
    hits = inp.findings_for(clause["checks"])
    if hits:
        return fail_from(hits, "finding(s)")
    applies = clause.get("applies_if_any")
    if applies and not inp.has_path(*applies):
        return Verdict("not-applicable", f"none of {', '.join(applies)} exists in the image")
    checked = ", ".join(clause["checks"])
    return Verdict("pass", clause.get("pass_reason") or f"no finding from {checked}")


def findings_else_live(clause: Clause, inp: Inputs) -> Verdict:
    hits = inp.findings_for(clause["checks"])
    if hits:
        return fail_from(hits, "finding(s)")
    return Verdict(
        "needs-live-test", "the image shows no violation, but the clause depends on the running system"
    )


# --- accounts -------------------------------------------------------------------------------------


def _table(index: FileIndex) -> AccountTable | None:
    """The account table the running system reads: /etc/passwd's, not a backup."""
    tables = [t for t in account_tables(index) if not t.backup and t.passwd is not None]
    tables.sort(key=lambda t: t.passwd is None or t.passwd.path != "/etc/passwd")
    return tables[0] if tables else None


def _span_ev(span: Span, note: str) -> dict[str, Any]:
    return _file_ev(span.entry, note, span.offset, span.text)


def accounts_have_auth(clause: Clause, inp: Inputs) -> Verdict:
    if inp.index is None:
        hits = [f for f in inp.findings_for(clause["checks"]) if "empty" in f["title"].lower()]
        return (
            fail_from(hits, "account(s) without password") if hits else Verdict("needs-live-test", _NO_INDEX)
        )
    table = _table(inp.index)
    if table is None or table.passwd is None:
        return Verdict("not-applicable", "the image has no /etc/passwd")
    empty = [a for a in table.accounts if a.secret.state == SecretState.EMPTY and a.login_shell]
    if empty:
        ev = [_span_ev(a.secret_span, f"account {a.name} has an empty password") for a in empty]
        paths = {a.path for a in empty}
        ids = [f["id"] for f in inp.findings_for(clause["checks"]) if f["path"] in paths]
        return Verdict(
            "fail",
            f"login-capable account(s) without a password: {', '.join(a.name for a in empty)}",
            ids,
            ev,
        )
    login = [a.name for a in table.accounts if a.login_shell]
    evidence = [_file_ev(table.passwd, "accounts read")] + (
        [_file_ev(table.shadow, "hashes read")] if table.shadow else []
    )
    return Verdict(
        "pass",
        f"every login-capable account ({', '.join(login) or 'none'}) has a password hash or is locked",
        [],
        evidence,
    )


def uid0_only_root(clause: Clause, inp: Inputs) -> Verdict:
    if inp.index is None:
        hits = [f for f in inp.findings_for(clause["checks"]) if "uid 0" in f["title"].lower()]
        return fail_from(hits, "extra UID 0 account(s)") if hits else Verdict("needs-live-test", _NO_INDEX)
    table = _table(inp.index)
    if table is None or table.passwd is None:
        return Verdict("not-applicable", "the image has no /etc/passwd")
    extra = [a for a in table.accounts if a.uid == 0 and a.name != "root"]
    if extra:
        ids = [f["id"] for f in inp.findings_for(clause["checks"]) if f["path"] == table.passwd.path]
        ev = [_span_ev(a.passwd_span, f"{a.name} has UID 0") for a in extra if a.passwd_span]
        return Verdict(
            "fail", f"accounts other than root with UID 0: {', '.join(a.name for a in extra)}", ids, ev
        )
    return Verdict(
        "pass", "root is the only account with UID 0", [], [_file_ev(table.passwd, "accounts read")]
    )


_STRONG = {Scheme.SHA256, Scheme.SHA512, Scheme.BCRYPT, Scheme.YESCRYPT, Scheme.SCRYPT}


def password_storage(clause: Clause, inp: Inputs) -> Verdict:
    hits = [
        f
        for f in inp.findings_for(clause["checks"])
        if f["category"] != "default-credential"
        or "plaintext" in (f["title"] + str(f.get("details", ""))).lower()
    ]
    if hits:
        return fail_from(hits, "weakly stored password(s)")
    if inp.index is None:
        return Verdict("needs-live-test", _NO_INDEX)
    table = _table(inp.index)
    if table is None:
        return Verdict(
            "needs-live-test", "no account database in the image; passwords are stored at run time"
        )
    hashed = [a for a in table.accounts if a.secret.state == SecretState.HASH]
    weak = [a for a in hashed if a.secret.scheme not in _STRONG and a.secret.scheme != Scheme.UNKNOWN]
    if weak:
        ev = [_span_ev(a.secret_span, f"{a.name}: {a.secret.scheme} hash") for a in weak]
        names = ", ".join(f"{a.name} ({a.secret.scheme})" for a in weak)
        return Verdict("fail", f"password hashes with weak schemes: {names}", [], ev)
    entry = table.shadow or table.passwd
    assert entry is not None
    return Verdict(
        "pass",
        "stored password hashes use SHA-crypt, bcrypt or yescrypt, and no plaintext password was found",
        [],
        [_file_ev(entry, f"{len(hashed)} active hash(es) checked")],
    )


def remote_root_login(clause: Clause, inp: Inputs) -> Verdict:
    shells = inp.findings_for(["remote-shell"])
    if shells:
        return fail_from(shells, "remote shell(s) give root access without SSH restrictions")
    root_login = inp.findings_for(["root-login"])
    if inp.index is None:
        return (
            fail_from(root_login, "root login setting(s)")
            if root_login
            else Verdict("needs-live-test", _NO_INDEX)
        )
    table = _table(inp.index)
    root = table.get("root") if table else None
    passwd = table.passwd if table else None
    keys = [
        f
        for f in inp.findings_for(["authorized-key"])
        if f["path"].startswith("/root/") or "/dropbear/" in f["path"]
    ]
    usable = (SecretState.HASH, SecretState.PLAINTEXT, SecretState.UNKNOWN)
    has_password = root is not None and root.secret.state in usable
    empty_password = root is not None and root.secret.state == SecretState.EMPTY
    if root_login and (has_password or keys or empty_password):
        why = "a password" if has_password else "an empty password" if empty_password else "an authorized key"
        return fail_from(root_login + keys, f"setting(s) allow remote root login and root has {why}:")
    if root_login:
        ev = [_file_ev(passwd, "root is locked and has no authorized key")] if passwd else []
        return Verdict(
            "pass",
            "the SSH server would accept root, but root has no usable password and no authorized key",
            [f["id"] for f in root_login],
            ev,
        )
    return Verdict("pass", "no remote shell, and no SSH configuration allows root login")


# --- configuration-backed clauses -------------------------------------------------------------------


def _failed_or_index(clause: Clause, inp: Inputs, what: str) -> Verdict | FileIndex:
    """The clause's findings decide it (fail); else the index to read, or needs-live-test without one."""
    hits = inp.findings_for(clause["checks"])
    if hits:
        return fail_from(hits, what)
    if inp.index is None:
        return Verdict("needs-live-test", _NO_INDEX)
    return inp.index


def password_policy(clause: Clause, inp: Inputs) -> Verdict:
    index = _failed_or_index(clause, inp, "weak policy setting(s)")
    if isinstance(index, Verdict):
        return index
    from assay.checks.password_policy.check import policy_settings

    settings = [s for s in policy_settings(index) if s.name == "min_length"]
    if settings:
        s = settings[0]
        return Verdict(
            "pass",
            f"minimum password length {s.value}",
            [],
            [_file_ev(s.line.entry, s.line.text, s.line.offset, s.line.text)],
        )
    return Verdict(
        "needs-live-test", "no password policy configuration in the image (login.defs, pwquality, PAM)"
    )


def syslog_started(clause: Clause, inp: Inputs) -> Verdict:
    index = _failed_or_index(clause, inp, "finding(s)")
    if isinstance(index, Verdict):
        return index
    from assay.checks.logging.check import logging_facts

    facts = logging_facts(index)
    if facts.daemons:
        line = facts.daemons[0]
        return Verdict(
            "pass",
            f"a syslog daemon is started at boot: {line.text}",
            [],
            [_file_ev(line.entry, "starts syslog", line.offset, line.text)],
        )
    return Verdict("not-applicable", "no boot files in the image")


def syslog_remote(clause: Clause, inp: Inputs) -> Verdict:
    index = _failed_or_index(clause, inp, "finding(s)")
    if isinstance(index, Verdict):
        return index
    from assay.checks.logging.check import logging_facts

    facts = logging_facts(index)
    if facts.remote:
        line = facts.remote[0]
        return Verdict(
            "pass",
            f"events are sent to a remote host: {line.text}",
            [],
            [_file_ev(line.entry, "remote logging", line.offset, line.text)],
        )
    if not facts.daemons:
        return Verdict("fail", "no syslog daemon is started, so nothing is sent to central storage")
    return Verdict("needs-live-test", "remote logging state is unknown from the image")


def sysctl(clause: Clause, inp: Inputs) -> Verdict:
    index = _failed_or_index(clause, inp, "insecure setting(s)")
    if isinstance(index, Verdict):
        return index
    from assay.checks.os_hardening.check import ICMP, SOURCE_ROUTE, secure_settings

    rules = ICMP if clause.get("sysctl") == "icmp" else SOURCE_ROUTE
    good = list(secure_settings(index, rules))
    covered = {r.pattern for r, _ in good}
    if good and len(covered) == len(rules):
        ev = [_file_ev(s.line.entry, f"{s.key} = {s.value}", s.line.offset, s.line.text) for _, s in good]
        return Verdict("pass", "every relevant sysctl is set to its secure value at boot", [], ev)
    missing = [r.pattern.rsplit(".", 1)[-1].rstrip("$") for r in rules if r.pattern not in covered]
    return Verdict(
        "needs-live-test",
        f"the image does not set {', '.join(missing)}; the running kernel's defaults decide",
    )


def webserver(clause: Clause, inp: Inputs) -> Verdict:
    index = _failed_or_index(clause, inp, "finding(s)")
    if isinstance(index, Verdict):
        return index
    from assay.checks.webserver.check import web_servers

    servers = web_servers(index)
    if not servers:
        return Verdict("not-applicable", "no lighttpd, nginx, uhttpd or boa configuration in the image")
    return Verdict(
        "pass",
        f"checked {', '.join(sorted({s.kind for s in servers}))} configuration",
        [],
        [_file_ev(s.config, f"{s.kind} configuration") for s in servers],
    )


def eol(clause: Clause, inp: Inputs) -> Verdict:
    hits = inp.findings_for(clause["checks"])
    if hits:
        return fail_from(hits, "unsupported component(s)")
    from assay.checks.eol_component.check import eol_table

    known = set(eol_table()["components"])
    judged = [c for c in inp.report.get("components", []) if c["name"].lower() in known and c.get("version")]
    if not judged:
        return Verdict(
            "needs-live-test",
            "no component of the inventory has end-of-life data; ask the vendor for support dates",
        )
    return Verdict("pass", "supported branches: " + ", ".join(f"{c['name']} {c['version']}" for c in judged))


# Signature containers and the markers that reveal them inside an image or rootfs.
_SIG_FILES = re.compile(
    r"(/etc/opkg/keys/|/usr/share/keys/|/etc/keys/|\.sig$|\.asc$|/usign$|/signify$|fwupdate.*\.pem$|/etc/.*verify.*\.pub$)"
)


def image_signature(clause: Clause, inp: Inputs) -> Verdict:
    layers = inp.report.get("image", {}).get("layers", [])
    handlers = [layer.get("handler", "") for layer in layers]
    signed = [h for h in handlers if "sig" in h or h in ("fit-signed", "android-signed")]
    crc_only = [h for h in handlers if h in ("uimage", "trx", "uImage")]
    evidence: list[dict[str, Any]] = []
    if inp.index is not None:
        for e in inp.index:
            if _SIG_FILES.search(e.path) and e.is_file:
                evidence.append(_file_ev(e, "key or signature used to verify updates"))
    if signed:
        return Verdict(
            "needs-live-test",
            f"the image carries a signature ({', '.join(signed)}); the lab must check the device verifies it",
            [],
            evidence,
        )
    if evidence:
        return Verdict(
            "needs-live-test",
            "the rootfs holds update-verification keys or tools; the lab must confirm updates are verified",
            [],
            evidence[:20],
        )
    how = (
        f"only the {'/'.join(sorted(set(crc_only)))} header CRC protects it"
        if crc_only
        else "it carries no integrity protection Assay recognises"
    )
    sha = inp.report.get("image", {}).get("sha256")
    ev = [{"path": "/", "sha256": sha or "", "note": f"image layers: {', '.join(handlers) or 'none'}"}]
    return Verdict(
        "fail", f"the image is not signed: {how}, and no update-verification key is in the rootfs", [], ev
    )


LOGIC: dict[str, Logic] = {
    "findings": findings,
    "findings_else_live": findings_else_live,
    "accounts_have_auth": accounts_have_auth,
    "uid0_only_root": uid0_only_root,
    "password_storage": password_storage,
    "remote_root_login": remote_root_login,
    "password_policy": password_policy,
    "syslog_started": syslog_started,
    "syslog_remote": syslog_remote,
    "sysctl": sysctl,
    "webserver": webserver,
    "eol": eol,
    "image_signature": image_signature,
}
