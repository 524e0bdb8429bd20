"""CPE 2.3 formatted strings: split on unescaped colons, unescape the values."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

_FIELDS = 13  # "cpe", "2.3", part, vendor, product, version, update, edition, ...


@dataclass(frozen=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str  # "*" any, "-" not applicable, else a literal
    update: str

    @property
    def full_version(self) -> str:
        """NVD splits some releases over two fields: openssh 7.2 + update p1 is 7.2p1."""
        if self.update in ("*", "-", ""):
            return self.version
        return self.version + self.update


def _split(text: str) -> list[str]:
    if "\\" not in text:
        return text.split(":")
    parts, cur, escaped = [], [], False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == ":":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


@lru_cache(maxsize=1 << 14)
def parse_cpe(text: str | None) -> Cpe | None:
    """The fields Assay matches on, or None for anything that is not a CPE 2.3 string."""
    if not text or not text.startswith("cpe:2.3:"):
        return None
    parts = _split(text)
    if len(parts) < 6:
        return None
    parts += ["*"] * (_FIELDS - len(parts))
    return Cpe(
        part=parts[2],
        vendor=parts[3].lower(),
        product=parts[4].lower(),
        version=parts[5] or "*",
        update=parts[6] or "*",
    )


__all__ = ["Cpe", "parse_cpe"]
