"""What a firmware image starts at boot, read from its files without running any of them.

Entry points are BusyBox/SysV `inittab` (or `rcS` when there is none), SysV and OpenWrt `rc.d`
links, `S??` scripts in `/etc/init.d`, `rc.local`, systemd units that some `*.wants` directory
enables, crontabs, and inetd/xinetd services. Shell scripts go through a small shell model:
quotes, line continuations, here-documents, variables (`DAEMON=/usr/sbin/telnetd; $DAEMON -l
/bin/sh`, `${X:-default}`, positional arguments), `case`/function scopes, `for` loops over globs,
sourced files, `sh -c`, `eval`, `start-stop-daemon --exec X -- args`, `busybox APPLET`, procd's
`procd_set_param command`, and scripts that call other scripts. Commands resolve through `PATH`
and the image's own symlinks, so `telnetd` is known to run `/bin/busybox`.

Public API: `boot_model(index)` -> `BootModel` (its `commands`, `scripts` and `listeners()`),
and the `BootCommand`, `BootScript`, `Listener` records. Compliance and diff use the same model.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from assay.index import FileEntry, FileIndex

DEFAULT_PATH = "/sbin:/bin:/usr/sbin:/usr/bin:/usr/local/sbin:/usr/local/bin"
MULTICALL = frozenset({"busybox", "toybox", "busybox.nosuid", "busybox.suid"})
SHELLS = frozenset({"sh", "ash", "bash", "dash", "hush", "msh", "ksh", "mksh", "zsh", "lash", "rbash"})
# Reached only by a stop/status call, never at boot.
_NON_BOOT_BRANCHES = frozenset(
    {
        "stop",
        "status",
        "reload",
        "force-reload",
        "condrestart",
        "try-restart",
        "shutdown",
        "disable",
        "uninstall",
        "help",
        "usage",
        "kill",
        "halt",
        "restart",
        "reconfigure",
    }
)
_MAX_DEPTH = 12
_MAX_SCRIPT = 1 << 20

ORIGINS = ("inittab", "rc", "systemd", "cron", "procd", "inetd", "xinetd")


@dataclass(frozen=True)
class BootCommand:
    """One simple command that runs at (or is wired for) boot, after variable expansion."""

    argv: tuple[str, ...]
    source: str  # the file that holds the command: inittab, rcS, the init script, the crontab
    line: int
    offset: int  # byte offset of the command's first word in source
    length: int  # bytes from offset to the end of the command as written
    text: str  # the logical line as written (continuations joined)
    origin: str  # one of ORIGINS
    enabled: bool  # False: present, but nothing found that starts it at boot
    via: tuple[str, ...] = ()  # files that lead from an entry point to source
    executable: FileEntry | None = None  # the file that runs (busybox for an applet)
    redirects: tuple[str, ...] = ()  # ">/dev/null", ">&/dev/tcp/1.2.3.4/80", ...
    pipeline: tuple[tuple[str, ...], ...] = ()  # every argv of the pipeline this command is in
    background: bool = False
    context: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def program(self) -> str:
        """The name that selects behaviour: the applet name for busybox, else the basename."""
        return posixpath.basename(self.argv[0]) if self.argv else ""

    @property
    def names(self) -> frozenset[str]:
        """argv[0]'s basename and the real file's name, without multi-call binaries."""
        out = {self.program}
        if self.executable is not None and self.executable.name not in MULTICALL:
            out.add(self.executable.name)
        return frozenset(n for n in out if n)

    @property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]


@dataclass(frozen=True)
class BootScript:
    path: str
    origin: str
    enabled: bool
    via: tuple[str, ...]


@dataclass(frozen=True)
class Listener:
    """A port a boot service listens on, as far as its command line or config says."""

    program: str
    port: int
    protocol: str  # "tcp" | "udp"
    command: BootCommand


@dataclass
class BootModel:
    commands: list[BootCommand]
    scripts: dict[str, BootScript]

    def by_program(self, *names: str) -> Iterator[BootCommand]:
        wanted = set(names)
        return (c for c in self.commands if c.names & wanted)

    def listeners(self) -> list[Listener]:
        out: list[Listener] = []
        for cmd in self.commands:
            if cmd.enabled:
                out.extend(_listeners_of(cmd))
        return out


def is_shell(word: str) -> bool:
    """True for a shell interpreter name or path (`/bin/sh`, `-/bin/ash`, `bash`)."""
    return posixpath.basename(word.lstrip("-")) in SHELLS


# ---------------------------------------------------------------- shell lexer


@dataclass
class _Word:
    parts: list[tuple[str, str]]  # (text, quote) with quote in "", '"', "'"
    offset: int
    end: int

    def literal(self) -> str:
        return "".join(t for t, _ in self.parts)


@dataclass
class _Tok:
    kind: str  # "word", "op", "redir", "nl"
    value: str
    offset: int
    end: int
    word: _Word | None = None  # the word of a word token, or a redirection's target


_OPS = ("&&", "||", ";;", "|&", "&", ";", "|", "(", ")")
_REDIR = re.compile(r"(\d*)(>>|>&|<&|<>|&>>|&>|<<-|<<<|<<|>\||>|<)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _lex(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(text)
    heredocs: list[tuple[str, bool]] = []
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] == "\n":
            i += 2
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "\n":
            toks.append(_Tok("nl", "\n", i, i + 1))
            i += 1
            for delim, strip in heredocs:
                i = _skip_heredoc(text, i, delim, strip)
            heredocs = []
            continue
        m = _REDIR.match(text, i)
        if m:
            op = m.group(2)
            j = m.end()
            while j < n and text[j] in " \t":
                j += 1
            word, j2 = _read_word(text, j)
            if op in ("<<", "<<-") and word is not None:
                heredocs.append((word.literal(), op == "<<-"))
            toks.append(_Tok("redir", m.group(0), i, j2, word))
            i = j2
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op is not None:
            toks.append(_Tok("op", op, i, i + len(op)))
            i += len(op)
            continue
        word, j = _read_word(text, i)
        if word is None:
            i += 1
            continue
        toks.append(_Tok("word", word.literal(), i, j, word))
        i = j
    return toks


def _skip_heredoc(text: str, i: int, delim: str, strip: bool) -> int:
    while i < len(text):
        j = text.find("\n", i)
        line = text[i : len(text) if j < 0 else j]
        i = len(text) if j < 0 else j + 1
        if (line.lstrip("\t") if strip else line) == delim:
            break
    return i


def _read_word(text: str, i: int) -> tuple[_Word | None, int]:
    """One shell word from text[i:]; quotes and $(...) stay inside the word."""
    parts: list[tuple[str, str]] = []
    buf: list[str] = []
    start, n = i, len(text)

    def flush(quote: str = "") -> None:
        if buf:
            parts.append(("".join(buf), quote))
            buf.clear()

    while i < n:
        c = text[i]
        if c in " \t\r\n;&|<>()" and not (c == "(" and buf and buf[-1] == "$"):
            break
        if c == "\\" and i + 1 < n:
            if text[i + 1] == "\n":
                i += 2
                continue
            flush()
            parts.append((text[i + 1], "'"))
            i += 2
        elif c == "'":
            flush()
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            parts.append((text[i + 1 : j], "'"))
            i = j + 1
        elif c == '"':
            flush()
            j = i + 1
            chunk: list[str] = []
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n and text[j + 1] in '"\\$`\n':
                    if text[j + 1] != "\n":
                        chunk.append(text[j + 1])
                    j += 2
                    continue
                chunk.append(text[j])
                j += 1
            parts.append(("".join(chunk), '"'))
            i = j + 1
        elif c == "$" and i + 1 < n and text[i + 1] == "(":
            j = _matching(text, i + 1, "(", ")")
            buf.append(text[i:j])
            i = j
        elif c == "`":
            j = text.find("`", i + 1)
            j = n if j < 0 else j + 1
            buf.append(text[i:j])
            i = j
        elif c == "$" and i + 1 < n and text[i + 1] == "{":
            j = _matching(text, i + 1, "{", "}")
            buf.append(text[i:j])
            i = j
        else:
            buf.append(c)
            i += 1
    flush()
    if i == start:
        return None, i
    return _Word(parts, start, i), i


def _matching(text: str, i: int, open_: str, close: str) -> int:
    depth = 0
    while i < len(text):
        if text[i] == open_:
            depth += 1
        elif text[i] == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


# ------------------------------------------------------------ expansion

_VAR = re.compile(r"\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!]))")


def _expand(s: str, env: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(2) is not None:
            return env.get(m.group(2), "")
        inner = m.group(1)
        nm = re.match(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+|[@*#?$!]", inner)
        if not nm:
            return ""
        name, rest = nm.group(0), inner[nm.end() :]
        value = env.get(name, "")
        for op in (":-", ":=", "-", "="):
            if rest.startswith(op):
                default = _expand(rest[len(op) :], env)
                unset = name not in env or (op.startswith(":") and value == "")
                return default if unset else value
        if rest.startswith((":+", "+")):
            return _expand(rest[2 if rest.startswith(":") else 1 :], env) if value else ""
        return value

    return _VAR.sub(sub, s)


def _fields(word: _Word, env: Mapping[str, str]) -> list[str]:
    """Expand a word into fields: unquoted expansions split on whitespace, as sh does."""
    out: list[str] = []
    cur, have = "", False
    for text, quote in word.parts:
        if quote == "'":
            cur, have = cur + text, True
        elif quote == '"':
            cur, have = cur + _expand(text, env), True
        elif "$" not in text:
            cur, have = cur + text, have or bool(text)
        else:
            value = _expand(text, env)
            pieces = value.split()
            if value[:1].isspace() and (cur or have):
                out.append(cur)
                cur, have = "", False
            if not pieces:
                continue
            cur, have = cur + pieces[0], True
            for p in pieces[1:]:
                out.append(cur)
                cur = p
            if value[-1:].isspace():
                out.append(cur)
                cur, have = "", False
    if cur or have:
        out.append(cur)
    return out


def _value(word: _Word, env: Mapping[str, str]) -> str:
    """An assignment's value: expanded but never split."""
    return "".join(t if q == "'" else _expand(t, env) for t, q in word.parts)


