"""The result cache: per-file results kept between scans, keyed by content and code."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from assay.checks.base import CheckContext
from assay.checks.cache import ResultCache, code_fingerprint
from assay.index import build_index
from assay.unpack import index_directory


def _counter() -> tuple[list[int], object]:
    calls: list[int] = []

    def compute() -> list[dict[str, int]]:
        calls.append(1)
        return [{"offset": 16, "length": 4}]

    return calls, compute


def test_a_result_is_computed_once_and_read_back_by_a_later_scan(tmp_path: Path) -> None:
    calls, compute = _counter()
    first = ResultCache(tmp_path / "c.sqlite", code="v1")
    assert first.through("some-check", "ab" * 32, compute) == [{"offset": 16, "length": 4}]
    first.close()
    later = ResultCache(tmp_path / "c.sqlite", code="v1")
    assert later.through("some-check", "ab" * 32, compute) == [{"offset": 16, "length": 4}]
    assert len(calls) == 1
    # another check, or another file, is another result
    later.through("other-check", "ab" * 32, compute)
    later.through("some-check", "cd" * 32, compute)
    assert len(calls) == 3


def test_results_of_other_code_are_never_read_and_are_dropped(tmp_path: Path) -> None:
    calls, compute = _counter()
    ResultCache(tmp_path / "c.sqlite", code="v1").through("some-check", "ab" * 32, compute)
    newer = ResultCache(tmp_path / "c.sqlite", code="v2")
    assert newer.get("some-check", "ab" * 32) is None
    newer.close()
    rows = sqlite3.connect(tmp_path / "c.sqlite").execute("SELECT code FROM results").fetchall()
    assert rows == []


def test_values_are_stored_as_json_not_pickle(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite", code="v1")
    cache.put("some-check", "ab" * 32, [{"literal": "Zx9!kLm2q"}])
    cache.close()
    (value,) = sqlite3.connect(tmp_path / "c.sqlite").execute("SELECT value FROM results").fetchone()
    assert value == '[{"literal":"Zx9!kLm2q"}]'


def test_code_fingerprint_follows_every_source_and_rule_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "rule.yar").write_text("rule a { condition: true }")
    (tmp_path / "mod.py").write_text("X = 1\n")
    before = code_fingerprint(tmp_path)
    assert code_fingerprint(tmp_path) == before
    (tmp_path / "checks" / "rule.yar").write_text("rule a { condition: false }")
    edited = code_fingerprint(tmp_path)
    assert edited != before
    import capstone

    monkeypatch.setattr(capstone, "__version__", "0.0.1")  # another disassembler, other results
    assert code_fingerprint(tmp_path) != edited


def test_an_unusable_cache_is_given_up_and_the_result_still_computed(tmp_path: Path) -> None:
    calls, compute = _counter()
    garbage = tmp_path / "c.sqlite"
    garbage.write_bytes(b"this is not an SQLite database, not even close" * 100)
    cache = ResultCache(garbage, code="v1")
    assert cache.broken and str(garbage) in cache.broken
    assert cache.through("some-check", "ab" * 32, compute) == [{"offset": 16, "length": 4}]
    assert garbage.read_bytes().startswith(b"this is not")  # nothing of the user's was overwritten
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert ResultCache(blocked / "c.sqlite", code="v1").broken  # its folder cannot be made


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_worker_writes_through_its_own_connection(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c.sqlite", code="v1")
    cache.put("some-check", "00" * 32, [1])  # the parent's connection is open before the fork
    parents = cache._conn
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            cache.put("some-check", "11" * 32, [2])
            cache.close()
            # the parent's handle was neither used nor closed here, only kept
            code = 0 if cache._inherited == [parents] and cache._conn is None else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert cache.get("some-check", "11" * 32) == [2]
    assert cache.get("some-check", "00" * 32) == [1]


def test_per_file_keys_on_content_and_remembers_within_a_scan(tmp_path: Path) -> None:
    import dataclasses

    root = tmp_path / "rootfs"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "a").write_bytes(b"\x7fELF same bytes")
    (root / "bin" / "b").write_bytes(b"\x7fELF same bytes")
    (root / "bin" / "c").write_bytes(b"\x7fELF other bytes")
    index = build_index([index_directory(root, "fs0")])
    entries = {e.path: e for e in index.files()}
    seen: list[str] = []

    def compute_for(path: str) -> object:
        return lambda: seen.append(path) or [path]

    ctx = CheckContext(index=index, results=ResultCache(tmp_path / "c.sqlite", code="v1"))
    out = {p: ctx.per_file("some-check", entries[p], compute_for(p)) for p in ("/bin/a", "/bin/b", "/bin/c")}
    assert seen == ["/bin/a", "/bin/c"]  # /bin/b has /bin/a's bytes
    assert out["/bin/b"] == ["/bin/a"]
    again = CheckContext(index=index, results=ResultCache(tmp_path / "c.sqlite", code="v1"))
    assert again.per_file("some-check", entries["/bin/c"], compute_for("/bin/c")) == ["/bin/c"]
    assert seen == ["/bin/a", "/bin/c"]
    uncached = CheckContext(index=index)
    assert not uncached.kept("some-check", entries["/bin/c"])
    uncached.per_file("some-check", entries["/bin/c"], compute_for("/bin/c"))
    assert seen == ["/bin/a", "/bin/c", "/bin/c"]
    assert uncached.kept("some-check", entries["/bin/c"])  # computed in this scan
    # kept() reads the cache once and per_file then takes the memoised value, even with the cache gone
    looked = CheckContext(index=index, results=ResultCache(tmp_path / "c.sqlite", code="v1"))
    assert looked.kept("some-check", entries["/bin/a"]) and not looked.kept("other-check", entries["/bin/a"])
    looked = dataclasses.replace(looked, results=None)  # same memo
    assert looked.per_file("some-check", entries["/bin/a"], compute_for("/bin/a")) == ["/bin/a"]
    assert seen == ["/bin/a", "/bin/c", "/bin/c"]


UNSAFE_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    char buf[32];
    if (argc > 1) { strcpy(buf, argv[1]); sprintf(buf + 8, "%s", argv[1]); return system(buf); }
    return 0;
}
"""


