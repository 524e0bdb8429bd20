"""known-backdoor: YARA signatures of documented vendor back doors (rules/*.yar).

Every rule carries meta `name` (the indicator), `cve` (empty when none was assigned), `references`
(space-separated advisory URLs), `description` and `severity`. Integer magics are matched as data in
both byte orders and as instruction immediates, and long strings also in fragments, so a magic
split across two literals or built in registers is still found. Strings named `$port*` are weak
indicators: a rule may only count them together with another of its strings (see Signatures).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yara

from assay.checks.base import Check, CheckContext, evidence_at
from assay.model import Evidence, Finding, Severity

RULES_DIR = Path(__file__).with_name("rules")
_SCANNED_TYPES = frozenset({"elf", "script", "text", "data"})
_DEFAULT_MAX_BYTES = 32 << 20
_MAX_EVIDENCE = 8
_TIMEOUT = 30  # seconds per file; a pathological file must not stall the scan
# Files this big go through the result cache: scanning them costs more than looking them up.
_KEEP_FROM = 256 << 10


# Strings named $port* are weak: a rule's condition only counts them together with one of its
# other strings. A scan first runs the gate (the rules without them); only a file where a gated
# rule's other strings appear is scanned with the whole set. Zero-led patterns such as the
# big-endian port word { 00 00 1C A1 } cost YARA more than all the other strings together.
_WEAK = re.compile(r"(?m)^\s*\$port\w*\s*=.*\n")
_RULE = re.compile(r"(?ms)^rule\s+(\w+)\s*\{\s*\n(.*?)^\}")
_STRINGS = re.compile(r"(?ms)^\s*strings:\s*\n(.*?)^\s*condition:")


def _sources(directory: Path) -> dict[str, str]:
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yar"))}


def compile_rules(directory: Path = RULES_DIR) -> yara.Rules:
    """All rule files, one YARA namespace per file."""
    return yara.compile(sources=_sources(directory))


def _gate(source: str) -> tuple[str, set[str]]:
    """The source with each rule that has weak strings cut down to its other strings, any of them;
    and the names of the rules so cut."""
    gated: set[str] = set()

    def cut(m: re.Match[str]) -> str:
        strings = _STRINGS.search(m.group(2))
        if strings is None or not _WEAK.search(strings.group(1)):
            return m.group(0)
        gated.add(m.group(1))
        strong = _WEAK.sub("", strings.group(1))
        return f"rule {m.group(1)}\n{{\n    strings:\n{strong}    condition:\n        any of them\n}}"

    return _RULE.sub(cut, source), gated


@dataclass(frozen=True)
class Signatures:
    """The compiled rules, and the gate that decides whether a file needs them all."""

    full: yara.Rules
    gate: yara.Rules
    gated: frozenset[str]  # namespace.rule of the rules cut down in the gate

    def match(self, data: bytes) -> list[Any]:
        """What full.match(data) gives, scanning with the whole set only when the gate says so."""
        hits = self.gate.match(data=data, timeout=_TIMEOUT)
        if any(f"{m.namespace}.{m.rule}" in self.gated for m in hits):
            return list(self.full.match(data=data, timeout=_TIMEOUT))
        return list(hits)


def cache_dir() -> Path:
    """Where compiled rules are kept between runs: $ASSAY_CACHE_DIR, else the XDG cache."""
    env = os.environ.get("ASSAY_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "assay"


def _load_compiled(path: Path, sources: dict[str, str]) -> yara.Rules:
    """The rules compiled from sources, through an on-disk file: compiling takes longer than
    scanning a whole image, loading a compiled set milliseconds."""
    try:
        return yara.load(str(path))
    except yara.Error:
        pass  # absent, or written by another YARA build: compile afresh
    rules = yara.compile(sources=sources)
    tmp = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        os.close(fd)
        rules.save(tmp)
        os.replace(tmp, path)
    except (OSError, yara.Error):
        if tmp is not None:  # a read-only home only costs the compile next time
            Path(tmp).unlink(missing_ok=True)
    return rules


def load_rules(directory: Path = RULES_DIR) -> Signatures:
    """The rules and their gate, each compiled once and kept in cache_dir(), keyed by the sources
    and YARA's version."""
    full = _sources(directory)
    gate: dict[str, str] = {}
    gated: set[str] = set()
    for namespace, source in full.items():
        gate[namespace], cut = _gate(source)
        gated.update(f"{namespace}.{rule}" for rule in cut)
    compiled = []
    for kind, sources in (("", full), ("gate-", gate)):
        h = hashlib.sha256(yara.__version__.encode())
        for namespace, source in sources.items():
            h.update(namespace.encode() + b"\0" + source.encode() + b"\0")
        compiled.append(
            _load_compiled(cache_dir() / f"known-backdoor-{kind}{h.hexdigest()[:24]}.yarc", sources)
        )
    return Signatures(compiled[0], compiled[1], frozenset(gated))