# ------------------------------------------------------------- parser


@dataclass
class _Simple:
    words: list[_Word]
    redirs: list[tuple[str, _Word | None]]
    offset: int
    end: int
    scope: tuple[str, ...]  # "case:<patterns>" and "func:<name>" frames, outermost first
    pipe_id: int
    background: bool = False


_RESERVED = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "esac"}
)


def _parse(text: str) -> list[_Simple]:
    toks = _lex(text)
    cmds: list[_Simple] = []
    scope: list[str] = []
    braces: list[bool] = []  # True: this brace opened a function body
    case_state: list[str] = []  # "pattern" or "body"
    pending_func: str | None = None
    cur: _Simple | None = None
    pipe_id = 0
    i = 0

    def close(background: bool = False) -> None:
        nonlocal cur
        if cur is not None and (cur.words or cur.redirs):
            cur.background = background
            cmds.append(cur)
        cur = None

    while i < len(toks):
        t = toks[i]
        if case_state and case_state[-1] == "pattern":
            # Patterns up to ')' select a branch; `esac` ends the case.
            if t.kind == "word" and t.value == "esac":
                case_state.pop()
                scope.pop()
                i += 1
                continue
            pats: list[str] = []
            while i < len(toks) and not (toks[i].kind == "op" and toks[i].value == ")"):
                if toks[i].kind == "word":
                    pats.append(toks[i].value.strip("\"'"))
                i += 1
            scope[-1] = "case:" + "|".join(pats)
            case_state[-1] = "body"
            i += 1
            continue
        if t.kind == "nl" or (t.kind == "op" and t.value in (";", "&", "&&", "||")):
            close(background=t.value == "&")
            pipe_id += 1
            i += 1
            continue
        if t.kind == "op" and t.value == ";;":
            close()
            pipe_id += 1
            if case_state:
                case_state[-1] = "pattern"
            i += 1
            continue
        if t.kind == "op" and t.value in ("|", "|&"):
            close()
            i += 1
            continue
        if t.kind == "op" and t.value in ("(", ")"):
            if t.value == "(" and cur is not None and len(cur.words) == 1 and i + 1 < len(toks):
                nxt = toks[i + 1]
                if nxt.kind == "op" and nxt.value == ")":
                    pending_func = cur.words[0].literal()
                    cur = None
                    i += 2
                    continue
            close()
            i += 1
            continue
        if t.kind == "redir":
            if cur is None:
                cur = _Simple([], [], t.offset, t.end, tuple(scope), pipe_id)
            cur.redirs.append((t.value, t.word))
            cur.end = t.end
            i += 1
            continue
        # A word.
        value = t.value
        if cur is None or not cur.words:
            if value == "{":
                braces.append(pending_func is not None)
                if pending_func is not None:
                    scope.append("func:" + pending_func)
                    pending_func = None
                i += 1
                continue
            if value == "}":
                if braces and braces.pop():
                    scope.pop()
                i += 1
                continue
            if value == "function" and i + 1 < len(toks) and toks[i + 1].kind == "word":
                pending_func = toks[i + 1].value
                i += 2
                continue
            if value == "case":
                close()
                scope.append("case:")
                case_state.append("pattern")
                # skip `case WORD in`
                i += 1
                while i < len(toks) and not (toks[i].kind == "word" and toks[i].value == "in"):
                    i += 1
                i += 1
                continue
            if value == "esac" and case_state:
                case_state.pop()
                scope.pop()
                i += 1
                continue
            if value in _RESERVED:
                i += 1
                continue
        if cur is None:
            cur = _Simple([], [], t.offset, t.end, tuple(scope), pipe_id)
        cur.words.append(t.word)  # type: ignore[arg-type]
        cur.end = t.end
        i += 1
    close()
    return cmds


