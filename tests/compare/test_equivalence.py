"""`assay equivalence`: identical, equivalent after named normalizations, or different."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from cmp_helpers import assay_cli, mksquashfs, need, run_main

from assay.compare.equivalence import equivalence
from assay.compare.normalize import compare_content, strip_trailing_signature
from assay.compare.render import render_equivalence
from assay.compare.schema import EQUIVALENCE_JSON_SCHEMA


def rows(result: dict) -> dict[str, dict]:
    return {r["path"]: r for r in result["files"]}


def names(row: dict) -> list[str]:
    return [n["name"] for n in row.get("normalizations", [])]


def test_repacked_with_other_mtimes_is_equivalent(rootfs: Callable[[str], Path], tmp_path: Path) -> None:
    root = rootfs("root")
    a = mksquashfs(root, tmp_path / "a.sqfs", mtime=1_500_000_000)
    b = mksquashfs(root, tmp_path / "b.sqfs", mtime=1_700_000_000)
    assert a.read_bytes() != b.read_bytes()
    result = equivalence(a, b, jobs=1)
    jsonschema.validate(result, EQUIVALENCE_JSON_SCHEMA)
    assert result["verdict"] == "equivalent"
    assert result["different"] == [] and result["only_deployed"] == [] and result["only_reference"] == []
    assert result["summary"]["equivalent"] == len(result["files"]) > 5
    for row in result["files"]:
        assert names(row) == ["mtime"], row
        assert "2017-07-14T02:40:00Z vs 2023-11-14T22:13:20Z" in row["normalizations"][0]["explanation"]
    assert any("differ byte-wise in the same container layout (squashfs@0x0" in n for n in result["notes"])
    text = render_equivalence(result, "text")
    assert f"{len(result['files'])} entries equivalent after normalizing only their mtime" in text
    assert "verdict: EQUIVALENT" in text


def test_repacked_with_other_compression_is_identical(rootfs: Callable[[str], Path], tmp_path: Path) -> None:
    """Same files, same times: the image bytes differ, every file is identical."""
    root = rootfs("root")
    a = mksquashfs(root, tmp_path / "a.sqfs")
    b = tmp_path / "b.sqfs"
    subprocess.run(
        ["mksquashfs", str(root), str(b), "-noappend", "-quiet", "-no-progress", "-all-root", "-comp", "xz"]
        + ["-all-time", "1700000000", "-mkfs-time", "1700000000"],
        check=True,
        capture_output=True,
    )
    assert a.read_bytes() != b.read_bytes()
    result = equivalence(a, b, jobs=1)
    assert result["verdict"] == "identical"
    assert result["summary"]["identical"] == len(result["files"])


def test_rebuilt_binary_with_other_build_id_is_equivalent(
    rootfs: Callable[[str], Path], binaries: dict[str, Path], tmp_path: Path
) -> None:
    deployed, reference = rootfs("deployed"), rootfs("reference")
    shutil.copy(binaries["hello_b"], reference / "bin/hello")
    result = equivalence(
        mksquashfs(deployed, tmp_path / "d.sqfs"), mksquashfs(reference, tmp_path / "r.sqfs")
    )
    jsonschema.validate(result, EQUIVALENCE_JSON_SCHEMA)
    assert result["verdict"] == "equivalent"
    row = rows(result)["/bin/hello"]
    assert row["status"] == "equivalent"
    assert names(row) == ["elf-build-id"]
    assert "a1a1a1" in row["normalizations"][0]["explanation"]
    assert "b2b2b2" in row["normalizations"][0]["explanation"]
    assert result["different"] == [] and result["only_deployed"] == []
    text = render_equivalence(result, "text")
    assert "normalized: elf-build-id" in text and "verdict: EQUIVALENT" in text


def test_changed_code_and_extra_file_are_different(
    rootfs: Callable[[str], Path], binaries: dict[str, Path], tmp_path: Path
) -> None:
    deployed, reference = rootfs("deployed"), rootfs("reference")
    shutil.copy(binaries["hello2"], deployed / "bin/hello")
    (deployed / "bin/backdoor").write_bytes(b"#!/bin/sh\nexec sh\n")
    (deployed / "etc/shadow").chmod(0o666)
    (deployed / "etc/<img src=x onerror=alert(1)>").write_text("x")
    result = equivalence(
        mksquashfs(deployed, tmp_path / "d.sqfs"), mksquashfs(reference, tmp_path / "r.sqfs"), jobs=1
    )
    assert result["verdict"] == "different"
    assert result["only_deployed"] == ["/bin/backdoor", "/etc/<img src=x onerror=alert(1)>"]
    html = render_equivalence(result, "html")
    assert html.startswith("<!doctype html>") and "DIFFERENT" in html
    assert "<img src=x" not in html and "/etc/&lt;img src=x onerror=alert(1)&gt;" in html
    assert "mode: -rw-rw-rw- vs -rw-r--r--" in html
    assert set(result["different"]) == {"/bin/hello", "/etc/shadow"}
    hello = rows(result)["/bin/hello"]
    assert any(".text" in r or ".rodata" in r or "segment" in r for r in hello["reasons"]), hello["reasons"]
    assert rows(result)["/etc/shadow"]["reasons"] == ["mode: -rw-rw-rw- vs -rw-r--r--"]


def test_image_against_local_rebuild_directory(
    rootfs: Callable[[str], Path], binaries: dict[str, Path], tmp_path: Path
) -> None:
    deployed = mksquashfs(rootfs("deployed"), tmp_path / "d.sqfs")
    rebuild = rootfs("rebuild")
    shutil.copy(binaries["hello_b"], rebuild / "bin/hello")
    result = equivalence(deployed, rebuild, jobs=1)
    assert result["verdict"] == "equivalent", result["different"]
    assert result["reference"]["directory"] is True
    assert any("owners not compared" in n for n in result["notes"])


def test_cli_exit_codes(
    rootfs: Callable[[str], Path],
    binaries: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    deployed, reference = rootfs("deployed"), rootfs("reference")
    shutil.copy(binaries["hello_b"], reference / "bin/hello")
    d = mksquashfs(deployed, tmp_path / "d.sqfs")
    r = mksquashfs(reference, tmp_path / "r.sqfs")
    ok = assay_cli("equivalence", str(d), str(r), "--format", "json", "-o", str(tmp_path / "e.json"))
    assert ok.returncode == 0, ok.stderr
    assert json.loads((tmp_path / "e.json").read_text())["verdict"] == "equivalent"
    (reference / "etc/extra").write_text("x\n")
    r2 = mksquashfs(reference, tmp_path / "r2.sqfs")
    code, out, _ = run_main(capsys, "equivalence", str(d), str(r2))
    assert code == 1
    assert "only-reference" in out and "verdict: DIFFERENT" in out
    code, _, err = run_main(capsys, "equivalence", str(d), str(tmp_path / "missing"))
    assert code == 2 and "Traceback" not in err and "missing" in err


# ---------------------------------------------------------------- content normalizations


@pytest.fixture(scope="module")
def pkcs7_signature(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real detached PKCS#7 signature (DER) made by openssl."""
    need("openssl")
    d = tmp_path_factory.mktemp("sig")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        + ["-keyout", str(d / "k.pem"), "-out", str(d / "c.pem"), "-subj", "/CN=test", "-days", "1"],
        check=True,
        capture_output=True,
    )
    (d / "payload").write_bytes(b"payload")
    subprocess.run(
        ["openssl", "smime", "-sign", "-binary", "-in", str(d / "payload"), "-signer", str(d / "c.pem")]
        + ["-inkey", str(d / "k.pem"), "-outform", "DER", "-out", str(d / "sig.der")],
        check=True,
        capture_output=True,
    )
    return (d / "sig.der").read_bytes()


