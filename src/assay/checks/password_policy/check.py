"""Password policy where the configuration shows one (TS 33.117 4.2.3.4.3.x)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from assay.analysis.configfiles import ConfigLine, config_lines, text_files
from assay.checks.base import Check, CheckContext, evidence_at
from assay.index import FileIndex
from assay.model import Finding, Severity

REFS = ("https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",)
MIN_LENGTH = 8  # TS 33.117 4.2.3.4.3.1: at least 8 characters


@dataclass(frozen=True)
class PolicySetting:
    name: str  # min_length, max_age, complexity
    value: int
    line: ConfigLine


_PAM_MINLEN = re.compile(r"pam_(?:pwquality|cracklib|passwdqc)\.so.*\bminlen=(\d+)")
_PAM_MIN = re.compile(r"pam_passwdqc\.so.*\bmin=\S*?,?(\d+)$")


def policy_settings(index: FileIndex) -> Iterator[PolicySetting]:
    for e in text_files(index, "/etc/login.defs"):
        for line in config_lines(index, e):
            words = line.text.split()
            if len(words) == 2 and words[1].lstrip("-").isdigit():
                if words[0] == "PASS_MIN_LEN":
                    yield PolicySetting("min_length", int(words[1]), line)
                elif words[0] == "PASS_MAX_DAYS":
                    yield PolicySetting("max_age", int(words[1]), line)
    for e in text_files(index, "/etc/security/pwquality.conf", "/etc/security/pwquality.conf.d/*"):
        for line in config_lines(index, e):
            key, _, value = (p.strip() for p in line.text.partition("="))
            if key == "minlen" and value.isdigit():
                yield PolicySetting("min_length", int(value), line)
            elif key == "minclass" and value.isdigit():
                yield PolicySetting("complexity", int(value), line)
    for e in text_files(index, "/etc/pam.d/*"):
        for line in config_lines(index, e):
            m = _PAM_MINLEN.search(line.text)
            if m:
                yield PolicySetting("min_length", int(m.group(1)), line)


def _run(ctx: CheckContext) -> Iterable[Finding]:
    for s in policy_settings(ctx.index):
        weak = (s.name == "min_length" and s.value < MIN_LENGTH) or (
            s.name == "max_age" and (s.value <= 0 or s.value > 99998)
        )
        if not weak:
            continue
        what = (
            f"minimum password length {s.value} (< {MIN_LENGTH})"
            if s.name == "min_length"
            else "passwords never expire"
        )
        ev = evidence_at(s.line.entry, s.line.data, s.line.offset, len(s.line.text.encode()), note=what)
        yield CHECK.finding(
            s.line.entry.path, f"Weak password policy: {what}", [ev], details={s.name: s.value}
        )


CHECK = Check(
    id="password-policy-weak",
    category="password-policy",
    severity=Severity.MEDIUM,
    title="Weak password policy",
    description="login.defs, pwquality or PAM settings that allow passwords shorter than 8 characters.",
    clause="4.2.3.4.3.1",
    references=REFS,
    false_positives="Policies enforced by the web UI's own code rather than by the OS configuration are not seen.",
    run=_run,
)