def _reached_at_boot(scope: tuple[str, ...]) -> bool:
    for frame in scope:
        kind, _, name = frame.partition(":")
        if kind == "func" and (name in _NON_BOOT_BRANCHES or name.startswith(("stop", "reload", "status"))):
            return False
        if kind == "case" and name:
            pats = {p.strip() for p in name.split("|")}
            if pats and pats <= _NON_BOOT_BRANCHES:
                return False
    return True


# ------------------------------------------------------------ the model


_WRAPPERS_NOARG = frozenset(
    {"nohup", "exec", "command", "setsid", "time", "builtin", "stdbuf", "ionice", "chrt"}
)


class _Builder:
    def __init__(self, index: FileIndex) -> None:
        self.index = index
        self.commands: list[BootCommand] = []
        self.scripts: dict[str, BootScript] = {}

    # -- resolution

    def which(self, name: str, env: Mapping[str, str], cwd: str = "/") -> FileEntry | None:
        if not name or any(c in name for c in "*?[$`"):
            return None
        name = name.lstrip("-") if name.startswith("-/") else name
        if "/" in name:
            path = name if name.startswith("/") else posixpath.join(cwd, name)
            return self.index.get(path)
        for d in (env.get("PATH") or DEFAULT_PATH).split(":"):
            if d.startswith("/"):
                e = self.index.get(posixpath.join(d, name))
                if e is not None:
                    return e
        return None

    def resolved(self, name: str, env: Mapping[str, str]) -> FileEntry | None:
        entry = self.which(name, env)
        return self.index.resolve(entry.path, entry.fs) if entry is not None else None

    def is_script(self, entry: FileEntry | None) -> bool:
        if entry is None or not entry.is_file or entry.elf is not None:
            return False
        return entry.filetype in ("script", "text")

    def glob(self, pattern: str) -> list[FileEntry]:
        d, base = posixpath.split(pattern)
        if not d.startswith("/") or any(c in d for c in "*?["):
            return []
        return sorted(
            (e for e in self.index.children(d) if fnmatch.fnmatchcase(e.name, base)), key=lambda e: e.name
        )

    # -- scripts

    def run_script(
        self,
        entry: FileEntry,
        args: list[str],
        origin: str,
        enabled: bool,
        via: tuple[str, ...],
        env: dict[str, str] | None = None,
        sourced: bool = False,
    ) -> None:
        path = entry.path
        origin = "rc" if origin == "inittab" else origin  # a script run from inittab is an rc script
        if len(via) > _MAX_DEPTH or path in via:
            return
        collect = path not in self.scripts
        if not collect and not sourced:
            return
        if collect:
            self.scripts[path] = BootScript(path, origin, enabled, via)
        data = self.index.read(entry, _MAX_SCRIPT)
        text = data.decode("utf-8", errors="replace")
        local = env if (sourced and env is not None) else {"PATH": DEFAULT_PATH, **(env or {})}
        if not sourced:
            local["0"] = path
            for k in [k for k in local if k.isdigit() and k != "0"]:
                del local[k]
            for n, a in enumerate(args, 1):
                local[str(n)] = a
            local["@"] = local["*"] = " ".join(args)
            local["#"] = str(len(args))
        # A library sourced again still sets variables, but its commands are listed once.
        self.run_text(
            text, data, entry, origin, enabled, via + (path,), local, top_only=sourced, collect=collect
        )

    def run_text(
        self,
        text: str,
        data: bytes,
        entry: FileEntry,
        origin: str,
        enabled: bool,
        via: tuple[str, ...],
        env: dict[str, str],
        *,
        top_only: bool = False,
        collect: bool = True,
        at: tuple[int, int] | None = None,
        context: Mapping[str, str] | None = None,
    ) -> None:
        loop_x = _loops_testing_exec(text)
        pending: list[tuple[_Simple, list[str]]] = []

        def flush() -> None:
            # A pipeline is emitted whole, so each command sees its neighbours.
            pipeline = tuple(tuple(a) for _, a in pending)
            for s, argv in pending:
                self._emit_simple(
                    s, argv, pipeline, text, data, entry, origin, enabled, via, env, at, context
                )
            pending.clear()

        for s in _parse(text):
            if pending and pending[-1][0].pipe_id != s.pipe_id:
                flush()
            # Assignments take effect in order, as the shell runs them.
            assigns = 0
            for w in s.words:
                if not re.match(r"([A-Za-z_][A-Za-z0-9_]*)=", w.literal()):
                    break
                assigns += 1
            first = _fields(s.words[0], env) if s.words else []
            if first and first[0] in ("export", "local", "readonly", "declare", "typeset"):
                for w in s.words[1:]:
                    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", w.literal(), re.S)
                    if m:
                        env[m.group(1)] = _value(w, env)[len(m.group(1)) + 1 :]
                continue
            if assigns and assigns == len(s.words):
                for w in s.words:
                    name = w.literal().split("=", 1)[0]
                    env[name] = _value(w, env)[len(name) + 1 :]
                continue
            argv = [f for w in s.words[assigns:] for f in _fields(w, env)]
            if argv and argv[0] == "for" and len(argv) >= 3 and argv[2] == "in":
                items = argv[3:]
                env[argv[1]] = items[0] if len(items) == 1 else " ".join(items)
                if argv[1] in loop_x:
                    env["\0x:" + argv[1]] = "1"
                continue
            if not collect or (not argv and not s.redirs) or (top_only and s.scope):
                if argv and argv[0] in (".", "source"):
                    pending.append((s, argv))  # a library still sets variables
                continue
            pending.append((s, argv))
        flush()

    def _emit_simple(
        self,
        s: _Simple,
        argv: list[str],
        pipeline: tuple[tuple[str, ...], ...],
        text: str,
        data: bytes,
        entry: FileEntry,
        origin: str,
        enabled: bool,
        via: tuple[str, ...],
        env: dict[str, str],
        at: tuple[int, int] | None,
        context: Mapping[str, str] | None,
    ) -> None:
        boot = enabled and _reached_at_boot(s.scope)
        if at is not None:
            offset, end = at
            line = data.count(b"\n", 0, offset) + 1
        else:
            line = text.count("\n", 0, s.offset) + 1
            offset = len(text[: s.offset].encode("utf-8", errors="replace"))
            end = len(text[: s.end].encode("utf-8", errors="replace"))
        ls = data.rfind(b"\n", 0, offset) + 1
        le = data.find(b"\n", end)
        logical = data[ls : len(data) if le < 0 else le].decode("utf-8", errors="replace")
        redirs = tuple(op + ("".join(_fields(w, env)) if w is not None else "") for op, w in s.redirs)
        base = BootCommand(
            argv=tuple(argv),
            source=entry.path,
            line=line,
            offset=offset,
            length=max(0, end - offset),
            text=logical,
            origin=origin,
            enabled=boot,
            via=via[:-1] if via and via[-1] == entry.path else via,
            redirects=redirs,
            pipeline=pipeline,
            background=s.background,
            context=MappingProxyType(dict(context or {})),
        )
        self.emit(base, env, data, via)

    def emit(self, cmd: BootCommand, env: dict[str, str], data: bytes, via: tuple[str, ...]) -> None:
        argv = list(cmd.argv)
        argv, origin = _unwrap(argv, cmd.origin)
        if not argv:
            if cmd.redirects:
                self.commands.append(cmd)
            return
        prog = posixpath.basename(argv[0])
        if prog in ("procd_append_param",) and len(argv) > 2 and argv[1] == "command":
            for i in range(len(self.commands) - 1, -1, -1):
                prev = self.commands[i]
                if prev.source == cmd.source and prev.origin == "procd":
                    self.commands[i] = replace(prev, argv=prev.argv + tuple(argv[2:]))
                    break
            return
        if prog in ("sh", "ash", "bash", "dash", "hush") and "-c" in argv[1:]:
            k = argv.index("-c")
            if k + 1 < len(argv):
                self.inner(argv[k + 1], cmd, env, data, via)
                return
        if prog == "eval" and len(argv) > 1:
            self.inner(" ".join(argv[1:]), cmd, env, data, via)
            return
        if prog in (".", "source") and len(argv) > 1:
            target = self.which(argv[1], env)
            real = self.index.resolve(target.path, target.fs) if target else None
            if real is not None and self.is_script(real):
                self.run_script(real, argv[2:], cmd.origin, cmd.enabled, via, env, sourced=True)
            return
        if prog in ("run-parts",):
            d = next((a for a in argv[1:] if not a.startswith("-")), None)
            if d:
                for e in self.index.children(d):
                    real = self.index.resolve(e.path, e.fs)
                    if real is not None and self.is_script(real) and real.executable:
                        self.run_script(real, [], cmd.origin, cmd.enabled, via)
            return
        # A glob in command position: `for s in /etc/init.d/S??*; do $s start; done`.
        if any(c in argv[0] for c in "*?["):
            need_x = any(k.startswith("\0x:") for k in env)
            for e in self.glob(argv[0]):
                real = self.index.resolve(e.path, e.fs)
                if real is None or not self.is_script(real):
                    continue
                if need_x and not (e.executable or real.executable):
                    continue
                self.run_script(real, argv[1:], cmd.origin, cmd.enabled, via)
            return
        entry = self.which(argv[0], env)
        real = self.index.resolve(entry.path, entry.fs) if entry is not None else None
        if real is not None and real.name in MULTICALL and prog in MULTICALL and len(argv) > 1:
            argv = argv[1:]
        if prog in SHELLS and len(argv) > 1 and not argv[1].startswith("-"):
            script = self.which(argv[1], env)
            sreal = self.index.resolve(script.path, script.fs) if script else None
            if sreal is not None and self.is_script(sreal):
                self.commands.append(replace(cmd, argv=tuple(argv), origin=origin, executable=real))
                self.run_script(sreal, argv[2:], cmd.origin, cmd.enabled, via)
                return
        out = replace(cmd, argv=tuple(argv), origin=origin, executable=real)
        self.commands.append(out)
        if self.is_script(real) and real is not None:
            self.run_script(real, argv[1:], cmd.origin, cmd.enabled, via)

    def inner(
        self, script: str, cmd: BootCommand, env: dict[str, str], data: bytes, via: tuple[str, ...]
    ) -> None:
        entry = self.index.get(cmd.source)
        if entry is None:
            return
        self.run_text(
            script,
            data,
            entry,
            cmd.origin,
            cmd.enabled,
            via,
            env,
            at=(cmd.offset, cmd.offset + cmd.length),
            context=cmd.context,
        )