def _matched(match: Any) -> list[tuple[str, int, int]]:
    """(identifier, offset, length) of every instance: longest (most specific) first."""
    out: list[tuple[str, int, int]] = []
    for s in match.strings:
        for inst in s.instances:
            out.append((s.identifier, inst.offset, inst.matched_length))
    return sorted(out, key=lambda t: (-t[2], t[1]))


def _severity(value: object) -> Severity:
    try:
        return Severity(str(value))
    except ValueError:
        return Severity.CRITICAL


def doc_appendix() -> str:
    """The signature catalogue for docs/checks.md."""
    rows = ["| signature | CVE | severity | what it catches | references |", "|---|---|---|---|---|"]
    for rule in sorted(compile_rules(), key=lambda r: r.meta.get("name", r.identifier)):
        m = rule.meta
        refs = " ".join(f"<{u}>" for u in str(m.get("references", "")).split())
        rows.append(
            f"| `{m.get('name', rule.identifier)}` | {m.get('cve') or '-'} | {m.get('severity', '')} "
            f"| {str(m.get('description', '')).replace('|', '/')} | {refs} |"
        )
    return "\n".join(rows) + "\n"


def _matches(rules: Signatures, data: bytes) -> list[dict[str, Any]]:
    """The rules that matched with at least one string, as JSON data (kept in the result cache)."""
    out: list[dict[str, Any]] = []
    for m in rules.match(data):
        hits = _matched(m)
        if hits:  # a condition on the file alone is never evidence enough
            out.append({"rule": m.rule, "namespace": m.namespace, "meta": dict(m.meta), "hits": hits})
    return out


def run(ctx: CheckContext) -> Iterator[Finding]:
    rules = load_rules()
    cap = int(ctx.options.get("known_backdoor_max_bytes", _DEFAULT_MAX_BYTES))
    for entry in ctx.index.files():
        if entry.filetype not in _SCANNED_TYPES or not entry.size or entry.size > cap:
            continue
        data = ctx.index.read(entry)
        try:
            if entry.size >= _KEEP_FROM:
                matches = ctx.per_file(CHECK.id, entry, functools.partial(_matches, rules, data))
            else:
                matches = _matches(rules, data)
        except yara.TimeoutError:
            continue  # not kept either: the next scan tries again
        for m in matches:
            meta = m["meta"]
            hits = [(str(ident), int(off), int(length)) for ident, off, length in m["hits"]]
            name = str(meta.get("name", m["rule"]))
            cve = str(meta.get("cve", "")) or None
            evidence: list[Evidence] = [
                evidence_at(
                    entry,
                    data,
                    off,
                    length,
                    note=f"{m['rule']} {ident}",
                    details={"indicator": name},
                )
                for ident, off, length in hits[:_MAX_EVIDENCE]
            ]
            title = f"Known back door {name}" + (f" ({cve})" if cve else "")
            yield CHECK.finding(
                entry.path,
                title,
                evidence,
                severity=_severity(meta.get("severity", "critical")),
                references=str(meta.get("references", "")).split(),
                details={
                    "indicator": name,
                    "cve": cve,
                    "rule": f"{m['namespace']}.{m['rule']}",
                    "description": str(meta.get("description", "")),
                    "matched": [{"string": i, "offset": o, "length": n} for i, o, n in hits[:_MAX_EVIDENCE]],
                    "matches": len(hits),
                },
            )


CHECK = Check(
    id="known-backdoor",
    category="known-backdoor",
    severity=Severity.CRITICAL,
    title="Documented vendor back door",
    description=(
        "YARA signatures (yara-python) for published vendor back doors, each naming the back door, its "
        "CVE where one exists and the advisories: Sercomm TCP/32764 'ScMM' magic, Tenda w302r_mfg "
        "(UDP 7329), D-Link xmlset_roodkcableoj28840ybtide, Netis/Netcore igdmptd (UDP 53413), Juniper "
        "ScreenOS, FortiOS FGTAbc11, Zyxel zyfwp, Xiongmai 9530 OpenTelnet, Hikvision auth token, ZTE "
        "Zte521 and web_shell_cmd.gch, Huawei telecomadmin, TP-Link start_art and tddp, Netgear "
        "telnetenable. Magics are matched as strings, split strings, and 32-bit constants in either "
        "byte order or as MIPS/ARM/Thumb/AArch64/PowerPC immediates; weak indicators (a port, a common "
        "word) only count together with a specific one. ELF, script, text and data files up to 32 MiB "
        "are scanned; evidence is every matched string with its offset."
    ),
    clause="4.2.3.4.1.1",
    references=(
        "https://cwe.mitre.org/data/definitions/912.html",
        "https://cwe.mitre.org/data/definitions/798.html",
    ),
    false_positives=(
        "A 4-byte magic such as 'ScMM' can occur by chance in a large ELF; a firmware that merely "
        "documents or blocks a back door (e.g. a firewall rule naming the port next to the string) "
        "matches too. Check the matched offsets."
    ),
    run=run,
)