def test_trailing_pkcs7_signature_is_stripped(binaries: dict[str, Path], pkcs7_signature: bytes) -> None:
    body = binaries["hello_a"].read_bytes()
    stripped, what = strip_trailing_signature(body + pkcs7_signature)
    assert stripped == body and what is not None and "PKCS#7" in what
    out = compare_content(body + pkcs7_signature, body)
    assert out.status == "equivalent"
    assert [n.name for n in out.normalizations] == ["trailing-signature"]
    # A signature over different code is still different code.
    other = binaries["hello2"].read_bytes()
    assert compare_content(other + pkcs7_signature, body).status == "different"


def test_linux_module_signature_is_stripped(binaries: dict[str, Path], pkcs7_signature: bytes) -> None:
    body = binaries["hello_a"].read_bytes()
    info = struct.pack(">BBBBB3xI", 0, 0, 2, 0, 0, len(pkcs7_signature))
    signed = body + pkcs7_signature + info + b"~Module signature appended~\n"
    out = compare_content(signed, body)
    assert out.status == "equivalent"
    assert "module signature" in out.normalizations[0].explanation


def test_elf_signature_section_is_left_out(
    binaries: dict[str, Path], pkcs7_signature: bytes, tmp_path: Path
) -> None:
    need("objcopy")
    (tmp_path / "sig.der").write_bytes(pkcs7_signature)
    signed = tmp_path / "signed"
    subprocess.run(
        ["objcopy", "--add-section", f".sig={tmp_path / 'sig.der'}", str(binaries["hello_b"]), str(signed)],
        check=True,
        capture_output=True,
    )
    out = compare_content(signed.read_bytes(), binaries["hello_a"].read_bytes())
    assert out.status == "equivalent", out.reasons
    assert [n.name for n in out.normalizations] == ["elf-build-id", "elf-signature-section"]
    assert ".sig" in out.normalizations[1].explanation


def test_gnu_debuglink_crc(binaries: dict[str, Path], tmp_path: Path) -> None:
    need("objcopy")
    outs = []
    for i, content in enumerate((b"debug one", b"debug two")):
        dbg = tmp_path / "hello.debug"
        dbg.write_bytes(content)
        out = tmp_path / f"linked{i}"
        subprocess.run(
            ["objcopy", f"--add-gnu-debuglink={dbg}", str(binaries["hello_a"]), str(out)],
            check=True,
            capture_output=True,
            cwd=tmp_path,
        )
        outs.append(out.read_bytes())
    result = compare_content(outs[0], outs[1])
    assert result.status == "equivalent"
    assert [n.name for n in result.normalizations] == ["elf-debuglink-crc"]