@pytest.mark.parametrize("check_id", ["unsafe-functions", "binary-hardening"])
def test_per_binary_checks_read_kept_results_without_parsing_again(
    check_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses
    import shutil
    import subprocess

    from assay.analysis import binary
    from assay.checks import all_checks

    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    root = tmp_path / "rootfs"
    (root / "usr/bin").mkdir(parents=True)
    (tmp_path / "u.c").write_text(UNSAFE_C)
    # no PIE, no canary: binary-hardening has something to report too
    subprocess.run(
        [
            "gcc",
            "-O0",
            "-no-pie",
            "-fno-stack-protector",
            "-o",
            str(root / "usr/bin/tool"),
            str(tmp_path / "u.c"),
        ],
        check=True,
    )
    check = next(c for c in all_checks() if c.id == check_id)
    ctx = CheckContext(index=build_index([index_directory(root, "fs0")]))
    plain = list(check.run(ctx))
    assert plain and all(f.path == "/usr/bin/tool" for f in plain)
    kept = list(check.run(dataclasses.replace(ctx, memo={}, results=ResultCache(tmp_path / "c.sqlite"))))
    assert [f.to_dict() for f in kept] == [f.to_dict() for f in plain]

    def no_parse(*_args: object, **_kw: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(binary.ElfCache, "load", no_parse)
    again = list(check.run(dataclasses.replace(ctx, memo={}, results=ResultCache(tmp_path / "c.sqlite"))))
    assert [f.to_dict() for f in again] == [f.to_dict() for f in plain]
