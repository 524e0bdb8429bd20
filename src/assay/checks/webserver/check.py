"""Web server hardening (TS 33.117 4.3.4) from lighttpd, nginx, uhttpd, boa and GoAhead configs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from assay.analysis.configfiles import ConfigLine, config_lines, text_files, uci_sections
from assay.checks.base import Check, CheckContext, evidence_at, evidence_of_file
from assay.index import FileEntry, FileIndex
from assay.model import Evidence, Finding, Severity

REFS = ("https://www.3gpp.org/ftp/Specs/archive/33_series/33.117/",)


@dataclass
class WebServer:
    """What one web server's configuration says, each fact with the line that says it."""

    kind: str
    config: FileEntry
    docroots: list[str] = field(default_factory=list)
    dir_listing: ConfigLine | None = None  # line that enables it
    dir_listing_default_on: bool = False  # the server lists directories unless told not to
    user: tuple[str, ConfigLine | None] | None = None  # (user, line); None: unknown
    hides_version: ConfigLine | None = None
    sends_version: bool = True  # by default, unless hides_version says otherwise
    extra_methods: ConfigLine | None = None


def _lighttpd(index: FileIndex, entry: FileEntry) -> WebServer:
    ws = WebServer("lighttpd", entry)
    ws.user = ("root", None)  # lighttpd keeps root unless server.username is set
    for line in config_lines(index, entry):
        key, _, value = line.text.partition("=")
        key, value = key.strip(), value.strip().strip('"').strip()
        if key in ("dir-listing.activate", "server.dir-listing") and value.lower() in ("enable", "1", "true"):
            ws.dir_listing = line
        elif key == "server.username":
            ws.user = (value or "root", line)
        elif key == "server.tag":
            if not re.search(r"\d+\.\d+", value):
                ws.hides_version = line
        elif key == "server.document-root":
            ws.docroots.append(value)
        elif "mod_webdav" in line.text:
            ws.extra_methods = line
    return ws


def _nginx(index: FileIndex, entry: FileEntry) -> WebServer:
    ws = WebServer("nginx", entry)
    ws.user = ("nobody", None)  # nginx workers default to nobody
    for line in config_lines(index, entry):
        words = line.text.rstrip(";").split()
        if not words:
            continue
        if words[0] == "autoindex" and words[1:2] == ["on"]:
            ws.dir_listing = line
        elif words[0] == "user" and len(words) > 1:
            ws.user = (words[1], line)
        elif words[0] == "server_tokens" and words[1:2] == ["off"]:
            ws.hides_version = line
        elif words[0] == "root" and len(words) > 1:
            ws.docroots.append(words[1])
        elif words[0] in ("dav_methods", "dav_ext_methods") and words[1:2] != ["off"]:
            ws.extra_methods = line
    return ws


def _uhttpd(index: FileIndex, entry: FileEntry) -> Iterator[WebServer]:
    for stype, _name, options in uci_sections(index, entry):
        if stype != "uhttpd":
            continue
        ws = WebServer("uhttpd", entry, dir_listing_default_on=True)
        ws.user = ("root", None)  # procd starts uhttpd as root; it has no user option
        nodir = options.get("no_dirlists")
        if nodir and nodir[0] not in ("1", "true", "yes", "on"):
            ws.dir_listing = nodir[1]
        elif nodir:
            ws.dir_listing_default_on = False
        home = options.get("home")
        ws.docroots.append(home[0] if home else "/www")
        ws.sends_version = False  # uhttpd sends no Server header
        yield ws


def _boa(index: FileIndex, entry: FileEntry) -> WebServer:
    ws = WebServer("boa", entry)
    ws.user = ("root", None)
    for line in config_lines(index, entry):
        words = line.text.split()
        if len(words) < 2:
            continue
        if words[0] == "User":
            ws.user = ("root" if words[1] in ("root", "0") else words[1], line)
        elif words[0] == "DocumentRoot":
            ws.docroots.append(words[1])
        elif words[0] == "DirectoryMaker":
            ws.dir_listing = line
    return ws


def web_servers(index: FileIndex) -> list[WebServer]:
    servers: list[WebServer] = []
    for e in text_files(index, "*/lighttpd*.conf", "/etc/lighttpd/*"):
        if e.name.endswith(".conf"):
            servers.append(_lighttpd(index, e))
    for e in text_files(index, "/etc/nginx/*.conf", "/etc/nginx/sites-enabled/*", "/etc/nginx/conf.d/*.conf"):
        servers.append(_nginx(index, e))
    for e in text_files(index, "/etc/config/uhttpd"):
        servers.extend(_uhttpd(index, e))
    for e in text_files(index, "*/boa.conf"):
        servers.append(_boa(index, e))
    return servers


def _line_ev(line: ConfigLine, note: str) -> Evidence:
    return evidence_at(line.entry, line.data, line.offset, len(line.text.encode()), note=note)


def _dir_listing(ctx: CheckContext) -> Iterable[Finding]:
    for ws in web_servers(ctx.index):
        if ws.dir_listing is not None:
            ev = _line_ev(ws.dir_listing, "directory listing enabled here")
        elif ws.dir_listing_default_on:
            ev = evidence_of_file(
                ws.config, note=f"{ws.kind} lists directories by default and this config does not turn it off"
            )
        else:
            continue
        yield DIR_LISTING.finding(ws.config.path, f"{ws.kind}: directory listing enabled", [ev])


