"""known-backdoor: YARA signatures over binaries the tests compile themselves."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import capstone
import pytest
import yara

from assay.checks.base import CheckContext
from assay.checks.known_backdoor.check import CHECK, compile_rules
from assay.index import build_index
from assay.model import Finding
from assay.unpack import index_directory

SERCOMM = 0x53634D4D


def gcc(tmp: Path, source: str, name: str, *flags: str, cc: str = "gcc") -> bytes:
    compiler = shutil.which(cc)
    if compiler is None:
        pytest.fail(f"{cc} is not installed (scripts/apt-packages.txt)")
    src = tmp / f"{name}.c"
    src.write_text(source)
    out = tmp / f"{name}.o"
    subprocess.run([compiler, "-c", *flags, str(src), "-o", str(out)], check=True, capture_output=True)
    return out.read_bytes()


def scan(root: Path, files: dict[str, bytes | str], **options: object) -> list[Finding]:
    for path, content in files.items():
        host = root / path.lstrip("/")
        host.parent.mkdir(parents=True, exist_ok=True)
        host.write_bytes(content.encode() if isinstance(content, str) else content)
    index = build_index([index_directory(root, "fs0")])
    return list(CHECK.run(CheckContext(index=index, options=dict(options))))


def indicators(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.path, f.details["indicator"]) for f in findings}


@pytest.fixture(scope="module")
def rules() -> yara.Rules:
    return compile_rules()


def test_every_rule_documents_itself(rules: yara.Rules) -> None:
    listed = list(rules)
    assert len(listed) >= 14
    for rule in listed:
        meta = rule.meta
        assert re.fullmatch(r"[a-z0-9-]+", meta["name"]), rule.identifier
        assert meta["description"] and meta["severity"] in ("critical", "high", "medium")
        refs = meta["references"].split()
        assert refs and all(r.startswith(("https://", "http://")) for r in refs)
        assert meta["cve"] == "" or re.fullmatch(r"CVE-\d{4}-\d{4,}", meta["cve"])


SERCOMM_C = """
volatile unsigned int rx;
int is_request(void) { return rx == 0x53634D4DU; }
int is_request_swapped(void) { return rx == 0x4D4D6353U; }
"""


@pytest.mark.parametrize(
    ("cc", "flags"),
    [
        ("mipsel-linux-gnu-gcc", ("-O2",)),
        ("mipsel-linux-gnu-gcc", ("-O0", "-EB")),
        ("gcc", ("-O2",)),
        ("mips-linux-gnu-gcc", ("-O2",)),
        ("aarch64-linux-gnu-gcc", ("-O2",)),
        ("arm-linux-gnueabi-gcc", ("-O2", "-march=armv7-a")),
        ("arm-linux-gnueabi-gcc", ("-O2", "-march=armv7-a", "-mthumb")),
    ],
)
def test_sercomm_magic_as_integer_constant(tmp_path: Path, cc: str, flags: tuple[str, ...]) -> None:
    obj = gcc(tmp_path, SERCOMM_C, "scmm", *flags, cc=cc)
    assert b"ScMM" not in obj and b"MMcS" not in obj or cc == "gcc"  # only in instructions
    findings = scan(tmp_path / "root", {"/usr/sbin/scfgmgr": obj})
    assert indicators(findings) == {("/usr/sbin/scfgmgr", "sercomm-tcp32764")}
    f = findings[0]
    assert f.category == "known-backdoor" and f.details["cve"] == "CVE-2014-0659"
    assert "https://nvd.nist.gov/vuln/detail/CVE-2014-0659" in f.references
    for ev in f.evidence:
        assert ev.offset is not None and ev.length
        assert ev.excerpt and ev.sha256 == findings[0].evidence[0].sha256


def _arm_movw_movt(value: int, rd: int = 3) -> bytes:
    lo, hi = value & 0xFFFF, value >> 16
    movw = 0xE3000000 | ((lo >> 12) << 16) | (rd << 12) | (lo & 0xFFF)
    movt = 0xE3400000 | ((hi >> 12) << 16) | (rd << 12) | (hi & 0xFFF)
    return struct.pack("<II", movw, movt)


def _thumb_movw_movt(value: int, rd: int = 2) -> bytes:
    def enc(top: int, imm: int) -> bytes:
        hw1 = top | (((imm >> 11) & 1) << 10) | (imm >> 12)
        hw2 = (((imm >> 8) & 7) << 12) | (rd << 8) | (imm & 0xFF)
        return struct.pack("<HH", hw1, hw2)

    return enc(0xF240, value & 0xFFFF) + enc(0xF2C0, value >> 16)


def _a64_movz_movk(value: int, rd: int = 1) -> bytes:
    movz = 0x52800000 | ((value & 0xFFFF) << 5) | rd
    movk = 0x72A00000 | ((value >> 16) << 5) | rd
    return struct.pack("<II", movz, movk)


def _ppc_lis_ori(value: int, rd: int = 9) -> bytes:
    lis = 0x3C000000 | (rd << 21) | (value >> 16)
    ori = 0x60000000 | (rd << 21) | (rd << 16) | (value & 0xFFFF)
    return struct.pack(">II", lis, ori)


@pytest.mark.parametrize(
    ("encode", "arch", "mode", "mnemonics"),
    [
        (_arm_movw_movt, capstone.CS_ARCH_ARM, capstone.CS_MODE_ARM, ("movw", "movt")),
        (_thumb_movw_movt, capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB, ("movw", "movt")),
        (_a64_movz_movk, capstone.CS_ARCH_ARM64, capstone.CS_MODE_ARM, ("mov", "movk")),
        (_ppc_lis_ori, capstone.CS_ARCH_PPC, capstone.CS_MODE_BIG_ENDIAN, ("lis", "ori")),
    ],
)
def test_sercomm_magic_as_immediates_on_other_isas(rules: yara.Rules, encode, arch, mode, mnemonics) -> None:  # type: ignore[no-untyped-def]
    for value in (SERCOMM, 0x4D4D6353):
        code = encode(value)
        insns = list(capstone.Cs(arch, mode).disasm(code, 0))
        assert tuple(i.mnemonic for i in insns) == mnemonics  # the encoder builds what the rule expects
        blob = b"\x00" * 64 + code + b"\x00" * 64
        assert [m.rule for m in rules.match(data=blob)] == ["sercomm_tcp32764"]


DLINK_SPLIT_C = """
#include <string.h>
static const char a[] = "xmlset_roodk";
static const char b[] = "cableoj28840ybtide";
int is_backdoor(const char *ua) {
    char buf[64];
    strcpy(buf, a); strcat(buf, b);
    return strcmp(ua, buf) == 0;
}
"""

TENDA_C = """
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
int mfg_socket(void) {
    struct sockaddr_in sa; memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET; sa.sin_port = htons(7329);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    bind(s, (struct sockaddr *)&sa, sizeof sa);
    return s;
}
int is_mfg(const char *pkt) {
    return strncmp(pkt, "w302r", 5) == 0 && strncmp(pkt + 5, "_mfg", 4) == 0;
}
"""

NETCORE_C = """
#include <string.h>
#include <netinet/in.h>
int port(void) { return htons(53413); }
int login(const char *pw) { return strcmp(pw, "netcore") == 0; }
"""


@pytest.mark.parametrize("flags", [("-O2",), ("-Os", "-EB")])
def test_split_strings_and_ports(tmp_path: Path, flags: tuple[str, ...]) -> None:
    files = {
        "/bin/webs": gcc(tmp_path, DLINK_SPLIT_C, "dlink", *flags, cc="mipsel-linux-gnu-gcc"),
        "/bin/httpd": gcc(tmp_path, TENDA_C, "tenda", *flags, cc="mipsel-linux-gnu-gcc"),
        "/bin/igd": gcc(tmp_path, NETCORE_C, "netcore", *flags, cc="mipsel-linux-gnu-gcc"),
    }
    assert b"xmlset_roodkcableoj28840ybtide" not in files["/bin/webs"]
    found = scan(tmp_path / "root", files)
    assert indicators(found) == {
        ("/bin/webs", "dlink-xmlset-roodkcableoj"),
        ("/bin/httpd", "tenda-w302r-mfg"),
        ("/bin/igd", "netcore-igdmptd-53413"),
    }
    dlink = next(f for f in found if f.path == "/bin/webs")
    assert dlink.details["cve"] == "CVE-2013-6026" and "CVE-2013-6026" in dlink.title
    data = files["/bin/webs"]
    for ev in dlink.evidence:
        assert ev.offset is not None and ev.length is not None
        assert ev.excerpt == data[ev.offset : ev.offset + ev.length].decode()


def test_strings_of_documented_backdoors(tmp_path: Path) -> None:
    files = {
        "/usr/sbin/sshd": b"\x7fELF" + b"\x00" * 100 + b"<<< %s(un='%s') = %u\x00",
        "/usr/sbin/zyfwd": b"\x7fELF" + b"\x00" * 50 + b"zyfwp\x00\x00\x00PrOw!aN_fXp\x00",
        "/usr/bin/dvrHelper": b"\x7fELF" + b"\x00" * 50 + b"OpenTelnet:OpenOnce\x00",
        "/www/cgi-bin/auth": '#!/bin/sh\n[ "$AUTH" = YWRtaW46MTEK ] && exec /bin/sh\n',
    }
    found = indicators(scan(tmp_path, files))
    assert found == {
        ("/usr/sbin/sshd", "juniper-screenos-authbypass"),
        ("/usr/sbin/zyfwd", "zyxel-zyfwp"),
        ("/usr/bin/dvrHelper", "xiongmai-9530-opentelnet"),
        ("/www/cgi-bin/auth", "hikvision-auth-ywrtaw46mtek"),
    }


def test_weak_indicators_alone_are_not_backdoors(tmp_path: Path) -> None:
    plain = gcc(tmp_path, "int f(int x) { return x * 3; }\n", "plain", "-O2", cc="mipsel-linux-gnu-gcc")
    files = {
        # A lone 'netcore' (an author's e-mail in a daemon) and a lone 'zyfwp' are not back doors.
        "/bin/busybox": b"\x7fELF" + b"\x00" * 64 + b"Pekka <pekkas@netcore.fi>\x00usage\x00",
        "/usr/sbin/radvd": plain + b"netcore\x00",
        "/etc/zyxel.conf": "user zyfwp disabled\n",
        "/etc/services": "netcore 53413/udp\n",  # text port next to the word, but no program
        "/bin/true": Path("/bin/true").read_bytes(),
        "/etc/banner": "ScMM is just text outside a program\n",
    }
    assert scan(tmp_path / "root", files) == []


def test_size_cap_is_honoured(tmp_path: Path) -> None:
    files = {"/usr/sbin/zyfwd": b"\x7fELF" + b"\x00" * 50 + b"PrOw!aN_fXp\x00"}
    assert scan(tmp_path / "a", files)
    assert scan(tmp_path / "b", files, known_backdoor_max_bytes=32) == []


def test_compiled_rules_are_cached_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assay.checks.known_backdoor.check import load_rules

    monkeypatch.setenv("ASSAY_CACHE_DIR", str(tmp_path / "cache"))
    sample = b"\0xmlset_roodkcableoj28840ybtide\0"
    first = load_rules()
    cached = sorted((tmp_path / "cache").glob("known-backdoor-*.yarc"))
    assert len(cached) == 2 and not list((tmp_path / "cache").glob("*.tmp"))  # the rules and their gate
    again = load_rules()
    assert [m.rule for m in again.match(sample)] == [m.rule for m in first.match(sample)] != []
    for path in cached:  # corrupt or from another YARA: compiled afresh
        path.write_bytes(b"not a compiled rule set")
    assert [m.rule for m in load_rules().match(sample)] == [m.rule for m in first.match(sample)]


def _found(matches: list[Any]) -> list[tuple[str, str, list[tuple[str, list[tuple[int, int]]]]]]:
    return sorted(
        (
            m.namespace,
            m.rule,
            [(s.identifier, [(i.offset, i.matched_length) for i in s.instances]) for s in m.strings],
        )
        for m in matches
    )


ELF = b"\x7fELF" + bytes(60)


@pytest.mark.parametrize(
    ("sample", "rule"),
    [
        (ELF + b"tddp\0TDDP\0" + b"\x10\x04\x00\x00", "tplink_tddp"),
        (ELF + b"tddp\0tddp\0" + b"\x00\x00\x04\x10", "tplink_tddp"),  # the port as a big-endian word
        (ELF + b"macGuarder\0OpenTelnet:\0" + b"\x00\x00\x25\x3a", "xiongmai_9530_telnet"),
        (ELF + b"igdmptd\0" + b"\x00\x00\xd0\xa5", "netcore_igdmptd_53413"),
        (ELF + b"w302r\0" + b"\xa1\x1c\x00\x00", "tenda_w302r_mfg"),
        (ELF + b"\x00\x00\x04\x10\x00\x00\x25\x3a\x00\x00\xd0\xa5\x00\x00\x1c\xa1", None),  # ports alone
    ],
)
def test_the_gate_gives_what_the_whole_rule_set_gives(
    rules: yara.Rules, sample: bytes, rule: str | None
) -> None:
    from assay.checks.known_backdoor.check import load_rules

    full = rules.match(data=sample)
    assert [m.rule for m in full] == ([rule] if rule else [])
    assert _found(load_rules().match(sample)) == _found(full)


def test_the_gate_cuts_only_rules_with_weak_strings() -> None:
    from assay.checks.known_backdoor.check import RULES_DIR, _gate

    tenda = (RULES_DIR / "tenda.yar").read_text()
    cut, gated = _gate(tenda)
    assert gated == {"tenda_w302r_mfg"}
    assert "$port" not in cut and "$wimm_le_arm" in cut and "any of them" in cut
    zte = (RULES_DIR / "zte.yar").read_text()
    assert _gate(zte) == (zte, set())


def test_a_big_file_is_matched_once_and_then_read_from_the_result_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assay.checks.cache import ResultCache
    from assay.checks.known_backdoor import check as kb

    big = b"\x7fELF" + bytes(300 << 10) + b"zyfwp\x00\x00\x00PrOw!aN_fXp\x00"  # over the cache threshold
    root = tmp_path / "root"
    (root / "usr/sbin").mkdir(parents=True)
    (root / "usr/sbin/zyfwd").write_bytes(big)
    index = build_index([index_directory(root, "fs0")])
    plain = list(CHECK.run(CheckContext(index=index)))
    assert indicators(plain) == {("/usr/sbin/zyfwd", "zyxel-zyfwp")}
    kept = list(CHECK.run(CheckContext(index=index, results=ResultCache(tmp_path / "c.sqlite"))))
    assert [f.to_dict() for f in kept] == [f.to_dict() for f in plain]

    def no_yara(*_args: object) -> None:
        raise AssertionError("matched again")

    monkeypatch.setattr(kb, "_matches", no_yara)
    again = list(CHECK.run(CheckContext(index=index, results=ResultCache(tmp_path / "c.sqlite"))))
    assert [f.to_dict() for f in again] == [f.to_dict() for f in plain]
