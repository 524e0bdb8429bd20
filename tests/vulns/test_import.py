"""Importing the real feed formats: NVD 2.0 (plain and gzip), OSV (files, directories, zips), KEV, kernel."""

from __future__ import annotations

import gzip
import json
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from vuln_helpers import DATA, build_db

from assay.errors import DatabaseError, InputError
from assay.vulns.db import VulnDB
from assay.vulns.importers import import_path


def _rows(db: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(query))


def test_sample_db_contents(sample_db: Path) -> None:
    with VulnDB(sample_db) as db:
        stats = db.stats()
    assert stats["nvd_cves"] == 11  # 12 records, one REJECTED
    assert stats["osv_records"] == 3  # 4 files, one withdrawn
    assert stats["kev_entries"] == 2
    assert stats["kernel_cves"] == 6
    assert {s["kind"] for s in stats["sources"]} >= {"nvd", "kev", "kernel-stream", "kernel-text"}
    assert not _rows(sample_db, "SELECT id FROM nvd WHERE id = 'CVE-2099-1010'")


def test_cpe_index_on_vendor_product(sample_db: Path) -> None:
    plan = " ".join(
        str(r[-1])
        for r in _rows(
            sample_db, "EXPLAIN QUERY PLAN SELECT cve_id FROM nvd_cpe WHERE vendor='haxx' AND product='curl'"
        )
    )
    assert "nvd_cpe_vendor_product" in plan
    assert ("CVE-2099-1008",) in _rows(
        sample_db, "SELECT cve_id FROM nvd_cpe WHERE vendor='haxx' AND product='curl'"
    )


def test_newer_last_modified_wins_whatever_the_order(tmp_path: Path) -> None:
    a = build_db(tmp_path / "a.sqlite")
    with VulnDB(tmp_path / "b.sqlite", create=True) as db:
        import_path(db, DATA / "nvdcve-2.0-modified.json.gz")  # the newer feed first
        import_path(db, DATA / "nvdcve-2.0-sample.json")
    for path in (a, tmp_path / "b.sqlite"):
        desc, modified = _rows(path, "SELECT description, last_modified FROM nvd WHERE id='CVE-2099-1001'")[0]
        assert "re-analysed" in str(desc) and str(modified).startswith("2024-06-01")
        # the stale copy of CVE-2099-1003 (2023) never replaces the 2024 record
        assert (
            _rows(path, "SELECT last_modified FROM nvd WHERE id='CVE-2099-1003'")[0][0]
            == "2024-03-01T10:00:00.000"
        )
        assert _rows(path, "SELECT product FROM nvd_cpe WHERE cve_id='CVE-2099-1001'") == [("busybox",)]


def test_reimport_is_idempotent(tmp_path: Path) -> None:
    db_path = build_db(tmp_path / "v.sqlite")
    dump = "\n".join(sqlite3.connect(db_path).iterdump())
    dump = "\n".join(
        line
        for line in dump.splitlines()
        if 'INSERT INTO "sources"' not in line and "last_import" not in line
    )
    with VulnDB(db_path, create=True) as db:
        results = import_path(db, DATA / "nvdcve-2.0-sample.json") + import_path(db, DATA / "osv")
    assert [r.records for r in results] == [0, 0]  # nothing newer: nothing written
    again = "\n".join(
        line
        for line in "\n".join(sqlite3.connect(db_path).iterdump()).splitlines()
        if 'INSERT INTO "sources"' not in line and "last_import" not in line
    )
    assert again == dump


def test_gzip_and_api_page_shapes(tmp_path: Path) -> None:
    page = json.loads((DATA / "nvdcve-2.0-sample.json").read_text())
    page["resultsPerPage"], page["startIndex"] = 2, 4
    page["vulnerabilities"] = page["vulnerabilities"][4:6]
    gz = tmp_path / "page.json.gz"
    with gzip.open(gz, "wt") as fh:
        json.dump(page, fh)
    with VulnDB(tmp_path / "v.sqlite", create=True) as db:
        [res] = import_path(db, gz)
        assert (res.kind, res.records) == ("nvd", 2)
        assert db.nvd_candidates([("thekelleys", "dnsmasq")]) == ["CVE-2099-1005"]


def test_osv_zip_and_list_file(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted((DATA / "osv").iterdir()):
            zf.write(f, f.name)
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps([json.loads(f.read_text()) for f in sorted((DATA / "osv").iterdir())]))
    for src in (archive, listing):
        with VulnDB(tmp_path / f"{src.stem}.sqlite", create=True) as db:
            assert sum(r.records for r in import_path(db, src)) == 3
            assert set(db.osv_candidates(["dnsmasq"])) == {"OSV-2099-0003"}


def test_kev_and_kernel_rows(sample_db: Path) -> None:
    with VulnDB(sample_db) as db:
        kev = db.kev(["CVE-2099-1001", "CVE-2099-9999"])
        assert kev == {
            "CVE-2099-1001": {
                "date_added": "2024-05-10",
                "name": kev["CVE-2099-1001"]["name"],
                "ransomware": "Unknown",
            }
        }
        rows = {(c, b): (f, i) for c, b, f, i in db.kernel_rows("5.10")}
    assert rows[("CVE-2099-1009", "5.10")] == ("5.10.150", None)
    assert rows[("CVE-2099-3002", "mainline")] == ("5.11-rc1", "2.6.12-rc2")
    assert rows[("CVE-2099-3005", "mainline")] == (None, "2.6.12-rc2")
    assert ("CVE-2099-3006", "mainline") not in rows  # "CVE Caused by Backporting": no versions
    assert ("CVE-2099-3003", "4.14") not in rows  # other branches are not loaded for 5.10


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": 1}')
    truncated = tmp_path / "nvdcve-2.0-2024.json"
    truncated.write_bytes((DATA / "nvdcve-2.0-sample.json").read_bytes()[:5000])
    with VulnDB(tmp_path / "v.sqlite", create=True) as db:
        with pytest.raises(InputError, match="not an NVD 2.0, OSV"):
            import_path(db, junk)
        with pytest.raises(InputError, match="malformed nvd data"):
            import_path(db, truncated)
        with pytest.raises(InputError, match="no such file"):
            import_path(db, tmp_path / "missing.json")
    with pytest.raises(InputError, match="no vulnerability database"):
        VulnDB(tmp_path / "none.sqlite")
    not_db = tmp_path / "not.sqlite"
    shutil.copy(DATA / "kev-sample.csv", not_db)
    with pytest.raises(DatabaseError):
        VulnDB(not_db)


def test_kernel_cves_json_mainline_ranges(tmp_path: Path) -> None:
    # kernel_cves.json of the same project: the mainline range per CVE
    src = tmp_path / "kernel_cves.json"
    src.write_text(
        json.dumps(
            {
                "CVE-2099-4001": {"affected_versions": "v4.4-rc1 to v5.6-rc2", "cwe": "Use After Free"},
                "CVE-2099-4002": {"affected_versions": "unk to unk"},
            }
        )
    )
    with VulnDB(tmp_path / "v.sqlite", create=True) as db:
        import_path(db, src)
        assert db.kernel_rows("5.4") == [("CVE-2099-4001", "mainline", "5.6-rc2", "4.4-rc1")]


def test_database_of_another_schema_is_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.close()
    with pytest.raises(DatabaseError, match="rebuild it"):
        VulnDB(old)