def _runs_as_root(ctx: CheckContext) -> Iterable[Finding]:
    for ws in web_servers(ctx.index):
        if ws.user is None or ws.user[0] not in ("root", "0"):
            continue
        line = ws.user[1]
        ev = (
            _line_ev(line, "server user")
            if line
            else evidence_of_file(
                ws.config,
                note=f"no user directive: {ws.kind} keeps the privileges it was started with (root at boot)",
            )
        )
        yield RUNS_AS_ROOT.finding(ws.config.path, f"{ws.kind} runs as root", [ev])


def _version_header(ctx: CheckContext) -> Iterable[Finding]:
    for ws in web_servers(ctx.index):
        if ws.hides_version is not None or not ws.sends_version:
            continue
        if ws.kind == "lighttpd":
            note = "no server.tag: lighttpd sends 'Server: lighttpd/<version>'"
        elif ws.kind == "nginx":
            note = "server_tokens is not off: nginx sends its version in headers and error pages"
        elif ws.kind == "boa":
            note = "Boa always sends 'Server: Boa/<version>'"
        else:
            continue
        yield VERSION_HEADER.finding(
            ws.config.path,
            f"{ws.kind} reveals its version in HTTP headers",
            [evidence_of_file(ws.config, note=note)],
        )
    # GoAhead has no config for it: the banner is compiled in.
    for e in ctx.index.elves():
        if e.size > 8 << 20:
            continue
        data = ctx.index.read(e)
        m = re.search(rb"Server: GoAhead[-/ ][\w./ -]{0,40}", data)
        if m:
            yield VERSION_HEADER.finding(
                e.path,
                "GoAhead web server reveals itself in HTTP headers",
                [evidence_at(e, data, m.start(), len(m.group()), note="compiled-in Server header")],
            )


def _methods(ctx: CheckContext) -> Iterable[Finding]:
    for ws in web_servers(ctx.index):
        if ws.extra_methods is not None:
            yield METHODS.finding(
                ws.config.path,
                f"{ws.kind}: WebDAV methods (PUT, DELETE, PROPFIND, ...) enabled",
                [_line_ev(ws.extra_methods, "enables extra HTTP methods")],
            )


# Files that web servers and CGI kits ship as samples; their presence on a device is default content.
_DEFAULT_CONTENT = re.compile(
    r"^(index\.lighttpd\.html|index\.nginx-debian\.html|50x\.html|test-cgi|printenv(\.cgi|\.pl)?|"
    r"phpinfo\.php|info\.php|test\.php|test\.cgi|hello\.cgi|example\.(html|cgi)|"
    r"goahead\.(html|asp)|default\.asp|boa_test\.html)$",
    re.IGNORECASE,
)


def _default_content(ctx: CheckContext) -> Iterable[Finding]:
    roots = {r.rstrip("/") for ws in web_servers(ctx.index) for r in ws.docroots if r.startswith("/")}
    roots |= {"/www", "/var/www", "/usr/share/www", "/home/httpd", "/web", "/webs"}
    for e in ctx.index.files():
        if not any(e.path.startswith(r + "/") for r in roots):
            continue
        if _DEFAULT_CONTENT.match(e.name):
            yield DEFAULT_CONTENT.finding(
                e.path,
                f"Default or sample web content: {e.name}",
                [evidence_of_file(e, note="sample file served by the web server")],
            )


DIR_LISTING = Check(
    id="webserver-dir-listing",
    category="webserver",
    severity=Severity.MEDIUM,
    title="Web server directory listing enabled",
    description="A web server lists directory contents when no index file exists (lighttpd dir-listing, nginx autoindex, uhttpd without no_dirlists, boa DirectoryMaker).",
    clause="4.3.4.14",
    references=REFS,
    false_positives="A server whose document root holds only index files leaks nothing even with listing on.",
    run=_dir_listing,
)
RUNS_AS_ROOT = Check(
    id="webserver-runs-as-root",
    category="webserver",
    severity=Severity.MEDIUM,
    title="Web server runs with root privileges",
    description="The web server does not drop privileges: no user directive (lighttpd server.username, boa User, nginx user) or it names root. uhttpd has no such option and runs as root under procd.",
    clause="4.3.4.6",
    references=REFS,
    false_positives="A server started through a wrapper that drops privileges (e.g. start-stop-daemon --chuid) is not seen here.",
    run=_runs_as_root,
)
VERSION_HEADER = Check(
    id="webserver-version-header",
    category="webserver",
    severity=Severity.LOW,
    title="Web server reveals its version in HTTP headers",
    description="lighttpd without server.tag, nginx without server_tokens off, boa and GoAhead (compiled-in banner) name themselves and their version in the Server header.",
    clause="4.3.4.15",
    references=REFS,
    false_positives="A reverse proxy in front of the server may rewrite the header.",
    run=_version_header,
)
METHODS = Check(
    id="webserver-http-methods",
    category="webserver",
    severity=Severity.MEDIUM,
    title="Unused HTTP methods enabled",
    description="WebDAV modules enable PUT, DELETE, MOVE, PROPFIND and similar methods on the device's web server.",
    clause="4.3.4.7",
    references=REFS,
    false_positives="Devices that offer file shares over WebDAV on purpose.",
    run=_methods,
)
DEFAULT_CONTENT = Check(
    id="webserver-default-content",
    category="webserver",
    severity=Severity.LOW,
    title="Default or sample web content",
    description="Sample pages and test CGIs shipped by web servers (index.lighttpd.html, test-cgi, printenv, phpinfo.php, ...) inside a document root.",
    clause="4.3.4.13",
    references=REFS,
    false_positives="A vendor page that happens to use one of these names.",
    run=_default_content,
)

CHECKS = [DIR_LISTING, RUNS_AS_ROOT, VERSION_HEADER, METHODS, DEFAULT_CONTENT]