def _loops_testing_exec(text: str) -> set[str]:
    """Loop variables whose body tests `-x "$var"` before running it."""
    out = set()
    for m in re.finditer(r"\bfor\s+([A-Za-z_]\w*)\s+in\b(.*?)\bdone\b", text, re.S):
        var = m.group(1)
        if re.search(r"-x\s+\"?\$\{?" + re.escape(var) + r"\b", m.group(2)):
            out.add(var)
    return out


def _unwrap(argv: list[str], origin: str) -> tuple[list[str], str]:
    """Strip launchers (nohup, env, start-stop-daemon, procd ...) to the program that runs."""
    for _ in range(8):
        if not argv:
            return argv, origin
        prog = posixpath.basename(argv[0])
        if prog in _WRAPPERS_NOARG:
            argv = argv[1:]
        elif prog == "env":
            argv = argv[1:]
            while argv and (argv[0].startswith("-") or re.match(r"\w+=", argv[0])):
                argv = argv[1:]
        elif prog == "nice":
            argv = argv[1:]
            if argv and argv[0] == "-n":
                argv = argv[2:]
            elif argv and argv[0].startswith("-"):
                argv = argv[1:]
        elif prog == "timeout":
            argv = argv[1:]
            while argv and argv[0].startswith("-"):
                argv = argv[1:]
            argv = argv[1:]
        elif prog == "start-stop-daemon":
            return _ssd(argv), origin
        elif prog in ("procd_set_param",) and len(argv) > 2 and argv[1] == "command":
            return argv[2:], "procd"
        elif prog == "procd_set_param":
            return [], origin
        elif prog in ("service_start",):
            argv = argv[1:]
            while argv and argv[0].startswith("-"):
                argv = argv[1:]
        elif prog in ("chroot",) and len(argv) > 2:
            argv = argv[2:]
        else:
            return argv, origin
    return argv, origin


