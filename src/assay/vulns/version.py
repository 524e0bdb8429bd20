"""Version ordering for the forms embedded software really prints.

packaging.version (PEP 440) rejects most of them: OpenSSL letter releases (1.0.2k), OpenSSH
and NTP patch levels (9.2p1, 4.2.8p15), opkg/Debian revisions (1.36.1-r2, 1.2.13.dfsg-1),
epochs (1:2.3) and date versions (2023.01). So the key is built by hand:

* ``epoch:`` is split off first, then a trailing ``-N`` / ``-rN`` package revision;
* the rest is cut into runs of digits and letters; zeros that end the numeric part are
  dropped (1.0 == 1.0.0), and repack markers (dfsg, ds, repack) are ignored;
* each run gets a rank: pre-release words (dev < alpha < beta < pre < rc, and ``~``) sort
  before the end of the version, other letters (1.0.2k, 2.4.7p1) after it, numbers last.

Every key is a tuple of (rank, value) pairs closed by an END pair, so comparing keys is plain
tuple comparison: a total order (transitive and antisymmetric by construction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache, total_ordering

_PRE = {"dev": 0, "snapshot": 0, "alpha": 1, "a": 1, "beta": 2, "b": 2, "pre": 3, "preview": 3, "rc": 4}
_IGNORED = {"dfsg", "ds", "repack", "orig"}
_RANK_PRE, _RANK_END, _RANK_WORD, _RANK_NUM = 0, 1, 2, 3
_END = (_RANK_END, 0, "")
# opkg "-r2", Debian "-1" or "-1~deb12u1": a revision starts with a digit (or r and a digit).
_REVISION = re.compile(r"-(r?[0-9][0-9A-Za-z.+~]*)$")
_TOKEN = re.compile(r"[0-9]+|[A-Za-z]+|~")

Token = tuple[int, int, str]


def _tokens(text: str) -> tuple[Token, ...]:
    out: list[Token] = []
    raw = _TOKEN.findall(text)
    for i, tok in enumerate(raw):
        if tok.isdigit():
            out.append((_RANK_NUM, int(tok), ""))
        elif tok == "~":
            out.append((_RANK_PRE, -1, ""))
        else:
            word = tok.lower()
            if word in _IGNORED:
                continue
            # A lone 'a'/'b' right after a number is a letter release (1.0.2a), not alpha/beta.
            pre = word in _PRE and not (len(word) == 1 and i > 0 and raw[i - 1].isdigit())
            out.append((_RANK_PRE, _PRE[word], "") if pre else (_RANK_WORD, 0, word))
    out.append(_END)
    # Zeros that end the numeric part carry nothing: 1.0 == 1.0.0, and 3.0.0-rc1 == 3-rc1 < 3.
    kept: list[Token] = []
    for tok in reversed(out):
        if tok == (_RANK_NUM, 0, "") and (not kept or kept[-1][0] != _RANK_NUM):
            continue
        kept.append(tok)
    return tuple(reversed(kept))


@total_ordering
@dataclass(frozen=True)
class Version:
    """A parsed version; compare with <, ==, or via ``key``."""

    text: str
    epoch: int = 0
    upstream: str = ""
    revision: str | None = None
    key: tuple[int, tuple[Token, ...], tuple[Token, ...]] = field(default=(0, (), ()), compare=False)

    @classmethod
    def parse(cls, text: str) -> Version:
        s = text.strip()
        epoch = 0
        m = re.match(r"([0-9]+):(.+)$", s)
        if m:
            epoch, s = int(m.group(1)), m.group(2)
        revision = None
        m = _REVISION.search(s)
        if m and re.search(r"[0-9]", s[: m.start()]):
            revision, s = m.group(1), s[: m.start()]
        if s[:1] in ("v", "V") and s[1:2].isdigit():
            s = s[1:]
        rev_key = _tokens(revision) if revision else (_END,)
        return cls(text, epoch, s, revision, (epoch, _tokens(s), rev_key))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __lt__(self, other: Version) -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.text


def compare(a: str, b: str) -> int:
    """-1, 0 or 1 as a sorts before, with or after b."""
    ka, kb = Version.parse(a).key, Version.parse(b).key
    return (ka > kb) - (ka < kb)


@lru_cache(maxsize=1 << 16)
def compare_to_bound(version: str, bound: str) -> int:
    """Compare a component's version with a range bound from a feed.

    Feeds rarely carry packaging epochs or revisions; a component's own ``-r2`` or ``1:`` must
    not push it past an upstream bound (1.36.1-r2 is still "1.36.1 including" affected).
    """
    v, b = _parse(version), _parse(bound)
    if b.revision is None and v.revision is not None:
        v = _parse(f"{v.epoch}:{v.upstream}" if v.epoch else v.upstream)
    if b.epoch == 0 and v.epoch:
        v = _parse(v.upstream + (f"-{v.revision}" if v.revision else ""))
    return (v.key > b.key) - (v.key < b.key)


# Matching compares a few versions against many bounds that repeat across CVEs.
_parse = lru_cache(maxsize=1 << 16)(Version.parse)


__all__ = ["Version", "compare", "compare_to_bound"]
