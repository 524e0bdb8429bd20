"""The declarative component catalogue (signatures/components.toml), compiled once per process."""

from __future__ import annotations

import fnmatch
import posixpath
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

import yara  # type: ignore[import-not-found]

# A dotted version as upstream projects print it: 1.35.0, 2.36, 1.0.2k, 4.2.8p15.
_V = r"(?P<v>[0-9]+\.[0-9]+(?:\.[0-9]+){0,2}(?:[a-z](?![a-z])|p[0-9]+)?)"


@dataclass(frozen=True)
class Signature:
    name: str
    vendor: str
    product: str
    part: str
    purl_type: str
    files: tuple[str, ...]
    packages: tuple[str, ...]
    pattern_sources: tuple[str, ...]  # with {V} expanded
    hinted_sources: tuple[str, ...]
    markers: tuple[bytes, ...]
    filename_version: tuple[re.Pattern[str], ...]
    version_form: str | None
    excluded_by: tuple[str, ...] = ()
    release_ids: tuple[str, ...] = ()

    # Compiled on first use: most signatures never match, and compiling them all costs more
    # than a whole inventory of a small image.
    @cached_property
    def patterns(self) -> tuple[re.Pattern[bytes], ...]:
        return tuple(re.compile(p.encode("latin-1"), re.S) for p in self.pattern_sources)

    @cached_property
    def hinted(self) -> tuple[re.Pattern[bytes], ...]:
        return tuple(re.compile(p.encode("latin-1"), re.S) for p in self.hinted_sources)

    def matches_file(self, path: str) -> bool:
        base_rx, path_rx = _file_regexes(self.files)
        return bool(
            (base_rx and base_rx.match(posixpath.basename(path))) or (path_rx and path_rx.match(path))
        )

    def normalise(self, raw: str) -> str:
        if self.version_form == "int-mmnnpp" and raw.isdigit() and len(raw) == 5:
            return f"{int(raw[0])}.{int(raw[1:3])}.{int(raw[3:5])}"
        if self.version_form == "dotted-prefix" and (m := re.match(r"[0-9]+(?:\.[0-9]+){1,2}", raw)):
            return m.group(0)  # 3.10.14-p112871-1-dd43e61 -> 3.10.14
        return raw

    def cpe(self, version: str | None) -> str:
        return (
            f"cpe:2.3:{self.part}:{self.vendor}:{self.product}:{cpe_escape(version) if version else '*'}"
            ":*:*:*:*:*:*:*"
        )

    def purl(self, version: str | None) -> str:
        return generic_purl(self.name, version)


@dataclass(frozen=True)
class Catalogue:
    signatures: tuple[Signature, ...]
    rules: Any  # compiled yara rules over every signature's unhinted patterns
    # yara string identifier -> (signature index, pattern index)
    rule_map: dict[str, tuple[int, int]]
    all_files: tuple[str, ...] = ()  # every signature's file globs

    def by_name(self, name: str) -> Signature | None:
        for sig in self.signatures:
            if sig.name == name:
                return sig
        return None

    def by_release(self, os_id: str) -> Signature | None:
        for sig in self.signatures:
            if os_id in sig.release_ids:
                return sig
        return None

    def by_package(self, package: str) -> Signature | None:
        for sig in self.signatures:
            if package in sig.packages:
                return sig
        return None

    def hinted_for(self, path: str) -> list[Signature]:
        # The union of every glob screens out the many files no signature names.
        base_rx, path_rx = _file_regexes(self.all_files)
        if not ((base_rx and base_rx.match(posixpath.basename(path))) or (path_rx and path_rx.match(path))):
            return []
        return [s for s in self.signatures if s.files and s.matches_file(path)]


@lru_cache(maxsize=512)
def _file_regexes(globs: tuple[str, ...]) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    """One regex for the base-name globs and one for the full-path globs (fnmatch, anchored)."""

    def union(parts: list[str]) -> re.Pattern[str] | None:
        return re.compile("|".join(fnmatch.translate(g) for g in parts)) if parts else None

    return union([g for g in globs if "/" not in g]), union([g for g in globs if "/" in g])


def cpe_escape(value: str) -> str:
    # CPE 2.3 formatted strings escape every character outside [A-Za-z0-9._-].
    return "".join(c if c.isalnum() or c in "._-" else "\\" + c for c in value)


def generic_purl(name: str, version: str | None) -> str:
    from packageurl import PackageURL

    return str(PackageURL(type="generic", name=name, version=version))


def _to_yara(regex: str) -> str:
    # yara's regex dialect has no named or non-capturing groups; '/' delimits the string.
    out = regex.replace("(?![a-z])", "").replace("(?P<v>", "(").replace("(?:", "(")
    out = re.sub(r"(?<!\\)/", r"\\/", out)
    # Nor mixed greedy/lazy quantifiers: yara only locates a match, Python re extracts it.
    out = re.sub(r"([}*+])\?", r"\1", out)
    return out


def _compile(entry: dict[str, Any]) -> Signature:
    def expand(p: str) -> str:
        return p.replace("{V}", _V)

    return Signature(
        name=entry["name"],
        vendor=entry.get("vendor", entry["name"]),
        product=entry.get("product", entry["name"]),
        part=entry.get("part", "a"),
        purl_type=entry.get("purl_type", "generic"),
        files=tuple(entry.get("files", ())),
        packages=tuple(entry.get("packages", ())),
        pattern_sources=tuple(expand(p) for p in entry.get("patterns", ())),
        hinted_sources=tuple(expand(p) for p in entry.get("hinted", ())),
        markers=tuple(m.encode() for m in entry.get("markers", ())),
        filename_version=tuple(re.compile(p) for p in entry.get("filename_version", ())),
        version_form=entry.get("version_form"),
        excluded_by=tuple(entry.get("excluded_by", ())),
        release_ids=tuple(entry.get("release_ids", ())),
    )


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Parse and compile the catalogue; cached because it never changes within a process."""
    text = resources.files("assay.inventory").joinpath("signatures/components.toml").read_text("utf-8")
    entries = tomllib.loads(text)["component"]
    sigs = tuple(_compile(e) for e in entries)
    rule_map: dict[str, tuple[int, int]] = {}
    strings: list[str] = []
    for si, sig in enumerate(sigs):
        for pi, source in enumerate(sig.pattern_sources):
            ident = f"$c{si}_{pi}"
            rule_map[ident] = (si, pi)
            strings.append(f"{ident} = /{_to_yara(source)}/")
    # One rule with many strings compiles ~100x faster than one rule per string.
    rules = yara.compile(
        source="rule inventory { strings: " + " ".join(strings) + " condition: any of them }"
    )
    return Catalogue(sigs, rules, rule_map, tuple(sorted({g for s in sigs for g in s.files})))


__all__ = ["Catalogue", "Signature", "cpe_escape", "generic_purl", "load_catalogue"]
