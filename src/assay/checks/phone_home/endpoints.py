"""Find external network endpoints (URLs, public IP literals, domain names) in strings.

Only endpoints a device would actually contact survive: private, reserved, loopback, link-local,
multicast and documentation addresses, dotted version numbers, and well-known standards,
time and resolver infrastructure are dropped.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

_URL = re.compile(
    r"(?i)\b(?:https?|ftps?|tftp|mqtts?|wss?|rtmps?|coaps?|sftp)://"
    r"(?:[^\s/@\"'<>]*@)?(\[[0-9a-f:.]+\]|[a-z0-9._-]+)(?::(\d{1,5}))?([^\s\"'<>\\]*)"
)
_IPV4 = re.compile(r"(?<![\w.])((?:\d{1,3}\.){3}\d{1,3})(?::(\d{1,5}))?(?![\w]|\.\d)")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# Bare names need a TLD that is not also a common file extension (.so, .sh, .pl, .cc, .info ...).
_BARE_TLDS = (
    "com|net|org|biz|io|cn|ru|de|uk|jp|kr|tw|hk|fr|nl|eu|us|ca|au|br|es|se|ch|at|be|dk|fi|no|cz|tr|"
    "ir|vn|th|my|sg|mx|ar|cl|co|za|nz|ua|kz|by|su|tv|ws|top|xyz|online|site|club|vip|app|dev|cloud|"
    "tech|link|live|shop|store|asia|mobi|name|gov|edu|mil|int|ai"
)
_DOMAIN = re.compile(rf"(?<![\w.-])((?:{_LABEL}\.)+(?:{_BARE_TLDS}))(?::(\d{{1,5}}))?(?![\w-]|\.[a-z0-9])")

# Hosts a security engineer does not want to hear about: time, standards, resolvers, examples,
# open-source project sites and the like. Suffix match on whole labels.
INFRASTRUCTURE = (
    "ntp.org",
    "pool.ntp.org",
    "nist.gov",
    "time.windows.com",
    "time.apple.com",
    "time.google.com",
    "time.cloudflare.com",
    "ntp.ubuntu.com",
    "ntsc.ac.cn",
    "w3.org",
    "xmlsoap.org",
    "openssl.org",
    "ietf.org",
    "iana.org",
    "icann.org",
    "root-servers.net",
    "root-servers.org",
    "in-addr.arpa",
    "ip6.arpa",
    "arpa",
    "gnu.org",
    "fsf.org",
    "busybox.net",
    "kernel.org",
    "debian.org",
    "ubuntu.com",
    "example.com",
    "example.net",
    "example.org",
    "example",
    "test",
    "invalid",
    "localhost",
    "local",
    "lan",
    "localdomain",
    "home",
    "internal",
    "schemas.microsoft.com",
    "purl.org",
    "xml.org",
    "oasis-open.org",
    "openwrt.org",
    "lede-project.org",
    "curl.se",
    "haxx.se",
    "sourceforge.net",
    "apache.org",
    "mozilla.org",
    "python.org",
    "perl.org",
    "freedesktop.org",
    "opensource.org",
    "creativecommons.org",
    "upnp.org",
    "schemas-upnp-org",
    "dlna.org",
    "openssh.com",
    "matt.ucc.asn.au",
    "isc.org",
    "thekelleys.org.uk",
    "lighttpd.net",
    "zlib.net",
    "gnupg.org",
    "openvpn.net",
    "sqlite.org",
    "jquery.com",
    "json.org",
    "wikipedia.org",
    "letsencrypt.org",
    "digicert.com",
    "verisign.com",
    "globalsign.com",
    "sectigo.com",
    "comodoca.com",
    "entrust.net",
    "godaddy.com",
    "identrust.com",
    "usertrust.com",
    "certum.pl",
    "dyndns.org",
    "dyndns.com",
    "no-ip.com",
    "noip.com",
    "changeip.com",
    "dnsomatic.com",
    "freedns.afraid.org",
    "duckdns.org",
    "opendns.com",
    "quad9.net",
    "msftncsi.com",
    "msftconnecttest.com",
    "connectivitycheck.gstatic.com",
    "captive.apple.com",
    "cve.org",
    "mitre.org",
    "nvd.nist.gov",
    "tzo.com",
    "dynu.com",
    "oray.com",
    "3322.org",
)
# Portals devices probe to learn whether the WAN is up; exact names only.
CONNECTIVITY_PROBES = frozenset(
    {
        "www.google.com",
        "google.com",
        "www.apple.com",
        "apple.com",
        "www.baidu.com",
        "baidu.com",
        "www.qq.com",
        "www.microsoft.com",
        "www.bing.com",
        "www.yahoo.com",
        "www.msn.com",
        "www.facebook.com",
        "www.amazon.com",
        "www.163.com",
        "www.sina.com.cn",
    }
)

# Public recursive resolvers and root servers: resolver defaults are configuration, not phone-home.
RESOLVERS = frozenset(
    {
        "8.8.8.8",
        "8.8.4.4",
        "1.1.1.1",
        "1.0.0.1",
        "9.9.9.9",
        "149.112.112.112",
        "208.67.222.222",
        "208.67.220.220",
        "114.114.114.114",
        "114.114.115.115",
        "223.5.5.5",
        "223.6.6.6",
        "180.76.76.76",
        "119.29.29.29",
        "4.2.2.1",
        "4.2.2.2",
        "64.6.64.6",
        "64.6.65.6",
        "77.88.8.8",
        "77.88.8.1",
        "94.140.14.14",
        "76.76.2.0",
        "198.41.0.4",
        "199.9.14.201",
        "192.33.4.12",
        "199.7.91.13",
        "192.203.230.10",
        "192.5.5.241",
        "192.112.36.4",
        "198.97.190.53",
        "192.36.148.17",
        "192.58.128.30",
        "193.0.14.129",
        "199.7.83.42",
        "202.12.27.33",
    }
)

_VERSION_CONTEXT = re.compile(
    rb"(?i)(version|ver[ .:=]|release|build|firmware|kernel|linux|gcc|glibc|v$|rev[ .:=]|oid|\d\.$|-$|_$)"
)


@dataclass(frozen=True)
class Endpoint:
    host: str  # lower-case domain or IP literal
    kind: str  # "url", "ip", "domain"
    text: str  # the matched text (URL, ip[:port], domain[:port])
    start: int  # offset of text within the searched string
    port: int | None = None

    @property
    def is_ip(self) -> bool:
        return _is_ip(self.host)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def public_ip(host: str) -> bool:
    """A globally routed unicast address that is not a well-known resolver or root server."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    if not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback:
        return False
    return str(ip) not in RESOLVERS


