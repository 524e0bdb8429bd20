"""Security event logging (TS 33.117 4.2.3.6.x): a syslog daemon, remote logging, log file rights."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from assay.analysis.configfiles import ConfigLine, config_lines, text_files, uci_sections
from assay.checks.base import Check, CheckContext, evidence_at, evidence_of_file
from assay.index import FileIndex
from assay.model import Evidence, Finding, Severity

REFS = ("https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",)

BOOT_FILES = (
    "/etc/inittab",
    "/etc/init.d/*",
    "/etc/rc.d/*",
    "/etc/rc.local",
    "/etc/rcS.d/*",
    "/etc/rc[0-6].d/*",
    "/etc/systemd/system/*",
    "/lib/systemd/system/*",
    "/usr/lib/systemd/system/*",
    "/etc/runit/*",
    "/etc/sv/*",
)
_DAEMON = re.compile(r"(?:^|[\s/;&|'\"=])(syslogd|rsyslogd|syslog-ng|logd|metalog|sysklogd)(?=$|[\s;&|'\"])")
_BB_REMOTE = re.compile(r"\bsyslogd\b[^;&|]*\s-R\s*\S+")
_CONF_REMOTE = re.compile(r"(^|\s)@@?[\w.\[\]:-]+|omfwd|\b(udp|tcp|network|syslog)\s*\(\s*[\"']?[\w.:-]+")


@dataclass(frozen=True)
class LoggingFacts:
    """What the image says about event logging; each fact keeps the line that proves it."""

    daemons: tuple[ConfigLine, ...]  # lines that start a syslog daemon at boot
    remote: tuple[ConfigLine, ...]  # lines that send logs to another host
    configs: tuple[str, ...]  # syslog configuration files present


def logging_facts(index: FileIndex) -> LoggingFacts:
    daemons: list[ConfigLine] = []
    remote: list[ConfigLine] = []
    for entry in text_files(index, *BOOT_FILES):
        for line in config_lines(index, entry):
            if _DAEMON.search(line.text):
                daemons.append(line)
                if _BB_REMOTE.search(line.text):
                    remote.append(line)
            if "procd_set_param command" in line.text and re.search(r"/sbin/logd\b", line.text):
                daemons.append(line)
    configs: list[str] = []
    for entry in text_files(
        index,
        "/etc/syslog.conf",
        "/etc/rsyslog.conf",
        "/etc/rsyslog.d/*",
        "/etc/syslog-ng/*",
        "/etc/syslog-ng.conf",
    ):
        configs.append(entry.path)
        for line in config_lines(index, entry):
            if _CONF_REMOTE.search(line.text):
                remote.append(line)
    for entry in text_files(index, "/etc/config/system"):
        for stype, _name, options in uci_sections(index, entry):
            if stype == "system" and options.get("log_ip", ("", None))[0]:
                remote.append(options["log_ip"][1])  # type: ignore[arg-type]
    return LoggingFacts(tuple(daemons), tuple(remote), tuple(configs))


def _ev(line: ConfigLine, note: str) -> Evidence:
    return evidence_at(line.entry, line.data, line.offset, len(line.text.encode()), note=note)


def _boot_evidence(index: FileIndex) -> list[Evidence]:
    """For an absence, the evidence is the set of boot files that were read."""
    return [
        evidence_of_file(e, note="boot file read; it starts no syslog daemon")
        for e in text_files(index, *BOOT_FILES)
    ]


def _no_syslog(ctx: CheckContext) -> Iterable[Finding]:
    facts = logging_facts(ctx.index)
    if facts.daemons:
        return
    evidence = _boot_evidence(ctx.index)
    if evidence:  # no boot files at all: nothing to judge from
        yield NO_SYSLOG.finding(evidence[0].path, "No syslog daemon is started at boot", evidence[:20])


def _no_remote(ctx: CheckContext) -> Iterable[Finding]:
    facts = logging_facts(ctx.index)
    if facts.daemons and not facts.remote:
        first = facts.daemons[0]
        yield NO_REMOTE.finding(
            first.entry.path,
            "Security events are kept on the device only (no remote syslog)",
            [_ev(line, "syslog started without a remote target") for line in facts.daemons[:5]],
        )


def _log_files(index: FileIndex) -> Iterator[tuple[str, str]]:
    for e in index:
        if e.path.startswith(("/var/log/", "/var/adm/")) or e.path in ("/var/log", "/var/adm"):
            yield e.fs, e.path


def _log_permissions(ctx: CheckContext) -> Iterable[Finding]:
    for fs, path in _log_files(ctx.index):
        e = ctx.index.get(path, fs)
        if e is None or e.is_symlink:
            continue
        sticky_dir = e.kind == "dir" and e.mode & 0o1000
        if e.world_writable and not sticky_dir:
            yield LOG_PERMS.finding(
                e.path,
                f"Log {'directory' if e.kind == 'dir' else 'file'} is world-writable",
                [evidence_of_file(e, note="anyone can alter or remove the log")],
            )


NO_SYSLOG = Check(
    id="logging-no-syslog",
    category="logging",
    severity=Severity.MEDIUM,
    title="No security event logging at boot",
    description="No syslog daemon (busybox syslogd, rsyslogd, syslog-ng, OpenWrt logd) is started by inittab, init scripts, systemd or procd.",
    clause="4.2.3.6.1",
    references=REFS,
    false_positives="A daemon started by a vendor binary rather than a script is not seen.",
    run=_no_syslog,
)
NO_REMOTE = Check(
    id="logging-no-remote",
    category="logging",
    severity=Severity.LOW,
    title="No transfer of security events to central storage",
    description="A syslog daemon runs but nothing sends its events to another host (syslogd -R, @host in syslog.conf, rsyslog omfwd, syslog-ng network(), OpenWrt log_ip).",
    clause="4.2.3.6.2",
    references=REFS,
    false_positives="Remote logging configured at run time through the management interface.",
    run=_no_remote,
)
LOG_PERMS = Check(
    id="logging-file-permissions",
    category="logging",
    severity=Severity.MEDIUM,
    title="Log files writable by everyone",
    description="Files or directories under /var/log that any user can modify (directories without the sticky bit).",
    clause="4.2.3.6.3",
    references=REFS,
    false_positives="/var/log on a tmpfs is recreated at boot with other rights.",
    run=_log_permissions,
)

CHECKS = [NO_SYSLOG, NO_REMOTE, LOG_PERMS]