def _ssd(argv: list[str]) -> list[str]:
    exe: str | None = None
    startas: str | None = None
    stop = False
    rest: list[str] = []
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            rest = argv[i + 1 :]
            break
        if a in ("-K", "--stop"):
            stop = True
        elif a in ("-x", "--exec") and i + 1 < len(argv):
            exe = argv[i + 1]
            i += 1
        elif a.startswith("--exec="):
            exe = a.split("=", 1)[1]
        elif a in ("-a", "--startas") and i + 1 < len(argv):
            startas = argv[i + 1]
            i += 1
        elif a.startswith("--startas="):
            startas = a.split("=", 1)[1]
        elif a in (
            "-p",
            "--pidfile",
            "-n",
            "--name",
            "-u",
            "--user",
            "-c",
            "--chuid",
            "-N",
            "--nicelevel",
            "-r",
            "--chroot",
            "-d",
            "--chdir",
            "-s",
            "--signal",
            "-R",
            "--retry",
            "-g",
            "--group",
        ):
            i += 1
        i += 1
    if stop:
        return []
    program = startas or exe
    return [program, *rest] if program else []


# ------------------------------------------------------------- entry points


def shared_boot_model(memo: dict[str, Any], index: FileIndex) -> BootModel:
    """boot_model(index), built once per scan and kept in its memo (CheckContext.memo): four checks
    read it, and reading every init script and crontab is not free."""
    model = memo.get("boot-model")
    if not isinstance(model, BootModel):
        model = memo["boot-model"] = boot_model(index)
    return model