def infrastructure(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host in CONNECTIVITY_PROBES:
        return True
    return any(host == suffix or host.endswith("." + suffix) for suffix in INFRASTRUCTURE)


def _valid_domain(host: str) -> bool:
    labels = host.split(".")
    if len(labels) < 2 or not re.fullmatch(r"[a-z]{2,24}", labels[-1]) or labels[-2] == "www":
        return False
    return all(re.fullmatch(_LABEL, lab) for lab in labels)


def _port(text: str | None) -> int | None:
    if text and text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    return None


def _versionish(s: str, start: int, ip: str) -> bool:
    """A dotted quad that is really a version, OID or build number."""
    before = s[max(0, start - 12) : start].encode("ascii", "replace")
    if _VERSION_CONTEXT.search(before.rstrip()) or before.rstrip().endswith((b"v", b"V")):
        return True
    parts = ip.split(".")
    if all(len(o) == 1 for o in parts):
        # four one-digit numbers read as a version (socat's "1.7.4.4"); the public addresses of
        # that shape in use are well-known resolvers, which are dropped anyway
        return True
    return any(int(o) > 255 or (len(o) > 1 and o.startswith("0")) for o in parts)


def find_endpoints(s: str, *, bare: bool = True) -> list[Endpoint]:
    """External endpoints in one string. bare=False: only URLs and IP literals."""
    out: list[Endpoint] = []
    spans: list[tuple[int, int]] = []
    for m in _URL.finditer(s):
        host = m.group(1).lower().strip("[]").rstrip(".")
        spans.append(m.span())
        if _is_ip(host):
            if public_ip(host):
                out.append(Endpoint(host, "url", m.group(0), m.start(), _port(m.group(2))))
        elif _valid_domain(host) and not infrastructure(host):
            out.append(Endpoint(host, "url", m.group(0), m.start(), _port(m.group(2))))

    def inside(pos: int) -> bool:
        return any(a <= pos < b for a, b in spans)

    for m in _IPV4.finditer(s):
        if inside(m.start()):
            continue
        ip = m.group(1)
        if _versionish(s, m.start(), ip) or not public_ip(ip):
            continue
        out.append(Endpoint(ip, "ip", m.group(0), m.start(), _port(m.group(2))))
    if bare:
        for m in _DOMAIN.finditer(s):
            if inside(m.start()):
                continue
            host = m.group(1).lower()
            if _valid_domain(host) and not infrastructure(host):
                out.append(Endpoint(host, "domain", m.group(0), m.start(), _port(m.group(2))))
    return out


_DOC_WORDS = re.compile(
    r"(?i)(href|src=|<a |<link|<script|xmlns|see |visit|report|documentation|manual|help|license|"
    r"licence|copyright|bugs|please|for more|more info|www\.w3|doctype|schema)"
)


# A program's banner: its name and version printed beside its home page ("tool v%s - <url>").
_BANNER = re.compile(r"(?i)\bv(?:ersion)?[ :]*%s\b")


def documentation_context(s: str, ep: Endpoint) -> bool:
    """The string around the endpoint reads like a link for people, not a place code connects to."""
    rest = s[: ep.start] + s[ep.start + len(ep.text) :]
    if _DOC_WORDS.search(rest) or _BANNER.search(rest):
        return True
    # Prose ("Adapted from <url>", "mirror at <url>") rather than a command or a bare address.
    words = [w for w in rest.split() if w.isalpha() and len(w) >= 3]
    return len(words) >= 2


__all__ = [
    "INFRASTRUCTURE",
    "RESOLVERS",
    "Endpoint",
    "documentation_context",
    "find_endpoints",
    "infrastructure",
    "public_ip",
]
