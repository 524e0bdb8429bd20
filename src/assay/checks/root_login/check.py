"""root-login: remote login services that let root log in directly."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from assay.analysis.configfiles import ConfigLine, config_lines, text_files, uci_sections
from assay.checks.base import Check, CheckContext, evidence_at, evidence_of_file
from assay.index import FileIndex
from assay.model import Evidence, Finding, Severity

_BOOT_FILES = (
    "/etc/inittab",
    "/etc/init.d/*",
    "/etc/rc.d/*",
    "/etc/rc.local",
    "/etc/rcS*",
    "/etc/rc",
    "/etc/inetd.conf",
    "/etc/xinetd.d/*",
    "/lib/systemd/system/*.service",
    "/etc/systemd/system/*.service",
)
# Tokens after which the next word is the program a line runs.
_COMMAND_LEAD = {"&&", "||", ";", "|", "&", "exec", "nohup", "then", "do", "else", "--", "command", "setsid",
                 "-x", "--exec", "--startas", "-a", "nice", "chroot"}  # fmt: skip
_OFF = {"0", "off", "false", "no", "disabled"}
_DROPBEAR_ARG_OPTS = set("bpPrdKIWcaTjkGEm")  # options that take a value: the rest of the cluster is it
_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$")


@dataclass(frozen=True)
class _Start:
    line: ConfigLine
    program: str
    args: list[str]


def _tokens(text: str) -> list[str]:
    text = re.sub(r"^[^:\s]*:[^:]*:[a-z]+:", "", text) if text.count(":") >= 3 else text  # inittab
    text = re.sub(r"^ExecStart=-?", "", text)
    try:
        toks = shlex.split(text, comments=False, posix=True)
    except ValueError:
        toks = text.split()
    out: list[str] = []
    for t in toks:
        # Split glued separators ("foo;bar", "a&&b") so command positions are seen.
        out.extend(p for p in re.split(r"(&&|\|\||;|\|)", t) if p)
    return out


def _starts(index: FileIndex, programs: set[str]) -> Iterator[_Start]:
    """Lines of boot files that run one of the programs, with its arguments."""
    for entry in text_files(index, *_BOOT_FILES):
        data = index.read(entry, 1 << 20)
        if b"\n" not in data.strip() and b" " not in data.strip():
            continue  # a symlink stored as a file by the tool that unpacked the image
        dynamic = b"procd_append_param" in data  # arguments built at run time from UCI
        env: dict[str, str] = {}
        for line in config_lines(index, entry):
            m = _ASSIGN.match(line.text)
            if m:
                env[m.group(1)] = m.group(2).strip("\"'")
                continue
            toks = [_expand(t, env) for t in _tokens(line.text)]
            inetd = entry.name == "inetd.conf"
            for i, tok in enumerate(toks):
                if posixpath.basename(tok) not in programs:
                    continue
                lead = toks[i - 1] if i else ""
                if i == 0 or lead in _COMMAND_LEAD or lead == "command" or inetd and i >= 5:
                    if lead in ("-x", "-a") and "start-stop-daemon" not in line.text:
                        continue  # "[ -x /usr/sbin/dropbear ]" tests, it does not run
                    args = toks[i + 1 :]
                    if "--" in toks[:i] or "--" not in args:
                        pass
                    else:
                        args = args[args.index("--") + 1 :]
                    end = next((j for j, a in enumerate(args) if a in ("&&", "||", ";", "|", "&")), len(args))
                    args = args[:end]
                    if not dynamic and not any("$" in a for a in args):
                        yield _Start(line, posixpath.basename(tok), args)
                    break


def _expand(token: str, env: dict[str, str]) -> str:
    return _VAR.sub(lambda v: env.get(v.group(1), v.group(0)), token)


def _dropbear_flags(args: list[str]) -> set[str]:
    flags: set[str] = set()
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if not a.startswith("-") or a == "-":
            continue
        for j, c in enumerate(a[1:]):
            flags.add(c)
            if c in _DROPBEAR_ARG_OPTS:
                skip = j == len(a) - 2  # value is the next word when the option ends the cluster
                break
    return flags


def _line_evidence(line: ConfigLine, note: str) -> Evidence:
    return evidence_at(line.entry, line.data, line.offset, len(line.text.encode()), note=note)


def _sshd(ctx: CheckContext) -> Iterator[Finding]:
    for entry in (e for e in ctx.index.files() if e.name == "sshd_config"):
        permit: ConfigLine | None = None
        empty: ConfigLine | None = None
        for line in config_lines(ctx.index, entry):
            word, _, value = line.text.partition(" ")
            key = word.lower()
            if key == "match":
                break  # first value outside Match blocks is the global one
            if key == "permitrootlogin" and permit is None:
                permit = line
            if key == "permitemptypasswords" and empty is None and value.strip().lower() == "yes":
                empty = line
        version = _openssh_version(ctx)
        if permit is not None:
            value = permit.text.split(None, 1)[1].strip().lower() if " " in permit.text else ""
            if value == "yes":
                yield CHECK.finding(
                    entry.path,
                    "sshd allows root to log in with a password (PermitRootLogin yes)",
                    [_line_evidence(permit, "PermitRootLogin yes")],
                    details={"service": "sshd", "setting": "PermitRootLogin", "value": value},
                )
        elif version is None or version < (7, 0):
            known = f"OpenSSH {'.'.join(map(str, version))}" if version else "an unknown OpenSSH version"
            yield CHECK.finding(
                entry.path,
                f"sshd_config does not set PermitRootLogin; {known} defaults to allowing root",
                [evidence_of_file(entry, note="no PermitRootLogin line; OpenSSH before 7.0 defaults to yes")],
                severity=Severity.MEDIUM if version else Severity.LOW,
                details={"service": "sshd", "setting": "PermitRootLogin", "value": None},
            )
        if empty is not None:
            yield CHECK.finding(
                entry.path,
                "sshd accepts empty passwords (PermitEmptyPasswords yes)",
                [_line_evidence(empty, "PermitEmptyPasswords yes")],
                severity=Severity.HIGH,
                details={"service": "sshd", "setting": "PermitEmptyPasswords", "value": "yes"},
            )


def _openssh_version(ctx: CheckContext) -> tuple[int, ...] | None:
    for c in ctx.components:
        if c.name.lower() == "openssh" and c.version:
            m = re.match(r"(\d+)\.(\d+)", c.version)
            if m:
                return int(m.group(1)), int(m.group(2))
    for e in ctx.index.files():
        if e.name == "sshd" and e.elf is not None:
            m2 = re.search(rb"OpenSSH_(\d+)\.(\d+)", ctx.index.read(e))
            if m2:
                return int(m2.group(1)), int(m2.group(2))
    return None


def _dropbear(ctx: CheckContext) -> Iterator[Finding]:
    for entry in text_files(ctx.index, "*/etc/config/dropbear"):
        for stype, _name, options in uci_sections(ctx.index, entry):
            if stype != "dropbear":
                continue
            root_login = options.get("RootLogin")
            if root_login is not None and root_login[0].strip().lower() in _OFF:
                continue
            pw = options.get("RootPasswordAuth")
            key_only = pw is not None and pw[0].strip().lower() in _OFF
            ev = [_line_evidence(root_login[1], "RootLogin is on")] if root_login else []
            if pw is not None:
                ev.append(_line_evidence(pw[1], f"RootPasswordAuth {pw[0]}"))
            if not ev:
                ev = [evidence_of_file(entry, note="no RootLogin option: dropbear's init script allows root")]
            yield CHECK.finding(
                entry.path,
                "Dropbear lets root log in" + (" with keys only" if key_only else " with a password"),
                ev,
                severity=Severity.LOW if key_only else Severity.MEDIUM,
                details={"service": "dropbear", "setting": "RootLogin", "password_auth": not key_only},
            )
    for start in _starts(ctx.index, {"dropbear"}):
        flags = _dropbear_flags(start.args)
        if "w" in flags:
            continue
        key_only = bool(flags & {"g", "s"})
        yield CHECK.finding(
            start.line.entry.path,
            "Dropbear is started without -w, so root may log in" + (" with keys" if key_only else ""),
            [_line_evidence(start.line, "dropbear started without -w")],
            severity=Severity.LOW if key_only else Severity.MEDIUM,
            details={"service": "dropbear", "args": start.args},
        )


def _telnet(ctx: CheckContext) -> Iterator[Finding]:
    starts = list(_starts(ctx.index, {"telnetd", "utelnetd"}))
    if not starts:
        return
    securetty = ctx.index.get("/etc/securetty")
    remote_ttys: list[ConfigLine] = []
    if securetty is not None and securetty.is_file:
        remote_ttys = [
            line for line in config_lines(ctx.index, securetty) if re.match(r"^(pts/|ttyp)", line.text)
        ]
    for start in starts:
        login = "/bin/login"
        if "-l" in start.args and start.args.index("-l") + 1 < len(start.args):
            login = start.args[start.args.index("-l") + 1]
        if "login" not in posixpath.basename(login):
            continue  # telnetd -l /bin/sh is a remote shell, reported by that check
        ev = [_line_evidence(start.line, f"{start.program} runs {login}")]
        if securetty is None:
            why = "there is no /etc/securetty, so login accepts root on any terminal"
        elif remote_ttys:
            why = "/etc/securetty lists network terminals"
            ev += [_line_evidence(t, "network pseudo-terminal allowed for root") for t in remote_ttys[:4]]
        else:
            continue
        yield CHECK.finding(
            start.line.entry.path,
            f"Telnet login as root is allowed: {why}",
            ev,
            severity=Severity.HIGH,
            details={"service": "telnet", "login": login},
        )


def run(ctx: CheckContext) -> Iterator[Finding]:
    yield from _sshd(ctx)
    yield from _dropbear(ctx)
    yield from _telnet(ctx)


CHECK = Check(
    id="root-login",
    category="configuration",
    severity=Severity.MEDIUM,
    title="Root may log in remotely",
    description=(
        "sshd_config with PermitRootLogin yes (or unset on OpenSSH before 7.0, whose default "
        "was yes) or PermitEmptyPasswords yes; Dropbear started without -w or configured in "
        "UCI without RootLogin 0 (key-only root login is low); telnetd started with a login "
        "program while /etc/securetty is missing or lists network terminals."
    ),
    run=run,
    needs_components=True,  # the OpenSSH version decides PermitRootLogin's default
    clause="4.3.2.6",
    references=(
        "https://man.openbsd.org/sshd_config#PermitRootLogin",
        "https://openwrt.org/docs/guide-user/base-system/dropbear",
        "https://cwe.mitre.org/data/definitions/250.html",
    ),
    false_positives=(
        "A service line in an init script that is never enabled still counts; a firewall may "
        "keep the port closed."
    ),
)