def boot_model(index: FileIndex) -> BootModel:
    """Every command the image starts at boot (enabled) or merely ships wired up (not enabled)."""
    b = _Builder(index)
    env = {"PATH": DEFAULT_PATH}
    inittab = index.get("/etc/inittab")
    if inittab is not None and inittab.is_file:
        _inittab(b, inittab)
    if inittab is None or not inittab.is_file:
        for p in ("/etc/init.d/rcS", "/etc/rc.d/rcS", "/etc/rcS", "/etc/rc.sysinit", "/etc/rc.d/rc.sysinit"):
            e = index.resolve(p)
            if e is not None and b.is_script(e):
                b.run_script(e, [], "rc", True, ())
                break
    for p in ("/etc/rc.local", "/etc/rc.d/rc.local", "/etc/init.d/rc.local"):
        e = index.resolve(p)
        if e is not None and b.is_script(e):
            b.run_script(e, [], "rc", True, ())
    # SysV and OpenWrt: links in rc.d run with "start" ("boot" on OpenWrt, which calls start).
    rcdirs = ["/etc/rc.d"] + [f"/etc/rc{n}.d" for n in "S12345"] + [f"/etc/rc.d/rc{n}.d" for n in "S12345"]
    for d in rcdirs:
        for e in sorted(index.children(d), key=lambda e: e.name):
            if re.match(r"S\d", e.name):
                real = index.resolve(e.path, e.fs)
                if real is not None and b.is_script(real):
                    b.run_script(real, ["start"], "rc", True, (e.path,) if e.is_symlink else ())
    # Scripts nothing reached: S??-named ones count as boot scripts, others are only shipped.
    for d in ("/etc/init.d", "/etc/rc.d/init.d"):
        for e in sorted(index.children(d), key=lambda e: e.name):
            real = index.resolve(e.path, e.fs)
            if real is None or not b.is_script(real) or real.path in b.scripts:
                continue
            on = bool(re.match(r"S\d\d", e.name)) and (e.executable or real.executable)
            b.run_script(real, ["start"], "rc", on, ())
    _systemd(b)
    _crontabs(b, env)
    _inetd(b)
    _xinetd(b)
    return BootModel(b.commands, b.scripts)


_INIT_BOOT_ACTIONS = frozenset(
    {"sysinit", "respawn", "askfirst", "once", "wait", "boot", "bootwait", "initdefault"}
)


def _text_lines(data: bytes) -> Iterator[tuple[int, bytes, str]]:
    """(byte offset, raw bytes, text) of each line that is neither blank nor a comment."""
    offset = 0
    for raw in data.split(b"\n"):
        start = offset
        offset += len(raw) + 1
        line = raw.decode("utf-8", errors="replace")
        if line.strip() and not line.lstrip().startswith("#"):
            yield start, raw, line


def _inittab(b: _Builder, entry: FileEntry) -> None:
    data = b.index.read(entry, _MAX_SCRIPT)
    for start, raw, line in _text_lines(data):
        fields = line.split(":", 3)
        if len(fields) != 4:
            continue
        ident, runlevels, action, process = fields
        action = action.strip()
        if action not in _INIT_BOOT_ACTIONS or not process.strip():
            continue
        ctx = {"action": action, "id": ident, "runlevels": runlevels}  # id is the tty on BusyBox
        col = len(":".join(fields[:3])) + 1
        proc = process.strip()
        login = proc.startswith("-")
        if login:
            ctx["login"] = "1"
            proc = proc[1:]
        pos = start + col + (len(process) - len(process.lstrip()))
        b.run_text(
            proc,
            data,
            entry,
            "inittab",
            True,
            (entry.path,),
            {"PATH": DEFAULT_PATH},
            at=(pos, start + len(raw)),
            context=ctx,
        )


def _systemd(b: _Builder) -> None:
    dirs = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system")
    units: dict[str, FileEntry] = {}
    wanted: set[str] = set()
    for d in dirs:
        for e in b.index.glob(d + "/*"):
            rel = e.path[len(d) + 1 :]
            parent, _, name = rel.rpartition("/")
            if parent.endswith((".wants", ".requires")):
                target = b.index.resolve(e.path, e.fs)
                wanted.add(posixpath.basename(e.link_target) if e.is_symlink and e.link_target else name)
                if target is not None and target.is_file:
                    units.setdefault(name, target)
                continue
            if "/" in rel or not e.is_file and not e.is_symlink:
                continue
            if name.endswith((".service", ".socket")):
                real = b.index.resolve(e.path, e.fs)
                if real is not None and real.is_file:
                    units.setdefault(name, real)
    sockets: dict[str, dict[str, str]] = {}
    for name, e in units.items():
        if name.endswith(".socket"):
            kv = _unit_keys(b.index.text(e, _MAX_SCRIPT))
            sockets[name[: -len(".socket")]] = {
                "listen": (kv.get("ListenStream") or kv.get("ListenDatagram") or [""])[0],
                "accept": (kv.get("Accept") or ["no"])[0],
                "enabled": "1" if name in wanted else "",
                "protocol": "udp" if "ListenDatagram" in kv else "tcp",
            }
    for name, e in sorted(units.items()):
        if not name.endswith(".service"):
            continue
        stem = name[: -len(".service")].rstrip("@")
        sock = sockets.get(stem)
        enabled = name in wanted or bool(sock and sock["enabled"])
        data = b.index.read(e, _MAX_SCRIPT)
        text = data.decode("utf-8", errors="replace")
        env: dict[str, str] = {"PATH": DEFAULT_PATH}
        ctx: dict[str, str] = {"unit": name}
        if sock:
            ctx.update(socket=sock["listen"], accept=sock["accept"], protocol=sock["protocol"])
        offset = 0
        for raw in text.split("\n"):
            start = offset
            offset += len(raw.encode("utf-8", errors="replace")) + 1
            m = re.match(r"\s*(Environment|ExecStart|ExecStartPre|ExecStartPost)\s*=\s*(.*)", raw)
            if not m:
                continue
            if m.group(1) == "Environment":
                for k, v in re.findall(r"\"?([A-Za-z_]\w*)=([^\"\s]*)\"?", m.group(2)):
                    env[k] = v
                continue
            cmdline = m.group(2).lstrip("-@:+!")
            b.run_text(
                cmdline,
                data,
                e,
                "systemd",
                enabled,
                (e.path,),
                dict(env),
                at=(start, start + len(raw)),
                context=ctx,
            )


