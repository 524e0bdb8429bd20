"""Accounts and stored credentials of a firmware image, with the bytes that define them.

Two views, shared by the account checks, compliance and diff:

* `account_tables(index)`: every passwd-format file (``/etc/passwd``, its ``-``/``.bak`` backups,
  ``/etc_ro/passwd`` ...), joined with the shadow file beside it, as `Account` records. Each
  account knows which line holds its effective password (shadow when the passwd field is ``x``).
* `stored_credentials(index)`: user/password pairs kept by other stores embedded devices use:
  OpenWrt UCI (``/etc/config/*``), nvram defaults and ``key=value`` configuration files,
  ``.htpasswd``, BusyBox ``httpd.conf`` (``/cgi-bin:admin:admin``), lighttpd plain and digest
  user files.

Every record carries a `Span` (file, byte offset, length, line number, text) so a finding can
point at the exact bytes. Nothing here cracks or judges: `Secret` only says what a field holds.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from assay.checks.base import excerpt_of
from assay.index import FileEntry, FileIndex
from assay.model import Evidence

__all__ = [
    "NOLOGIN_SHELLS",
    "Account",
    "AccountTable",
    "GroupEntry",
    "Scheme",
    "Secret",
    "SecretState",
    "Span",
    "StoredCredential",
    "account_tables",
    "classify_config_value",
    "classify_passwd_field",
    "group_entries",
    "is_login_shell",
    "span_evidence",
    "stored_credentials",
]

_MAX_READ = 4 << 20

# Shells that refuse an interactive login, and commands some systems give as a "shell" to
# accounts that may only run that one thing (sync, halt, shutdown).
NOLOGIN_SHELLS = frozenset(
    {
        "/bin/false",
        "/usr/bin/false",
        "/sbin/nologin",
        "/usr/sbin/nologin",
        "/bin/nologin",
        "/usr/bin/nologin",
        "/dev/null",
        "/bin/true",
        "/usr/bin/true",
        "/bin/sync",
        "/sbin/halt",
        "/sbin/shutdown",
        "/usr/sbin/halt",
        "/usr/sbin/shutdown",
    }
)


class Scheme(StrEnum):
    """How a secret is stored. The values are what reports show."""

    DES = "des"
    MD5 = "md5"  # md5crypt, $1$
    APR1 = "apr1"  # Apache's md5crypt variant
    SHA256 = "sha256"  # sha256crypt, $5$
    SHA512 = "sha512"  # sha512crypt, $6$
    BCRYPT = "bcrypt"
    YESCRYPT = "yescrypt"
    SCRYPT = "scrypt"
    RAW_MD5 = "raw-md5"
    RAW_SHA1 = "raw-sha1"
    RAW_SHA256 = "raw-sha256"
    LDAP_SHA1 = "ldap-sha1"  # {SHA}base64, as htpasswd -s writes
    HTDIGEST = "htdigest"  # md5(user:realm:password)
    PLAINTEXT = "plaintext"
    NONE = "none"  # empty or locked: nothing to crack
    UNKNOWN = "unknown"


class SecretState(StrEnum):
    EMPTY = "empty"  # no password at all: anyone may log in
    LOCKED = "locked"  # '!' or '*' prefixed, '!!', 'x' with no shadow entry: no password login
    SHADOWED = "shadowed"  # 'x' in passwd: the password is in the shadow file
    HASH = "hash"
    PLAINTEXT = "plaintext"
    UNKNOWN = "unknown"  # not a format Assay knows; never reported as weak


@dataclass(frozen=True)
class Secret:
    """What a password field holds. `value` is the hash or plaintext as written."""

    state: SecretState
    scheme: Scheme
    value: str

    @property
    def crackable(self) -> bool:
        return self.state == SecretState.HASH and self.scheme not in (
            Scheme.UNKNOWN,
            Scheme.YESCRYPT,
            Scheme.SCRYPT,
        )


@dataclass(frozen=True)
class Span:
    """A record's line in its file, and the field of interest in it, as byte offsets."""

    entry: FileEntry
    offset: int  # of the line's first byte
    length: int  # of the line, in bytes, without the newline
    line: int  # 1-based line number
    text: str  # the line, decoded
    field_start: int = 0  # byte offset of the field inside the line
    field_length: int | None = None  # None: the whole line

    @property
    def path(self) -> str:
        return self.entry.path

    @property
    def field_offset(self) -> int:
        """Offset of the field in the file."""
        return self.offset + self.field_start


