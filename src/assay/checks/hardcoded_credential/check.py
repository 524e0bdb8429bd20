"""hardcoded-credential: user names and passwords compiled into programs or written in scripts.

Binaries: functions that reference a login/password prompt and compare input against a literal,
either through strcmp-like imports (arguments resolved to .rodata strings, literals composed from
fragments with strcpy/strcat/sprintf, or strings built on the stack) or inline (integer compares of
buffer bytes, as compilers emit for memcmp/strcmp with constants). Scripts: shell, CGI, Lua and
PHP code testing a password-like variable against a literal.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from assay.analysis.binary import (
    COMPARE_FUNCTIONS,
    CompareSite,
    ElfBinary,
    Focus,
    FunctionFacts,
    StringRef,
    analyze,
    call_sites,
    elf_cache,
    referencing_functions,
)
from assay.checks.base import Check, CheckContext, evidence_at
from assay.index import FileEntry
from assay.model import Finding, Severity

_MAX_ELF = 16 << 20
_MAX_SCRIPT = 512 << 10
# A small binary with a login prompt is analysed even if every compare is inlined.
_SMALL_ELF = 512 << 10
# Above this, huge functions are walked in windows (see _focus), small ones whole.
_MID_ELF = 128 << 10
_MAX_INSNS = 300_000
# Functions bigger than this are walked in windows: the code before each compare call (its
# arguments), a little after (MIPS loads $t9 before the call), other compares this close.
_BIG_FUNCTION = 4096
_WINDOW = 384
_AFTER = 48
_NEIGHBOURS = 2048
# Estimated seconds of a binary's part (split), measured on the corpus: a binary that is not worth
# disassembling costs its read and a substring search; big ones up to ~0.1 s per MB.
_SECONDS_PER_BINARY = 0.002
_SECONDS_PER_BYTE = 8e-8
_LOOKUP_SECONDS = 0.0005
_COMPOSE_FUNCTIONS = frozenset(
    {"strcpy", "stpcpy", "strncpy", "memcpy", "memmove", "strcat", "strncat", "sprintf", "snprintf"}
    | {"__strcpy_chk", "__stpcpy_chk", "__memcpy_chk", "__strcat_chk", "__sprintf_chk", "__snprintf_chk"}
)

_CONTEXT_WORDS = (b"passw", b"passcode", b"login", b"username", b"user name")
_CONTEXT_BOUNDED = re.compile(rb"\buser\b|\bauth")
_CONTEXT = re.compile(r"(?i)passw|passcode|login|user ?name|\buser\b|\bauth\b|\bpwd\b|\bpass\b")
_PROMPT = re.compile(r"(?i)passw|passcode|login|user ?name")
# Every _CONTEXT match holds one of these stems; plain literals scan lowered bytes ten times faster.
_STEMS = re.compile(rb"pass|login|user|auth|pwd")
_IMPORTS = re.compile(rb"\0(?:str(?:n)?(?:case)?cmp|memcmp|bcmp|strstr|strcasestr)\0")

_TECH_TOKEN = re.compile(
    r"(?i)^(?:sha|md|utf|ucs|base|x|ipv|http|tls|ssl|des|aes|rc|crc|iso|win|dh|ecdh|ecdsa|nistp|secp|"
    r"hmac|curve|ed|rsa|dss|arcfour|blowfish|camellia|chacha|poly|gcm|cbc|ctr|zlib|gzip|bzip|lz|xz|"
    r"mips|arm|armv|i|amd|aarch|ppc|riscv|eth|wlan|ra|br|vlan|tty|usb|mtd|sd|mmc|lo|pts|vt|v)"
    r"[-_.]?\d+"
)
_DOMAIN = re.compile(r"@[\w-]+\.[a-z]{2,}")
# What _password_like can accept at all: a cheap first cut over thousands of library strings.
# The NUL-terminated strings (as strings_in reads them) of 6-64 bytes other than blanks, %, /, =
# and backslash, holding a digit or a capital; found in one regex pass over a section.
_SECRET_SHAPE = re.compile(
    rb"(?<![\x20-\x7e\t\n\r])[\x21-\x24\x26-\x2e\x30-\x3c\x3e-\x5b\x5d-\x7e]{6,64}(?=\0)"
)
_DIGIT_OR_CAPITAL = re.compile(rb"[0-9A-Z]")
_WORDLIKE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)+$")
_USERLIKE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{2,31}$")
# A product model (capitals, a number, a capital suffix) is compared to tell hardware apart.
_MODEL = re.compile(r"^[A-Z]{2,4}\d{2,5}[A-Z]{0,3}$")
# Protocol tokens and labels: word pieces, or a status number then words ("100-Continue",
# "Keep-Alive", Samba's "Primary:Kerberos"). A word then a number ("Admin-2020") stays a possible
# password.
_TOKEN = re.compile(r"^(?:\d+|[A-Za-z]+)(?:[-_.:][A-Za-z]+)+$")
_RUN = re.compile(r"(.)\1{3}")
# Numeric conversions mark a log or status line ("... of UID %d"), not a prompt.
_NUMERIC_FORMAT = re.compile(r"%[-+ #0-9.]*(?:l|ll|h|z)?[diuxX]")


def _table_like(s: str) -> bool:
    """Bytes of a lookup table or packed descriptor: long runs or few distinct characters."""
    return bool(_RUN.search(s)) or (len(s) >= 10 and len(set(s)) * 2 < len(s))


def _password_like(s: str) -> bool:
    """A literal that reads like a secret rather than a keyword, option, path or format."""
    if not 4 <= len(s) <= 64 or any(c.isspace() for c in s):
        return False
    if _DOMAIN.search(s):
        return False
    if s[0] in "-+/.<%&|;:,=([{$#" or s[-1] in ":;,=-._" or "%" in s or "/" in s or "=" in s or "\\" in s:
        return False
    if _TECH_TOKEN.match(s) or _WORDLIKE.match(s) or _TOKEN.match(s) or _MODEL.match(s):
        return False
    if _table_like(s):
        return False
    letters = sum(c.isalpha() for c in s)
    digits = sum(c.isdigit() for c in s)
    symbols = len(s) - letters - digits
    upper = any(c.isupper() for c in s)
    lower = any(c.islower() for c in s)
    if letters == 0:
        return False
    if symbols:
        if all(c in "_-." for c in s if not c.isalnum()) and not (digits and upper and lower):
            return False  # identifiers, version tags and magic labels, not secrets
        return len(s) >= 6 and (digits > 0 or (upper and lower))
    # letters and digits only: require a real mix, not a word with a version suffix
    return len(s) >= 6 and digits >= 2 and letters >= 3 and (upper or not s[-digits:].isdigit())


# A function that compares its input against this many distinct literals is a keyword dispatcher
# (a configuration parser, a command table): hostapd's has over 400, sshd's key-option parser 9;
# the credential checks seen so far compare against 2-5.
_DISPATCH_LITERALS = 8


_CAMEL_WORD = re.compile(r"[A-Z][a-z]{2,}")
_CAMEL = re.compile(r"^(?:[A-Z][a-z]{2,}|\d+)+$")


def _strong_secret(s: str) -> bool:
    """What still reads as a secret among a dispatcher's keywords: a symbol other than a word
    separator, or upper and lower case and digits in one piece that is not capitalised words
    and numbers. Option names such as "ieee80211w", "permit-X11-forwarding" and "Error404File"
    are not."""
    if any(not c.isalnum() and c not in "-_." for c in s):
        return True
    if _CAMEL.match(s) and len(_CAMEL_WORD.findall(s)) >= 2:
        return False
    return (
        s.isalnum()
        and any(c.isupper() for c in s)
        and any(c.islower() for c in s)
        and any(c.isdigit() for c in s)
    )


def _user_like(s: str) -> bool:
    # option values ("enabled", "auto") are compared next to secrets but name no account
    return (
        bool(_USERLIKE.match(s))
        and s.lower() not in _NOT_SECRET
        and not _password_like(s)
        and not _TECH_TOKEN.match(s)
    )


def _hex(n: int) -> str:
    return f"0x{n:x}"


# ---------------------------------------------------------------------------
# ELF binaries


def _worth_disassembling(entry: FileEntry, data: bytes) -> bool:
    # Any of passw, passcode, login, user ?name, \buser\b, \bauth in any case: substring tests on
    # the lowered bytes first, a regex only for the words that need boundaries (4x faster than one
    # case-insensitive regex)
    low = data.lower()
    if not any(word in low for word in _CONTEXT_WORDS) and not _CONTEXT_BOUNDED.search(low):
        return False
    return bool(_IMPORTS.search(data)) or len(data) <= _SMALL_ELF


def _focus(prompt_refs: list[int], compares: list[int], find_keys: Callable[[], list[int]]) -> Focus:
    """Windows of a huge function to walk: compares with a key (secret-like string, composing
    call) just before them, the compares next to those (a user name check), the prompt references."""

    found: list[list[int]] = []  # the keys, worked out for the first huge function only

    def within(points: list[int], lo: int, hi: int) -> list[int]:
        return points[bisect.bisect_left(points, lo) : bisect.bisect_left(points, hi)]

    def focus(start: int, end: int) -> list[tuple[int, int]] | None:
        if end - start <= _BIG_FUNCTION:
            return None
        calls = within(compares, start, end)
        if not calls:
            return []
        if not found:
            found.append(find_keys())
        keys = found[0]
        keyed = [c for c in calls if within(keys, c - _WINDOW, c + _AFTER)]
        if not keyed:
            return []
        near = [c for c in calls if any(abs(c - k) <= _NEIGHBOURS for k in keyed)]
        spans = [(max(start, c - _WINDOW), min(end, c + _AFTER)) for c in near]
        spans += [(max(start, p - 64), min(end, p + 64)) for p in within(prompt_refs, start, end)]
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(spans):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
            else:
                merged.append((lo, hi))
        return merged

    return focus


def _is_prompt(text: bytes) -> bool:
    """A login prompt, form field or message; not a long help text that merely mentions users."""
    t = text.decode("latin-1")
    if _NUMERIC_FORMAT.search(t):
        return False
    if len(t) <= 80 and _PROMPT.search(t):
        return True
    return len(t) <= 24 and bool(_CONTEXT.search(t))


def _has_context(fn: FunctionFacts) -> bool:
    return any(_is_prompt(s.text) for s in fn.strings)


_PRINTABLE = np.zeros(256, dtype=bool)
_PRINTABLE[[9, 10, 13, *range(0x20, 0x7F)]] = True


def _prompt_strings(b: ElfBinary, sections: list[str]) -> list[StringRef]:
    """The prompts among a binary's strings, found from their key words rather than by reading
    every string: the same strings as filtering strings_in() with _is_prompt, far faster."""
    out: list[StringRef] = []
    for sec, d in b.section_bytes(sections):
        hits = [m.start() for m in _STEMS.finditer(d.lower())]
        if not hits:
            continue
        # a string is the run of printable bytes around a key word, ended by a NUL
        breaks = np.flatnonzero(~_PRINTABLE[np.frombuffer(d, dtype=np.uint8)])
        after = np.searchsorted(breaks, hits)
        done = -1
        for i in np.unique(after[after < len(breaks)]).tolist():
            start = int(breaks[i - 1]) + 1 if i else 0
            end = int(breaks[i])
            if end == done:
                continue
            done = end
            if d[end] != 0 or end - start < 3:
                continue
            ref = StringRef(sec.addr + start, sec.offset + start, d[start:end])
            if _is_prompt(ref.text):
                out.append(ref)
    return out


def _secret_shaped(b: ElfBinary, sections: list[str]) -> Iterator[StringRef]:
    """The strings of these sections that _SECRET_SHAPE admits: the same as filtering
    strings_in(), without building a reference for every string."""
    for sec, d in b.section_bytes(sections):
        for m in _SECRET_SHAPE.finditer(d):
            if _DIGIT_OR_CAPITAL.search(m.group()):
                yield StringRef(sec.addr + m.start(), sec.offset + m.start(), m.group())


_Pairs = list[tuple[FunctionFacts, list[CompareSite], bool]]


def _credential_compares(data: bytes, b: ElfBinary) -> _Pairs:
    """(function, [user compare,] password compare, has_user) for each secret compared in a
    function that shows a login or password prompt."""
    rodata = [s.name for s in b.sections if s.alloc and not s.execute and not s.nobits and not s.write]
    prompts = _prompt_strings(b, rodata)
    if not prompts:
        return []
    sites = referencing_functions(b, prompts)
    if not sites:
        return []
    # Small programs: every prompt-referencing function, for inlined compares too. Big programs and
    # libraries: only functions that call a compare import. From mid-sized programs up, huge
    # functions only around the compares that can see a secret-like string or a string being put
    # together.
    compare_calls = None
    focus = None
    if len(data) > _MID_ELF:
        # one scan of the code for both kinds of call
        both = call_sites(b, COMPARE_FUNCTIONS | _COMPOSE_FUNCTIONS)
        calls = sorted(a for a, n in both if n in COMPARE_FUNCTIONS)
        composing = [a for a, n in both if n in _COMPOSE_FUNCTIONS]
        if len(data) > _SMALL_ELF:
            if not calls:
                return []
            compare_calls = calls

        def keys() -> list[int]:
            secret_like = [s for s in _secret_shaped(b, rodata) if _password_like(s.text.decode("latin-1"))]
            found = referencing_functions(b, secret_like)
            found.update(composing)
            return sorted(found)

        focus = _focus(sorted(sites), calls, keys)
    facts = analyze(
        b,
        want_function=lambda f: bool(f.compares) and _has_context(f),
        max_instructions=_MAX_INSNS,
        only=sites,
        require=compare_calls,
        focus=focus,
    )
    out: _Pairs = []
    for fn in facts:
        compares = sorted(fn.compares, key=lambda c: c.address)
        chunks = dict.fromkeys(c.literal.text.decode("latin-1") for c in compares if c.callee == "inline")
        inline = "".join(chunks)
        if any(_RUN.search(t) for t in chunks) or (len(inline) >= 16 and len(set(inline)) * 3 < len(inline)):
            # an inlined compare against table bytes is cut into word-sized chunks: judge them together
            compares = [c for c in compares if c.callee != "inline"]
        texts = [c.literal.text.decode("latin-1") for c in compares]
        dispatcher = len(set(texts)) >= _DISPATCH_LITERALS
        secrets = [
            i for i, t in enumerate(texts) if _password_like(t) and (not dispatcher or _strong_secret(t))
        ]
        used: set[int] = set()
        reported: set[tuple[str, ...]] = set()
        for i in secrets:
            user_i = _pick_user(texts, i, used)
            pair = [compares[user_i], compares[i]] if user_i is not None else [compares[i]]
            used.update({i} | ({user_i} if user_i is not None else set()))
            key = tuple(texts[j] for j in ([user_i, i] if user_i is not None else [i]))
            if key not in reported:  # the same check made twice in one function is one finding
                reported.add(key)
                out.append((fn, pair, user_i is not None))
    return out


def _pick_user(texts: list[str], secret: int, used: set[int]) -> int | None:
    before = [j for j in range(secret - 1, -1, -1) if j not in used and _user_like(texts[j])]
    if before:
        return before[0]
    after = [j for j in range(secret + 1, len(texts)) if j not in used and _user_like(texts[j])]
    return after[0] if after else None


def _binary_results(data: bytes, b: ElfBinary) -> list[dict[str, Any]]:
    """Each credential compare of a binary as JSON data, which depends on its bytes alone (so it
    can be kept in the result cache): the literals, where their bytes lie, the prompts seen."""
    out: list[dict[str, Any]] = []
    for fn, pair, has_user in _credential_compares(data, b):
        literals: list[dict[str, Any]] = []
        spans: list[list[Any]] = []  # [offset, length, note, index into literals]
        for site in pair:
            lit = site.literal
            role = "user" if has_user and site is pair[0] else "password"
            info: dict[str, Any] = {
                "role": role,
                "literal": lit.text.decode("latin-1"),
                "how": lit.how,
                "function": _hex(fn.start),
                "compare_at": _hex(site.address),
                "compare": site.callee,
            }
            if lit.pieces:
                info["pieces"] = [{"text": p.text.decode("latin-1"), "offset": p.offset} for p in lit.pieces]
            if lit.how == "rodata" or (lit.pieces and lit.how == "composed"):
                spans += [[p.offset, len(p.text), f"{role} literal", len(literals)] for p in lit.pieces]
            else:
                # inline or stack-built: the bytes live in the instructions at this offset
                size = 4 if b.arch in ("mips", "arm", "aarch64") else 8
                spans.append([lit.offset, size, f"{role} literal built in code", len(literals)])
            literals.append(info)
        prompts = sorted(
            {
                s.text.decode("latin-1").strip()[:40]
                for s in fn.strings
                if _CONTEXT.search(s.text.decode("latin-1"))
            }
        )
        out.append(
            {
                "function": _hex(fn.start),
                "user": pair[0].literal.text.decode("latin-1") if has_user else None,
                "password": pair[-1].literal.text.decode("latin-1"),
                "literals": literals,
                "spans": spans,
                "context_strings": prompts[:6],
                "arch": b.arch,
            }
        )
    return out


def _binary_finding(entry: FileEntry, data: bytes, result: dict[str, Any]) -> Finding:
    user, password, literals = result["user"], result["password"], result["literals"]
    evidence = [
        evidence_at(entry, data, offset, length, note=note, details=literals[i])
        for offset, length, note, i in result["spans"]
    ]
    title = (
        f"Hard-coded credential {user}:{password} compared in {entry.name}"
        if user
        else f"Hard-coded password {password!r} compared in {entry.name}"
    )
    details = {k: result[k] for k in ("function", "user", "password", "literals", "context_strings", "arch")}
    return CHECK.finding(entry.path, title, evidence, details=details)


# ---------------------------------------------------------------------------
# Scripts

_SCRIPT_DIRS = (
    "/www",
    "/cgi-bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
    "/etc",
    "/usr/lib",
    "/usr/share",
    "/lib",
)
_SCRIPT_EXT = (".sh", ".cgi", ".lua", ".php", ".asp", ".pl", ".py", ".js", ".htm", ".html", ".tcl", ".rc")
_PASS_VAR = r"(?:pass(?:word|wd|wort|phrase|code)?|pwd|pw|secret|pin)"
_USER_VAR = r"(?:user(?:name|_?id)?|usr|login(?:name)?|name|account|uname|admin)"
_VAR = r"[\"']?\$?\{?(?:_(?:GET|POST|REQUEST)\[[\"'])?(?P<var>[A-Za-z_][A-Za-z0-9_]*)[\"']?\]?\}?[\"']?"
# A bare literal is a whole shell word: `$pin = query($p)` (PHP that a shell script carries) is
# no comparison with "query(".
_LIT = r"(?P<q>[\"'])(?P<lit>[^\"'$`\n]{1,64})(?P=q)|(?P<bare>[^\s\"'$`\]\);|&(]{1,64})(?=[\s\];|&)]|$)"
_CMP = r"(?:\s+(?:=|==|!=|-eq|-ne|eq|ne)\s+|\s*(?:===?|!==?|~=)\s*)"
# In shell `=` inside [ ] compares and a bare word is a literal; elsewhere `=` assigns.
_CMP_CODE = r"\s*(?:===?|!==?|~=)\s*"
_QLIT = r"(?P<q>[\"'])(?P<lit>[^\"'$`\n]{1,64})(?P=q)"
_VAR_LIT = re.compile(_VAR + _CMP + r"(?:" + _LIT + r")")
_VAR_LIT_CODE = re.compile(_VAR + _CMP_CODE + _QLIT)
_LIT_VAR = re.compile(_QLIT + _CMP + _VAR.replace("?P<var>", "?P<var2>"))
_LIT_VAR_CODE = re.compile(_QLIT + _CMP_CODE + _VAR.replace("?P<var>", "?P<var2>"))
_CASE_PARAM = re.compile(
    r"(?i)[*&?](?P<var>" + _PASS_VAR + "|" + _USER_VAR + r")=(?P<lit>[^&*)|\s\"']{1,64})\*?[)|]"
)
_NOT_SECRET = frozenset(
    [
        "yes",
        "no",
        "y",
        "n",
        "1",
        "0",
        "true",
        "false",
        "on",
        "off",
        "none",
        "null",
        "nil",
        "disabled",
        "enabled",
        "enable",
        "disable",
        "auto",
        "default",
        "ok",
        "x",
        "-",
        "empty",
        "unset",
        "set",
    ]
)


def _is_script(entry: FileEntry, head: bytes) -> bool:
    if entry.filetype == "script" or head.startswith(b"#!"):
        return True
    return (
        entry.name.endswith(_SCRIPT_EXT) and entry.path.startswith(_SCRIPT_DIRS) and entry.filetype == "text"
    )


def _var_kind(var: str) -> str | None:
    v = var.lower()
    if re.fullmatch(r"(?:\w*_)?" + _PASS_VAR + r"\d?(?:_\w*)?", v) or re.search(_PASS_VAR + r"$", v):
        return "password"
    if re.fullmatch(r"(?:\w*_)?" + _USER_VAR + r"\d?(?:_\w*)?", v):
        return "user"
    return None


def _is_shell(entry: FileEntry, data: bytes) -> bool:
    first = data[: data.find(b"\n")] if b"\n" in data else data[:128]
    if first.startswith(b"#!"):
        return bool(re.search(rb"\b(?:ba|da|a|k|z)?sh\b", first))
    return entry.name.endswith((".sh", ".cgi")) or entry.path.startswith("/etc/init.d/")


def _script_findings(entry: FileEntry, data: bytes) -> Iterator[Finding]:
    text = data.decode("latin-1")
    shell = _is_shell(entry, data)
    hits: list[tuple[int, str, str, int]] = []  # offset, kind, literal, literal length
    for m in (_VAR_LIT if shell else _VAR_LIT_CODE).finditer(text):
        kind = _var_kind(m.group("var"))
        quoted = m.group("lit") is not None
        lit = m.group("lit") if quoted else m.groupdict().get("bare")
        if kind and lit:
            hits.append((m.start("lit") if quoted else m.start("bare"), kind, lit, len(lit)))
    for m in (_LIT_VAR if shell else _LIT_VAR_CODE).finditer(text):
        kind = _var_kind(m.group("var2"))
        if kind:
            hits.append((m.start("lit"), kind, m.group("lit"), len(m.group("lit"))))
    for m in _CASE_PARAM.finditer(text):
        kind = _var_kind(m.group("var"))
        if kind:
            hits.append((m.start("lit"), kind, m.group("lit"), len(m.group("lit"))))
    hits = [h for h in hits if h[2].strip().lower() not in _NOT_SECRET and h[2].strip()]
    hits.sort()
    secrets = [h for h in hits if h[1] == "password"]
    if not secrets:
        return
    users = [h for h in hits if h[1] == "user" and _user_like(h[2])]
    seen: set[str] = set()
    for off, _k, lit, length in secrets:
        if lit in seen:
            continue
        seen.add(lit)
        line_no = data.count(b"\n", 0, off)
        near = [u for u in users if abs(data.count(b"\n", 0, u[0]) - line_no) <= 6]
        user = min(near, key=lambda u: abs(u[0] - off)) if near else None
        ev = []
        if user is not None:
            ev.append(evidence_at(entry, data, user[0], user[3], note="user literal"))
        ev.append(evidence_at(entry, data, off, length, note="password literal"))
        title = (
            f"Hard-coded credential {user[2]}:{lit} checked in script {entry.name}"
            if user
            else f"Hard-coded password {lit!r} checked in script {entry.name}"
        )
        yield CHECK.finding(
            entry.path,
            title,
            ev,
            details={"user": user[2] if user else None, "password": lit, "kind": "script"},
        )


# ---------------------------------------------------------------------------


def _candidates(ctx: CheckContext) -> Iterator[tuple[FileEntry, str]]:
    """(file, "elf" or "script") for each file the check reads: run and split pick the same."""
    for entry in ctx.index.files():
        if entry.size <= 0:
            continue
        if entry.elf is not None:
            if entry.size <= _MAX_ELF:
                yield entry, "elf"
        elif entry.size <= _MAX_SCRIPT and entry.filetype in ("script", "text"):
            yield entry, "script"


def run(ctx: CheckContext) -> Iterator[Finding]:
    elves = elf_cache(ctx.memo)
    for entry, kind in _candidates(ctx):
        if not ctx.wants(entry):
            continue
        data = ctx.index.read(entry)
        if kind == "script":
            if _is_script(entry, data[:4]):
                yield from _script_findings(entry, data)
            continue

        def analyse(entry: FileEntry = entry, data: bytes = data) -> list[dict[str, Any]]:
            if not _worth_disassembling(entry, data):
                return []
            b = elves.load(entry.sha256 or entry.path, data)
            if b is None or not (b.imports & COMPARE_FUNCTIONS or (len(data) <= _SMALL_ELF and b.has_interp)):
                return []
            return _binary_results(data, b)

        # copies and hard links of one program are analysed once; other scans' results are reused
        for result in ctx.per_file(CHECK.id, entry, analyse):
            yield _binary_finding(entry, data, result)


def split(ctx: CheckContext) -> list[tuple[float, frozenset[str]]]:
    """One part per distinct binary (its copies and links together, so each is analysed once),
    weighed by an estimate from its size (nearly nothing when the result cache has it); the
    scripts make one more part."""
    binaries: dict[str, list[str]] = {}
    weights: dict[str, float] = {}
    scripts: list[str] = []
    for entry, kind in _candidates(ctx):
        if kind == "script":
            scripts.append(entry.path)
            continue
        key = entry.sha256 or entry.path
        binaries.setdefault(key, []).append(entry.path)
        kept = ctx.kept(CHECK.id, entry)
        weights[key] = _LOOKUP_SECONDS if kept else _SECONDS_PER_BINARY + entry.size * _SECONDS_PER_BYTE
    parts = [(weights[k], frozenset(paths)) for k, paths in binaries.items()]
    if scripts:
        parts.append((_LOOKUP_SECONDS * len(scripts), frozenset(scripts)))
    return parts


CHECK = Check(
    id="hardcoded-credential",
    category="hardcoded-credential",
    severity=Severity.CRITICAL,
    title="Hard-coded credential compared against user input",
    description=(
        "A program or script compares what a user typed with a user name or password written into "
        "it. Anyone who reads the firmware can log in, and the owner cannot change it. Binaries are "
        "disassembled (MIPS, ARM/Thumb, AArch64, x86, x86-64): compare calls and inlined integer "
        "compares are resolved to their literals in functions that show a login or password prompt."
    ),
    run=run,
    split=split,
    clause="4.2.3.4.2.2",
    references=(
        "https://cwe.mitre.org/data/definitions/798.html",
        "https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",
    ),
    false_positives=(
        "Literals that look like secrets but are protocol tokens or option values compared in a "
        "function that also prints a login prompt; test passwords in vendor self-test code. In a "
        "function that compares against eight or more distinct literals (a configuration parser, a "
        "command table) only literals with a symbol, or mixing capitals, small letters and digits, "
        "count: a secret shaped like an option name there is missed."
    ),
)