def _unit_keys(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for raw in text.splitlines():
        m = re.match(r"\s*([A-Za-z]+)\s*=\s*(.*)", raw)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2).strip())
    return out


_CRON_DIRS = ("/etc/crontabs", "/var/spool/cron/crontabs", "/var/spool/cron", "/etc/cron.d")
_CRON_DAEMONS = ("crond", "cron", "cronie", "fcron", "dcron")


def _crontabs(b: _Builder, env: Mapping[str, str]) -> None:
    files: list[tuple[FileEntry, bool]] = []
    e = b.index.resolve("/etc/crontab")
    if e is not None and e.is_file:
        files.append((e, True))
    seen = set()
    for d in _CRON_DIRS:
        for c in sorted(b.index.children(d), key=lambda x: x.name):
            real = b.index.resolve(c.path, c.fs)
            if real is None or not real.is_file or real.path in seen or real.elf is not None:
                continue
            seen.add(real.path)
            files.append((real, d == "/etc/cron.d"))
    if not files:
        return
    running = any(c.enabled and c.names & set(_CRON_DAEMONS) for c in b.commands)
    present = running or any(b.resolved(n, env) is not None for n in _CRON_DAEMONS)
    for entry, with_user in files:
        data = b.index.read(entry, _MAX_SCRIPT)
        cenv = dict(env)
        for start, raw, line in _text_lines(data):
            s = line.strip()
            m = re.match(r"([A-Za-z_]\w*)\s*=\s*(.*)$", s)
            if m:
                cenv[m.group(1)] = m.group(2).strip("\"'")
                continue
            if s.startswith("@"):
                parts = s.split(None, 2 if with_user else 1)
                sched, rest = parts[0], parts[1:]
            else:
                parts = s.split(None, 6 if with_user else 5)
                sched, rest = " ".join(parts[:5]), parts[5:]
            if with_user and rest:
                user, rest = rest[0], rest[1:] if len(rest) > 1 else []
            else:
                user = posixpath.basename(entry.path)
            if not rest:
                continue
            cmdline = " ".join(rest)
            cmdline = cmdline.split("%", 1)[0]  # cron: '%' starts stdin
            pos = start + raw.decode("utf-8", errors="replace").find(cmdline[:16]) if cmdline else start
            ctx = {"schedule": sched, "user": user}
            b.run_text(
                cmdline,
                data,
                entry,
                "cron",
                present,
                (entry.path,),
                dict(cenv),
                at=(max(pos, start), start + len(raw)),
                context=ctx,
            )


def _services(index: FileIndex) -> dict[str, tuple[int, str]]:
    e = index.get("/etc/services")
    out: dict[str, tuple[int, str]] = {}
    if e is None or not e.is_file:
        return out
    for line in index.text(e, _MAX_SCRIPT).splitlines():
        m = re.match(r"\s*([\w.-]+)\s+(\d+)/(tcp|udp)", line)
        if m:
            out.setdefault(f"{m.group(1)}/{m.group(3)}", (int(m.group(2)), m.group(3)))
    return out


_WELL_KNOWN = {
    "telnet": 23,
    "ssh": 22,
    "ftp": 21,
    "http": 80,
    "tftp": 69,
    "shell": 514,
    "login": 513,
    "exec": 512,
}


def _port_of(service: str, proto: str, services: Mapping[str, tuple[int, str]]) -> str:
    if service.isdigit():
        return service
    if f"{service}/{proto}" in services:
        return str(services[f"{service}/{proto}"][0])
    return str(_WELL_KNOWN.get(service, ""))


def _inetd(b: _Builder) -> None:
    e = b.index.resolve("/etc/inetd.conf")
    if e is None or not e.is_file:
        return
    env = {"PATH": DEFAULT_PATH}
    running = any(c.enabled and c.names & {"inetd", "xinetd"} for c in b.commands)
    enabled = running or b.resolved("inetd", env) is not None
    services = _services(b.index)
    data = b.index.read(e, _MAX_SCRIPT)
    for start, raw, line in _text_lines(data):
        f = line.split()
        if len(f) < 6 or f[5] == "internal":
            continue
        service, sock, proto = f[0], f[1], f[2]
        server, args = f[5], f[7:] if len(f) > 7 else []
        if posixpath.basename(server) == "tcpd" and args:
            server, args = args[0], args[1:]
        elif len(f) > 6:
            args = f[7:]
        proto = "udp" if proto.startswith("udp") else "tcp"
        svc = service.split(":")[-1]
        ctx = {"service": svc, "socket": sock, "protocol": proto, "port": _port_of(svc, proto, services)}
        cmd = BootCommand(
            argv=(server, *args),
            source=e.path,
            line=data.count(b"\n", 0, start) + 1,
            offset=start,
            length=len(raw),
            text=line,
            origin="inetd",
            enabled=enabled,
            context=MappingProxyType(ctx),
        )
        b.commands.append(replace(cmd, executable=b.resolved(server, env)))