@dataclass(frozen=True)
class Account:
    name: str
    uid: int | None  # None when only a shadow file names the account
    gid: int | None
    gecos: str
    home: str
    shell: str | None
    secret: Secret  # the effective password, after following 'x' into the shadow file
    secret_span: Span  # the line holding `secret` (shadow line, or passwd line)
    passwd_span: Span | None

    @property
    def login_shell(self) -> bool:
        """True when the shell allows an interactive login (unknown shells count as yes)."""
        return self.shell is None or is_login_shell(self.shell)

    @property
    def path(self) -> str:
        """The file that holds the effective password."""
        return self.secret_span.path


@dataclass(frozen=True)
class AccountTable:
    """One passwd file (or a lone shadow file) and the accounts it defines."""

    passwd: FileEntry | None
    shadow: FileEntry | None
    accounts: tuple[Account, ...]
    backup: bool  # passwd-, shadow.bak ...: not read by the running system

    def get(self, name: str) -> Account | None:
        return next((a for a in self.accounts if a.name == name), None)


@dataclass(frozen=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class StoredCredential:
    """A user/password pair (or a password whose user is implied) kept by a service's store."""

    store: str  # "uci", "keyvalue", "htpasswd", "httpd-conf", "htdigest", "plain-users"
    user: str | None
    key: str | None  # the option or key that holds the secret
    secret: Secret
    span: Span  # the line holding the secret
    realm: str | None = None  # htdigest
    section: str | None = None  # UCI section "type name"


def span_evidence(span: Span, *, note: str | None = None, details: dict[str, Any] | None = None) -> Evidence:
    """Evidence for a record: the whole line (offset, length, line, excerpt) and the file's
    sha256; details give the field's own offset and length when one is marked."""
    raw = span.text.encode()
    extra: dict[str, Any] = {}
    if span.field_length is not None:
        extra = {"field_offset": span.field_offset, "field_length": span.field_length}
    return Evidence(
        path=span.path,
        sha256=span.entry.sha256 or "",
        offset=span.offset,
        length=span.length,
        excerpt=excerpt_of(raw, 0, len(raw)),
        line=span.line,
        note=note,
        details={**extra, **(details or {})},
    )


def is_login_shell(shell: str) -> bool:
    shell = shell.strip()
    if not shell:
        return True  # an empty shell field means /bin/sh
    return shell not in NOLOGIN_SHELLS and not posixpath.basename(shell).endswith("nologin")


# --- hash formats --------------------------------------------------------------------------

_B64 = r"[./0-9A-Za-z]"
_CRYPT_FORMATS: tuple[tuple[re.Pattern[str], Scheme], ...] = (
    (re.compile(rf"^\$1\${_B64}{{0,8}}\${_B64}{{22}}$"), Scheme.MD5),
    (re.compile(rf"^\$apr1\${_B64}{{0,8}}\${_B64}{{22}}$"), Scheme.APR1),
    (re.compile(rf"^\$5\$(rounds=\d+\$)?{_B64}{{0,16}}\${_B64}{{43}}$"), Scheme.SHA256),
    (re.compile(rf"^\$6\$(rounds=\d+\$)?{_B64}{{0,16}}\${_B64}{{86}}$"), Scheme.SHA512),
    (re.compile(rf"^\$2[abxy]?\$\d\d\${_B64}{{53}}$"), Scheme.BCRYPT),
    (re.compile(r"^\$(y|gy|7)\$\S+$"), Scheme.YESCRYPT),
    (re.compile(rf"^{_B64}{{13}}$"), Scheme.DES),
    (re.compile(r"^\{SHA\}[A-Za-z0-9+/]{27}=$"), Scheme.LDAP_SHA1),
)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HEX_SCHEMES = {32: Scheme.RAW_MD5, 40: Scheme.RAW_SHA1, 64: Scheme.RAW_SHA256}
# "algo$salt$digest" and similar: a hash in a format we do not know, never a plaintext.
_OPAQUE_HASH = re.compile(r"^\$?[A-Za-z0-9_.-]{1,16}\$[^$\s]*\$[^$\s]+$")


def _hash_scheme(value: str, *, des: bool) -> Scheme | None:
    for pattern, scheme in _CRYPT_FORMATS:
        if pattern.match(value):
            if scheme == Scheme.DES and not des:
                continue
            return scheme
    if _HEX.match(value) and len(value) in _HEX_SCHEMES:
        return _HEX_SCHEMES[len(value)]
    return None


def classify_passwd_field(value: str) -> Secret:
    """Second field of passwd/shadow, or an htpasswd hash: crypt(3) semantics."""
    if value == "":
        return Secret(SecretState.EMPTY, Scheme.NONE, value)
    if value == "x":
        return Secret(SecretState.SHADOWED, Scheme.NONE, value)
    if value[0] in "!*":
        return Secret(SecretState.LOCKED, Scheme.NONE, value)
    scheme = _hash_scheme(value, des=True)
    if scheme is None:
        # crypt() never yields a string outside its alphabet, so nothing can match it.
        return Secret(SecretState.UNKNOWN, Scheme.UNKNOWN, value)
    return Secret(SecretState.HASH, scheme, value)


# Values that stand for a password rather than being one: variables, format strings, masks.
_PLACEHOLDER = re.compile(
    r"""^(?:\$[{(]?[A-Za-z_][A-Za-z0-9_]*[})]?|.*\$\{.*|.*\$\(.*|.*%[sd].*|.*\{\{.*|<[^>]*>|@[A-Za-z_]+@|
        __[A-Z0-9_]+__|\*{3,}|x{6,}|X{6,})$""",
    re.VERBOSE,
)


def classify_config_value(value: str, *, hashed_key: bool = False) -> Secret | None:
    """A password value from a configuration store, or None for a placeholder.

    A 13-character value is taken for DES crypt only when the key says the value is hashed:
    in a configuration file it is far more often a plaintext password.
    """
    if value == "":
        return Secret(SecretState.EMPTY, Scheme.NONE, value)
    if _PLACEHOLDER.match(value):
        return None
    scheme = _hash_scheme(value, des=hashed_key)
    if scheme is not None:
        return Secret(SecretState.HASH, scheme, value)
    if hashed_key or _OPAQUE_HASH.match(value):
        return Secret(SecretState.UNKNOWN, Scheme.UNKNOWN, value)
    return Secret(SecretState.PLAINTEXT, Scheme.PLAINTEXT, value)


# --- reading files -------------------------------------------------------------------------


def _lines(entry: FileEntry, data: bytes, *, nul: bool = False) -> Iterator[Span]:
    """Every line with its byte offset; with nul=True NUL also ends a record (nvram blobs)."""
    splitter = re.compile(rb"[\n\x00]" if nul else rb"\n")
    start = 0
    number = 1
    for m in splitter.finditer(data + b"\n"):
        raw = data[start : m.start()]
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        if raw.strip():
            yield Span(entry, start, len(raw), number, raw.decode("utf-8", errors="replace"))
        if m.group() == b"\n":
            number += 1
        start = m.end()


def _sub_span(span: Span, start: int, end: int) -> Span:
    """The line with its field text[start:end] marked, in bytes (lines are UTF-8)."""
    b0 = len(span.text[:start].encode())
    b1 = len(span.text[:end].encode())
    return replace(span, field_start=b0, field_length=b1 - b0)


def _is_text(entry: FileEntry) -> bool:
    return entry.is_file and entry.filetype in ("text", "script", "empty")


_PASSWD_LIKE = re.compile(r"^(passwd|shadow|group)([-~]|\.(bak|old|orig|save|default|backup))?$")


def _read_records(index: FileIndex, entry: FileEntry, fields: int) -> list[tuple[Span, list[str]]]:
    out = []
    for span in _lines(entry, index.read(entry, _MAX_READ)):
        if span.text.lstrip().startswith("#"):
            continue
        parts = span.text.split(":")
        if len(parts) >= fields:
            out.append((span, parts))
    return out


def _parse_passwd(index: FileIndex, entry: FileEntry) -> list[tuple[Span, list[str]]]:
    return [(s, p) for s, p in _read_records(index, entry, 7) if p[2].isdigit() and p[3].isdigit()]


def _parse_shadow(index: FileIndex, entry: FileEntry) -> dict[str, tuple[Span, str]]:
    out: dict[str, tuple[Span, str]] = {}
    for span, parts in _read_records(index, entry, 2):
        # Shadow lines have 9 fields; some devices trim the trailing ones. Require the name
        # to look like a user name so that random colon text is not taken for shadow.
        if re.match(r"^[A-Za-z0-9_.][A-Za-z0-9_.@-]*\$?$", parts[0]) and parts[0] not in out:
            out[parts[0]] = (_sub_span(span, len(parts[0]) + 1, len(parts[0]) + 1 + len(parts[1])), parts[1])
    return out


def group_entries(index: FileIndex, entry: FileEntry) -> list[GroupEntry]:
    """Records of a group(5) file."""
    out = []
    for span, parts in _read_records(index, entry, 4):
        if parts[2].isdigit():
            members = tuple(m for m in parts[3].split(",") if m)
            out.append(GroupEntry(parts[0], int(parts[2]), members, span))
    return out


def _candidates(index: FileIndex, kind: str) -> list[FileEntry]:
    return [
        e for e in index.files() if _is_text(e) and (m := _PASSWD_LIKE.match(e.name)) and m.group(1) == kind
    ]


def _suffix(name: str) -> str:
    m = _PASSWD_LIKE.match(name)
    return (m.group(2) or "") if m else ""


def account_tables(index: FileIndex) -> list[AccountTable]:
    """Every passwd file joined with its shadow file; lone shadow files make their own table."""
    shadows = _candidates(index, "shadow")
    used: set[tuple[str, str]] = set()
    tables: list[AccountTable] = []
    for pw in _candidates(index, "passwd"):
        records = _parse_passwd(index, pw)
        if not records:
            continue
        shadow = _pair_shadow(index, pw, shadows)
        shadow_map = _parse_shadow(index, shadow) if shadow else {}
        if shadow is not None:
            used.add((shadow.fs, shadow.path))
        accounts = []
        for span, parts in records:
            name = parts[0]
            field = parts[1]
            field_span = _sub_span(span, len(name) + 1, len(name) + 1 + len(field))
            secret = classify_passwd_field(field)
            secret_span = field_span
            if secret.state == SecretState.SHADOWED:
                if name in shadow_map:
                    secret_span, value = shadow_map[name]
                    secret = classify_passwd_field(value)
                    if secret.state == SecretState.SHADOWED:
                        secret = Secret(SecretState.LOCKED, Scheme.NONE, value)
                else:
                    secret = Secret(SecretState.LOCKED, Scheme.NONE, field)
            accounts.append(
                Account(
                    name=name,
                    uid=int(parts[2]),
                    gid=int(parts[3]),
                    gecos=parts[4],
                    home=parts[5],
                    shell=":".join(parts[6:]).strip(),
                    secret=secret,
                    secret_span=secret_span,
                    passwd_span=span,
                )
            )
        tables.append(AccountTable(pw, shadow, tuple(accounts), backup=bool(_suffix(pw.name))))
    for sh in shadows:
        if (sh.fs, sh.path) in used:
            continue
        shadow_map = _parse_shadow(index, sh)
        if not shadow_map:
            continue
        accounts = [
            Account(name, None, None, "", "", None, classify_passwd_field(value), span, None)
            for name, (span, value) in shadow_map.items()
        ]
        tables.append(AccountTable(None, sh, tuple(accounts), backup=bool(_suffix(sh.name))))
    return tables


def _pair_shadow(index: FileIndex, pw: FileEntry, shadows: list[FileEntry]) -> FileEntry | None:
    """The shadow file the system would read with this passwd file."""
    directory = posixpath.dirname(pw.path)
    want = "shadow" + _suffix(pw.name)
    same_dir = [s for s in shadows if s.fs == pw.fs and posixpath.dirname(s.path) == directory]
    for s in same_dir:
        if s.name == want:
            return s
    for s in same_dir:
        if s.name == "shadow":
            return s
    # /etc/shadow as a symlink to a file elsewhere (e.g. /etc_ro) resolves inside the image.
    link = index.resolve(posixpath.join(directory, want), pw.fs)
    return link if link is not None and _is_text(link) else None


# --- configuration stores ------------------------------------------------------------------

_PW_WORDS = frozenset({"pass", "passwd", "password", "passwort", "pwd", "pw", "passphrase", "passcode"})
_HASH_WORDS = frozenset(
    {"hash", "hashed", "md5", "sha", "sha1", "sha256", "sha512", "crypt", "crypted", "encrypted", "digest"}
)
# Keys about passwords that do not hold one, and Wi-Fi/RADIUS secrets that are not accounts.
_NOT_ACCOUNT_WORDS = frozenset(
    {
        "wpa", "psk", "wep", "wps", "wifi", "wlan", "ssid", "radius", "key", "min", "max", "len",
        "length", "policy", "enable", "enabled", "file", "path", "type", "mode", "hint", "change",
        "expire", "expires", "age", "reset", "retry", "retries", "complexity", "strength", "timeout",
        "salt", "prompt", "rule", "rules", "required", "check", "auth", "method", "format", "iter",
        "rounds", "url", "cmd", "command", "script", "field", "label", "show", "old", "new", "confirm",
    }
)  # fmt: skip
_USER_WORDS = frozenset({"user", "username", "usr", "login", "loginname", "account", "userid", "uname"})
# Prefixes that name the account a password belongs to (admin_password, http_passwd ...).
_ACCOUNT_PREFIXES = frozenset(
    {
        "admin", "administrator", "root", "http", "https", "web", "webui", "www", "gui", "ui", "login",
        "sys", "system", "telnet", "ftp", "ssh", "super", "superuser", "supervisor", "support", "user",
        "guest", "manager", "console", "cli", "tech", "operator", "factory", "debug", "default", "device",
    }
)  # fmt: skip
_UCI_ACCOUNT_SECTIONS = frozenset(
    {"login", "user", "users", "account", "accounts", "admin", "auth", "webui", "httpd", "uhttpd", "rpcd"}
)


def _tokens(key: str) -> list[str]:
    key = re.sub(r"([a-z])([A-Z])", r"\1_\2", key)
    return [t for t in re.split(r"[_.\-\s]+", key.lower()) if t]


def _password_key(key: str) -> tuple[bool, bool]:
    """(holds a password, the password is hashed)."""
    toks = _tokens(key)
    if not toks or any(t in _NOT_ACCOUNT_WORDS or re.match(r"^wl\d*$", t) for t in toks):
        return False, False
    pw = any(t in _PW_WORDS or t.endswith(("password", "passwd")) for t in toks)
    return pw, pw and any(t in _HASH_WORDS for t in toks)


def _user_key(key: str) -> bool:
    toks = _tokens(key)
    return bool(toks) and (toks[-1] in _USER_WORDS or toks[-1].endswith("username"))


def _prefix(key: str) -> str:
    toks = _tokens(key)
    return "_".join(toks[:-1])


def stored_credentials(index: FileIndex) -> Iterator[StoredCredential]:
    """Credentials in every configuration store Assay knows, in index order."""
    for entry in index.files():
        if not entry.is_file:
            continue
        name = entry.name
        lower = name.lower()
        path = entry.path
        if _skip_path(path):
            continue
        if _is_text(entry) and "/etc/config/" in path + "/" and posixpath.dirname(path).endswith("/config"):
            yield from _uci(index, entry)
        elif lower in (".htpasswd", "htpasswd") or lower.endswith((".htpasswd", ".passwd")):
            if _is_text(entry):
                yield from _htpasswd(index, entry, "htpasswd")
        elif lower in (".htdigest", "htdigest") or lower.endswith((".htdigest", "htdigest.user")):
            if _is_text(entry):
                yield from _htdigest(index, entry)
        elif lower.endswith(".user") and "lighttpd" in path.lower():
            if _is_text(entry):
                yield from _htpasswd(index, entry, "plain-users", plain=True)
        elif lower == "httpd.conf" and _is_text(entry):
            yield from _busybox_httpd(index, entry)
            yield from _keyvalue(index, entry)
        elif "nvram" in lower or lower in ("default.cfg", "defaults.cfg") or lower.endswith("_default.cfg"):
            if entry.filetype in ("text", "data", "empty"):
                yield from _keyvalue(index, entry, nul=True)
        elif lower.endswith((".conf", ".cfg", ".ini")) and path.startswith("/etc/") and _is_text(entry):
            yield from _keyvalue(index, entry)


def _skip_path(path: str) -> bool:
    """Documentation and examples are not configuration."""
    return bool(re.search(r"/(doc|docs|man|examples?|samples?|locale|i18n)/", path))


def _uci(index: FileIndex, entry: FileEntry) -> Iterator[StoredCredential]:
    data = index.read(entry, _MAX_READ)
    sections: list[tuple[str, str | None, list[tuple[str, str, Span]]]] = []
    for span in _lines(entry, data):
        words = _uci_words(span.text)
        if not words:
            continue
        if words[0][0] == "config":
            sections.append(
                (words[1][0] if len(words) > 1 else "", words[2][0] if len(words) > 2 else None, [])
            )
        elif words[0][0] == "option" and sections and len(words) >= 2:
            value, start, end = words[2] if len(words) > 2 else ("", len(span.text), len(span.text))
            sections[-1][2].append((words[1][0], value, _sub_span(span, start, end)))
    for stype, sname, options in sections:
        users = [(k, v) for k, v, _ in options if _user_key(k) and v]
        label = f"{stype} {sname}" if sname else stype
        for key, value, vspan in options:
            is_pw, hashed = _password_key(key)
            if not is_pw:
                continue
            secret = classify_config_value(value, hashed_key=hashed)
            if secret is None:
                continue
            user = _match_user(key, users)
            account_like = (
                user is not None
                or stype.lower() in _UCI_ACCOUNT_SECTIONS
                or (sname or "").lower() in _UCI_ACCOUNT_SECTIONS | _ACCOUNT_PREFIXES
                or _prefix(key).split("_")[0] in _ACCOUNT_PREFIXES
            )
            if not account_like:
                continue
            if user is None and sname and sname.lower() in _ACCOUNT_PREFIXES:
                user = sname
            if secret.state == SecretState.EMPTY and user is None:
                continue  # an unset password of an unnamed account: a template, not an account
            yield StoredCredential("uci", user, key, secret, vspan, section=label)


_UCI_TOKEN = re.compile(r"""'([^']*)'|"((?:[^"\\]|\\.)*)"|([^\s#]+)|(#.*)""")


def _uci_words(text: str) -> list[tuple[str, int, int]]:
    """UCI tokens with their character spans (inside the quotes); stops at a comment."""
    out = []
    for m in _UCI_TOKEN.finditer(text):
        if m.group(4) is not None:
            break
        for g in (1, 2, 3):
            if m.group(g) is not None:
                out.append((m.group(g), m.start(g), m.end(g)))
                break
    return out


def _match_user(pw_key: str, users: list[tuple[str, str]]) -> str | None:
    """The user that goes with a password key: same prefix first, else the only user."""
    prefix = _prefix(pw_key)
    for k, v in users:
        if _prefix(k) == prefix:
            return v
    if len(users) == 1:
        return users[0][1]
    first = prefix.split("_")[0] if prefix else ""
    return first if first in ("admin", "root", "administrator", "support", "guest", "user") else None


_KV = re.compile(r"^\s*(?:export\s+)?([A-Za-z0-9_.\-]+)\s*(?:=|:|\s)\s*(.*?)\s*$")


def _keyvalue(index: FileIndex, entry: FileEntry, *, nul: bool = False) -> Iterator[StoredCredential]:
    data = index.read(entry, _MAX_READ)
    pairs: list[tuple[str, str, Span]] = []
    for span in _lines(entry, data, nul=nul):
        text = span.text
        if text.lstrip().startswith(("#", ";", "//", "<!--", "--", "*")):
            continue
        m = _KV.match(text)
        if not m:
            continue
        key, value = m.group(1), m.group(2)
        start, end = m.start(2), m.end(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value, start, end = value[1:-1], start + 1, end - 1
        pairs.append((key, value, _sub_span(span, start, end)))
    users = [(k, v) for k, v, _ in pairs if _user_key(k) and v and not _PLACEHOLDER.match(v)]
    for key, value, vspan in pairs:
        is_pw, hashed = _password_key(key)
        if not is_pw:
            continue
        secret = classify_config_value(value, hashed_key=hashed)
        if secret is None:
            continue
        user = _match_user(key, users)
        if user is None and _prefix(key).split("_")[0] not in _ACCOUNT_PREFIXES:
            continue  # a bare "password" with no account to log in as
        if secret.state == SecretState.EMPTY and user is None:
            continue
        yield StoredCredential("keyvalue", user, key, secret, vspan)


def _htpasswd(
    index: FileIndex, entry: FileEntry, store: str, *, plain: bool = False
) -> Iterator[StoredCredential]:
    for span in _lines(entry, index.read(entry, _MAX_READ)):
        if span.text.lstrip().startswith("#") or ":" not in span.text:
            continue
        user, _, value = span.text.partition(":")
        value = value.rstrip()
        if not user or ":" in value and not plain:
            value = value.split(":", 1)[0]  # some tools append fields after the hash
        vspan = _sub_span(span, len(user) + 1, len(user) + 1 + len(value))
        if plain:
            secret = classify_config_value(value)
        else:
            secret = classify_passwd_field(value)
            if secret.state == SecretState.UNKNOWN:
                secret = Secret(SecretState.PLAINTEXT, Scheme.PLAINTEXT, value)
        if secret is not None and secret.state != SecretState.LOCKED:
            yield StoredCredential(store, user, None, secret, vspan)


def _htdigest(index: FileIndex, entry: FileEntry) -> Iterator[StoredCredential]:
    for span in _lines(entry, index.read(entry, _MAX_READ)):
        parts = span.text.strip().split(":")
        if len(parts) == 3 and len(parts[2]) == 32 and _HEX.match(parts[2]):
            start = len(parts[0]) + len(parts[1]) + 2
            vspan = _sub_span(span, start, start + 32)
            secret = Secret(SecretState.HASH, Scheme.HTDIGEST, parts[2].lower())
            yield StoredCredential("htdigest", parts[0], None, secret, vspan, realm=parts[1])


_BB_HTTPD = re.compile(r"^\s*(/[^:\s]*):([^:\s]+):(\S*)\s*$")


def _busybox_httpd(index: FileIndex, entry: FileEntry) -> Iterator[StoredCredential]:
    """BusyBox httpd basic-auth lines: /url-prefix:user:password (plaintext or $1$)."""
    for span in _lines(entry, index.read(entry, _MAX_READ)):
        m = _BB_HTTPD.match(span.text)
        if not m:
            continue
        user, value = m.group(2), m.group(3)
        if value.startswith("$1$"):
            secret: Secret | None = classify_passwd_field(value)
        else:
            secret = classify_config_value(value)
        if secret is not None:
            yield StoredCredential("httpd-conf", user, None, secret, _sub_span(span, m.start(3), m.end(3)))
