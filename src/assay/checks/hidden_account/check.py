"""hidden-account: extra UID 0 accounts, and system accounts that can log in with a password."""

from __future__ import annotations

from collections.abc import Iterator

from assay.analysis.accounts import Account, SecretState, account_tables, span_evidence
from assay.checks.base import Check, CheckContext
from assay.model import Evidence, Finding, Severity

# Service accounts that exist on stock systems and must never log in with a password.
_SYSTEM_NAMES = frozenset(
    {
        "daemon", "bin", "sys", "adm", "lp", "mail", "news", "uucp", "proxy", "www-data", "www",
        "backup", "list", "irc", "gnats", "nobody", "nogroup", "ftp", "tftp", "network", "dnsmasq",
        "sshd", "messagebus", "avahi", "ntp", "_apt", "mysql", "postfix", "http", "httpd", "nginx",
        "lighttpd", "dhcp", "quagga", "zebra", "snmp", "tss", "polkitd", "rpc", "rpcuser",
        "nfsnobody", "squid", "tcpdump", "games", "man", "sync", "shutdown", "halt", "mosquitto",
        "ubus", "logd", "dhcpd", "named", "bind", "radvd", "openvpn", "unbound", "chrony", "odhcpd",
    }
)  # fmt: skip
_SYSTEM_UID_MAX = 100  # below this every distribution reserves UIDs for services


def _usable(acct: Account) -> bool:
    return acct.secret.state in (SecretState.EMPTY, SecretState.HASH, SecretState.PLAINTEXT)


def _evidence(acct: Account) -> list[Evidence]:
    assert acct.passwd_span is not None
    ev = [span_evidence(acct.passwd_span, note=f"uid {acct.uid}, shell {acct.shell or '/bin/sh'}")]
    if acct.secret_span.path != acct.passwd_span.path:
        ev.append(span_evidence(acct.secret_span, note=f"password: {acct.secret.state.value}"))
    return ev


def _details(acct: Account) -> dict[str, object]:
    return {
        "account": acct.name,
        "uid": acct.uid,
        "gid": acct.gid,
        "shell": acct.shell,
        "home": acct.home,
        "password_state": acct.secret.state.value,
        "hash_scheme": acct.secret.scheme.value,
    }


def run(ctx: CheckContext) -> Iterator[Finding]:
    for table in account_tables(ctx.index):
        if table.backup or table.passwd is None:
            continue  # backups are not read at login; lone shadow files have no UIDs
        for acct in table.accounts:
            if acct.uid == 0 and acct.name != "root":
                yield from _uid0(acct)
            elif _is_system(acct) and acct.login_shell and acct.secret.state == SecretState.HASH:
                yield CHECK.finding(
                    table.passwd.path,
                    f"Service account '{acct.name}' (uid {acct.uid}) has a password and a login shell",
                    _evidence(acct),
                    severity=Severity.HIGH,
                    details=_details(acct),
                )


def _is_system(acct: Account) -> bool:
    if acct.uid is None or acct.uid == 0:
        return False
    return acct.name in _SYSTEM_NAMES or acct.uid < _SYSTEM_UID_MAX


def _uid0(acct: Account) -> Iterator[Finding]:
    assert acct.passwd_span is not None
    path = acct.passwd_span.path
    if acct.login_shell and _usable(acct):
        yield CHECK.finding(
            path,
            f"Extra UID 0 account '{acct.name}' with a login shell",
            _evidence(acct),
            severity=Severity.CRITICAL,
            details=_details(acct),
        )
    else:
        # Locked, or no shell: no password login, but a second name for root is worth a look.
        why = "a non-login shell" if not acct.login_shell else "a locked password"
        yield CHECK.finding(
            path,
            f"Extra UID 0 account '{acct.name}' with {why}",
            _evidence(acct),
            severity=Severity.LOW,
            category="configuration",
            details=_details(acct),
        )


CHECK = Check(
    id="hidden-account",
    category="hidden-account",
    severity=Severity.CRITICAL,
    title="Hidden or unexpected login account",
    description=(
        "Any account other than root with UID 0 that can log in (a login shell and a password "
        "field that is not locked) is a second root account; locked or shell-less UID 0 accounts "
        "are reported at low severity as a configuration note. Service accounts (UID below 100 "
        "or a standard daemon name) that carry a real password hash and a login shell are "
        "reported too: on a stock system they are locked. Backup files (passwd-) are not read."
    ),
    run=run,
    clause="4.2.3.4.1.1",
    references=(
        "https://cwe.mitre.org/data/definitions/912.html",
        "https://attack.mitre.org/techniques/T1136/001/",
    ),
    false_positives=(
        "Some vendors ship a documented second UID 0 account (e.g. 'admin') for their web UI; it "
        "is still reported because it is a root login, and the vendor's documentation settles it."
    ),
)