def _xinetd(b: _Builder) -> None:
    files = [x for x in [b.index.resolve("/etc/xinetd.conf")] if x is not None and x.is_file]
    files += sorted((x for x in b.index.children("/etc/xinetd.d") if x.is_file), key=lambda x: x.name)
    env = {"PATH": DEFAULT_PATH}
    services = _services(b.index)
    for e in files:
        data = b.index.read(e, _MAX_SCRIPT)
        text = data.decode("utf-8", errors="replace")
        for m in re.finditer(r"^[ \t]*service[ \t]+(\S+)\s*\{(.*?)\}", text, re.S | re.M):
            kv: dict[str, str] = {}
            for line in m.group(2).splitlines():
                km = re.match(r"\s*([a-z_]+)\s*[+-]?=\s*(.*?)\s*$", line)
                if km and not line.lstrip().startswith("#"):
                    kv[km.group(1)] = km.group(2)
            server = kv.get("server")
            if not server:
                continue
            proto = kv.get("protocol", "tcp")
            ctx = {
                "service": m.group(1),
                "socket": kv.get("socket_type", "stream"),
                "protocol": proto,
                "port": kv.get("port") or _port_of(m.group(1), proto, services),
            }
            start = len(text[: m.start()].encode("utf-8", errors="replace"))
            cmd = BootCommand(
                argv=(server, *kv.get("server_args", "").split()),
                source=e.path,
                line=text.count("\n", 0, m.start()) + 1,
                offset=start,
                length=len(m.group(0).encode("utf-8", errors="replace")),
                text=m.group(0),
                origin="xinetd",
                enabled=kv.get("disable", "no").lower() != "yes",
                executable=b.resolved(server, env),
                context=MappingProxyType(ctx),
            )
            b.commands.append(cmd)


# ------------------------------------------------------------- listeners

_DEFAULT_PORTS = {
    "telnetd": 23,
    "utelnetd": 23,
    "in.telnetd": 23,
    "dropbear": 22,
    "sshd": 22,
    "httpd": 80,
    "uhttpd": 80,
    "mini_httpd": 80,
    "thttpd": 80,
    "boa": 80,
    "goahead": 80,
    "dnsmasq": 53,
    "ftpd": 21,
    "vsftpd": 21,
    "tftpd": 69,
    "snmpd": 161,
}
_UDP = frozenset({"tftpd", "snmpd", "udpsvd"})


def _listeners_of(cmd: BootCommand) -> Iterable[Listener]:
    ctx = cmd.context
    if cmd.origin in ("inetd", "xinetd") and ctx.get("port", "").isdigit():
        yield Listener(cmd.program, int(ctx["port"]), ctx.get("protocol", "tcp"), cmd)
        return
    if cmd.origin == "systemd" and ctx.get("socket"):
        m = re.search(r"(\d+)$", ctx["socket"])
        if m:
            yield Listener(cmd.program, int(m.group(1)), ctx.get("protocol", "tcp"), cmd)
            return
    names = cmd.names
    args = list(cmd.args)
    if names & {"tcpsvd", "udpsvd", "tcpserver"}:
        pos = [a for a in args if not a.startswith("-")]
        if len(pos) >= 2 and pos[1].isdigit():
            yield Listener(
                pos[2] if len(pos) > 2 else cmd.program,
                int(pos[1]),
                "udp" if "udpsvd" in names else "tcp",
                cmd,
            )
        return
    if names & {"nc", "netcat", "ncat", "nc.traditional", "nc.openbsd"}:
        flags = "".join(a[1:] for a in args if a.startswith("-") and not a.startswith("--"))
        if "l" in flags:
            port = _opt(args, "-p") or next((a for a in args if a.isdigit()), None)
            if port and port.isdigit():
                yield Listener(cmd.program, int(port), "udp" if "u" in flags else "tcp", cmd)
        return
    if "socat" in names:
        for a in args:
            m = re.match(r"(?i)(tcp|udp)[46]?-listen:(\d+)", a)
            if m:
                yield Listener(cmd.program, int(m.group(2)), m.group(1).lower(), cmd)
        return
    for name in names:
        if name in _DEFAULT_PORTS:
            ports = _all_opts(args, "-p") or [str(_DEFAULT_PORTS[name])]
            for p in ports:
                m = re.search(r"(\d+)$", p)
                if m:
                    yield Listener(name, int(m.group(1)), "udp" if name in _UDP else "tcp", cmd)
            return


def _opt(args: list[str], flag: str) -> str | None:
    found = _all_opts(args, flag)
    return found[0] if found else None


def _all_opts(args: list[str], flag: str) -> list[str]:
    out = []
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            out.append(args[i + 1])
        elif a.startswith(flag) and len(a) > len(flag) and not a.startswith("--"):
            out.append(a[len(flag) :])
        elif (
            a.startswith("-")
            and not a.startswith("--")
            and a.endswith(flag[1:])
            and len(a) > 2
            and i + 1 < len(args)
        ):
            out.append(args[i + 1])
    return out


__all__ = [
    "DEFAULT_PATH",
    "ORIGINS",
    "SHELLS",
    "BootCommand",
    "BootModel",
    "BootScript",
    "Listener",
    "boot_model",
    "is_shell",
]
