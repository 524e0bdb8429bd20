"""OS hardening from sysctl settings and automount rules (TS 33.117 4.3.3.1.x)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from assay.analysis.configfiles import ConfigLine, config_lines, text_files, uci_sections
from assay.checks.base import Check, CheckContext, evidence_at
from assay.index import FileIndex
from assay.model import Finding, Severity

REFS = (
    "https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",
    "https://docs.kernel.org/networking/ip-sysctl.html",
)

SYSCTL_FILES = (
    "/etc/sysctl.conf",
    "/etc/sysctl.d/*",
    "/usr/lib/sysctl.d/*",
    "/lib/sysctl.d/*",
    "/run/sysctl.d/*",
)
BOOT_SCRIPTS = (
    "/etc/init.d/*",
    "/etc/rc.d/*",
    "/etc/rc.local",
    "/etc/rcS.d/*",
    "/etc/profile",
    "/etc/hotplug.d/*",
)


@dataclass(frozen=True)
class Setting:
    key: str  # dotted sysctl key
    value: str
    line: ConfigLine


_ECHO_PROC = re.compile(r"""echo\s+["']?(-?\d+)["']?\s*>\s*/proc/sys/(\S+)""")


def sysctl_settings(index: FileIndex) -> Iterator[Setting]:
    """Every sysctl the image sets at boot: sysctl.conf/sysctl.d and `echo N > /proc/sys/...`."""
    for entry in text_files(index, *SYSCTL_FILES):
        for line in config_lines(index, entry):
            key, sep, value = line.text.partition("=")
            if sep:
                yield Setting(key.strip().lstrip("-").replace("/", "."), value.strip(), line)
    for entry in text_files(index, *BOOT_SCRIPTS):
        for line in config_lines(index, entry):
            for m in _ECHO_PROC.finditer(line.text):
                yield Setting(m.group(2).replace("/", "."), m.group(1), line)
            m2 = re.search(r"\bsysctl\s+(?:-w\s+)?([\w.]+)=(\S+)", line.text)
            if m2:
                yield Setting(m2.group(1), m2.group(2).strip("'\""), line)


@dataclass(frozen=True)
class Rule:
    pattern: str  # regex over the dotted key
    insecure: str  # value that is insecure
    title: str


SOURCE_ROUTE = (
    Rule(r"net\.ipv[46]\.conf\.[\w*]+\.accept_source_route$", "1", "IP source routing accepted"),
    Rule(r"net\.ipv4\.tcp_syncookies$", "0", "TCP SYN cookies disabled"),
)
ICMP = (
    Rule(r"net\.ipv4\.icmp_echo_ignore_broadcasts$", "0", "Replies to ICMP echo sent to broadcast addresses"),
    Rule(r"net\.ipv[46]\.conf\.[\w*]+\.accept_redirects$", "1", "ICMP redirects accepted"),
    Rule(r"net\.ipv4\.icmp_ignore_bogus_error_responses$", "0", "Bogus ICMP error responses logged"),
)


def insecure_settings(index: FileIndex, rules: Iterable[Rule]) -> Iterator[tuple[Rule, Setting]]:
    rules = list(rules)
    for s in sysctl_settings(index):
        for r in rules:
            if re.match(r.pattern, s.key) and s.value == r.insecure:
                yield r, s


def secure_settings(index: FileIndex, rules: Iterable[Rule]) -> Iterator[tuple[Rule, Setting]]:
    """Settings that explicitly take the secure value: the positive evidence for a pass."""
    rules = list(rules)
    for s in sysctl_settings(index):
        for r in rules:
            if re.match(r.pattern, s.key) and s.value != r.insecure:
                yield r, s


def _sysctl_findings(ctx: CheckContext, check: Check, rules: tuple[Rule, ...]) -> Iterator[Finding]:
    for rule, s in insecure_settings(ctx.index, rules):
        ev = evidence_at(
            s.line.entry, s.line.data, s.line.offset, len(s.line.text.encode()), note=f"{s.key} = {s.value}"
        )
        yield check.finding(s.line.entry.path, rule.title, [ev], details={"sysctl": s.key, "value": s.value})


def _network_functions(ctx: CheckContext) -> Iterable[Finding]:
    return _sysctl_findings(ctx, SOURCE_ROUTE_CHECK, SOURCE_ROUTE)


def _icmp(ctx: CheckContext) -> Iterable[Finding]:
    return _sysctl_findings(ctx, ICMP_CHECK, ICMP)


_AUTOMOUNT = re.compile(
    r"(automount|auto_mount|anon_mount|\bmount\s+(-t\s+\S+\s+)?/dev/(sd|mmcblk|usb)|block\s+mount)", re.I
)


def _automount(ctx: CheckContext) -> Iterable[Finding]:
    idx = ctx.index
    for entry in text_files(
        idx,
        "/etc/mdev.conf",
        "/etc/udev/rules.d/*",
        "/lib/udev/rules.d/*",
        "/etc/hotplug.d/block/*",
        "/etc/hotplug/*",
    ):
        for line in config_lines(idx, entry):
            if _AUTOMOUNT.search(line.text) or (
                entry.name == "mdev.conf" and re.search(r"^(sd|mmcblk)\S*.*[@*$]", line.text)
            ):
                ev = evidence_at(
                    entry,
                    line.data,
                    line.offset,
                    len(line.text.encode()),
                    note="mounts removable media on hot-plug",
                )
                yield AUTOMOUNT_CHECK.finding(entry.path, "Removable media mounted automatically", [ev])
                break
    for entry in text_files(idx, "/etc/config/fstab"):
        for stype, _name, options in uci_sections(idx, entry):
            for opt in ("auto_mount", "anon_mount"):
                if stype == "global" and opt in options and options[opt][0] in ("1", "on", "true"):
                    line = options[opt][1]
                    ev = evidence_at(entry, line.data, line.offset, len(line.text.encode()), note=f"{opt} on")
                    yield AUTOMOUNT_CHECK.finding(entry.path, "Removable media mounted automatically", [ev])


SOURCE_ROUTE_CHECK = Check(
    id="os-network-functions",
    category="os-hardening",
    severity=Severity.MEDIUM,
    title="Kernel network functions not minimised",
    description="sysctl settings made at boot that accept IP source-routed packets or turn TCP SYN cookies off.",
    clause="4.3.3.1.5",
    references=REFS,
    false_positives="Settings later overridden at run time by a management daemon are not seen.",
    run=_network_functions,
)
ICMP_CHECK = Check(
    id="os-icmp-handling",
    category="os-hardening",
    severity=Severity.LOW,
    title="Insecure ICMP handling",
    description="sysctl settings made at boot that answer broadcast pings or accept ICMP redirects.",
    clause="4.3.3.1.2",
    references=REFS,
    false_positives="Settings later overridden at run time are not seen.",
    run=_icmp,
)
AUTOMOUNT_CHECK = Check(
    id="os-automount",
    category="os-hardening",
    severity=Severity.MEDIUM,
    title="Removable media mounted automatically",
    description="Hot-plug rules (mdev, udev, hotplug.d, OpenWrt block-mount auto_mount/anon_mount) mount USB or SD media without an operator.",
    clause="4.3.3.1.6",
    references=REFS,
    false_positives="A rule that mounts only an internal, fixed storage device.",
    run=_automount,
)

CHECKS = [SOURCE_ROUTE_CHECK, ICMP_CHECK, AUTOMOUNT_CHECK]