def test_gzip_header_mtime(tmp_path: Path) -> None:
    need("gzip")
    data = os.urandom(2000) + b"config text\n" * 50
    outs = []
    for i, mtime in enumerate((1_000_000_000, 1_100_000_000)):
        f = tmp_path / f"f{i}"
        f.write_bytes(data)
        os.utime(f, (mtime, mtime))
        subprocess.run(["gzip", "-k", "-9", str(f)], check=True)
        outs.append((tmp_path / f"f{i}.gz").read_bytes())
    assert outs[0] != outs[1]
    result = compare_content(outs[0], outs[1])
    assert result.status == "equivalent"
    assert result.normalizations[0].name == "gzip-header"
    assert "mtime" in result.normalizations[0].explanation
    assert compare_content(outs[0], gzip.compress(data + b"!")).status == "different"


def _tar(members: dict[str, bytes], mtime: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(content), mtime
            tf.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def test_tar_member_mtimes_inside_gzip() -> None:
    a = gzip.compress(_tar({"etc/a": b"alpha", "etc/b": b"beta"}, 1_000), mtime=1)
    b = gzip.compress(_tar({"etc/a": b"alpha", "etc/b": b"beta"}, 2_000), mtime=2)
    result = compare_content(a, b)
    assert result.status == "equivalent"
    assert [n.name for n in result.normalizations] == ["gzip-header", "tar-mtime"]
    c = gzip.compress(_tar({"etc/a": b"alpha", "etc/b": b"BETA"}, 2_000), mtime=2)
    assert compare_content(a, c).status == "different"


def test_cpio_mtimes(tmp_path: Path) -> None:
    need("cpio")
    outs = []
    for i, mtime in enumerate((1_000_000, 2_000_000)):
        d = tmp_path / f"t{i}"
        d.mkdir()
        (d / "init").write_text("#!/bin/sh\nexec /sbin/init\n")
        os.utime(d / "init", (mtime, mtime))
        proc = subprocess.run(
            ["cpio", "-o", "-H", "newc"], input=b"init\n", cwd=d, capture_output=True, check=True
        )
        outs.append(proc.stdout)
    assert outs[0] != outs[1]
    result = compare_content(outs[0], outs[1])
    assert result.status == "equivalent"
    assert [n.name for n in result.normalizations] == ["cpio-mtime"]


def test_plain_data_difference_is_different() -> None:
    out = compare_content(b"A" * 100, b"A" * 99 + b"B")
    assert out.status == "different" and out.reasons


def _mkimage(payload: bytes, out: Path, epoch: int) -> bytes:
    """A legacy uImage of a gzip kernel; mkimage stamps SOURCE_DATE_EPOCH into the header."""
    src = out.with_suffix(".gz")
    src.write_bytes(payload)
    subprocess.run(
        ["mkimage", "-A", "arm", "-O", "linux", "-T", "kernel", "-C", "gzip", "-a", "0x8000"]
        + ["-e", "0x8000", "-n", "Linux-5.10", "-d", str(src), str(out)],
        check=True,
        capture_output=True,
        env={**os.environ, "SOURCE_DATE_EPOCH": str(epoch)},
    )
    return out.read_bytes()


def test_uimage_header_time_and_gzip_payload(tmp_path: Path) -> None:
    need("mkimage")
    kernel = os.urandom(3000) + b"kernel code\n" * 100
    a, b = (
        _mkimage(gzip.compress(kernel, mtime=t), tmp_path / f"u{t}", t)
        for t in (1_600_000_000, 1_700_000_000)
    )
    assert a[8:12] != b[8:12]  # two build times in the headers
    result = compare_content(a, b)
    assert result.status == "equivalent", result.reasons
    assert [n.name for n in result.normalizations] == ["uimage-header-time", "gzip-header"]
    assert "1600000000 vs 1700000000" in result.normalizations[0].explanation
    patched = _mkimage(gzip.compress(kernel + b"patched\n", mtime=1), tmp_path / "p", 1_600_000_000)
    assert compare_content(a, patched).status == "different"


def test_same_filesystem_in_another_container(rootfs: Callable[[str], Path], tmp_path: Path) -> None:
    """A uImage-wrapped squashfs against the bare one: the files are identical, the note says why
    the images still differ."""
    need("mkimage")
    bare = mksquashfs(rootfs("root"), tmp_path / "root.sqfs")
    wrapped = tmp_path / "root.uimg"
    subprocess.run(
        ["mkimage", "-A", "arm", "-O", "linux", "-T", "filesystem", "-C", "none", "-n", "rootfs"]
        + ["-d", str(bare), str(wrapped)],
        check=True,
        capture_output=True,
    )
    result = equivalence(wrapped, bare, jobs=1)
    assert result["verdict"] == "identical"
    note = next(n for n in result["notes"] if n.startswith("the images are packed differently"))
    assert "deployed uimage@0x0" in note and "reference squashfs@0x0" in note
