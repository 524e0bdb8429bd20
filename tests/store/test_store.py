"""Store: migrations, the job queue's claim and crash recovery, tokens, cross-image queries."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, text, update

from assay.errors import DatabaseError
from assay.store import Store
from assay.store.models import Scan, utcnow


def finding(category: str, path: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"r-{category}-{path}",
        "rule": f"rule-{category}",
        "category": category,
        "severity": "high",
        "title": f"{category} at {path}",
        "path": path,
        "evidence": [{"path": path, "sha256": "0" * 64, **extra.pop("evidence", {})}],
        "references": [],
        **extra,
    }


def report(
    findings: list[dict[str, Any]],
    components: list[dict[str, Any]] | None = None,
    vulns: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "schema": "https://assay.dev/schema/report/1.0",
        "image": {"name": "x"},
        "summary": {"findings": len(findings)},
        "findings": findings,
        "components": components or [],
        "vulnerabilities": vulns or [],
        "files": [],
    }


def scanned(store: Store, name: str, rep: dict[str, Any], vendor: str | None = None) -> int:
    image = store.add_image((name * 64)[:64], name, 10, vendor=vendor)
    sid = store.create_scan(image)
    claimed = store.claim_scan("w")
    assert claimed is not None and claimed.id == sid
    assert store.finish_scan(sid, rep, worker_id="w")
    return sid


def test_migrations_create_every_table(database_url: str) -> None:
    store = Store(database_url)
    tables = set(inspect(store.engine).get_table_names())
    assert {
        "images",
        "scans",
        "findings",
        "components",
        "vulnerabilities",
        "users",
        "api_tokens",
        "alembic_version",
    } <= tables
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    Store(database_url).close()  # a second upgrade is a no-op
    store.close()


def test_bad_database_url_is_a_database_error(tmp_path: Any) -> None:
    with pytest.raises(DatabaseError):
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(DatabaseError):
        Store("not a url")


def test_claim_is_exclusive_under_concurrency(database_url: str) -> None:
    store = Store(database_url)
    image = store.add_image("a" * 64, "a.bin", 1)
    ids = {store.create_scan(image) for _ in range(12)}
    claimed: list[int] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        while (scan := store.claim_scan(f"w{n}")) is not None:
            with lock:
                claimed.append(scan.id)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)  # each scan exactly once
    assert store.count_scans("running") == 12
    store.close()


def test_recovery_requeues_then_fails(database_url: str) -> None:
    store = Store(database_url)
    image = store.add_image("b" * 64, "b.bin", 1)
    sid = store.create_scan(image)
    live = store.create_scan(image)
    assert store.claim_scan("host:1:dead").id == sid  # type: ignore[union-attr]
    assert store.claim_scan("host:2:alive").id == live  # type: ignore[union-attr]
    with store.session() as s:
        s.execute(update(Scan).where(Scan.id == sid).values(heartbeat_at=utcnow() - timedelta(seconds=120)))
    out = store.recover(stale_after=30, max_attempts=2)
    assert [(r.scan_id, r.status) for r in out] == [(sid, "queued")]
    assert store.get_scan(live).status == "running"  # type: ignore[union-attr]
    # The dead worker's late result is refused; the scan belongs to the queue again.
    assert not store.finish_scan(sid, report([]), worker_id="host:1:dead")
    assert not store.heartbeat(sid, "host:1:dead")
    # Second attempt dies too (reported dead by the caller): now it is failed, never hanging.
    assert store.claim_scan("host:3:dead").id == sid  # type: ignore[union-attr]
    out = store.recover(stale_after=30, max_attempts=2, is_dead=lambda w: w == "host:3:dead")
    assert [(r.scan_id, r.status) for r in out] == [(sid, "failed")]
    scan = store.get_scan(sid)
    assert scan is not None and scan.status == "failed" and "stopped during the scan" in (scan.error or "")
    store.close()


def test_recorded_results_are_never_left_running(database_url: str) -> None:
    store = Store(database_url)
    image = store.add_image("c" * 64, "c.bin", 1, location="/corpus/c.bin")
    started = utcnow() - timedelta(seconds=5)
    rep = report([finding("remote-shell", "/etc/init.d/rcS")], [{"name": "busybox", "version": "1.0"}])
    done = store.record_result(image, report=rep, error=None, started_at=started, worker_id="dask:h")
    failed = store.record_result(image, report=None, error="timed out", started_at=started, worker_id="x")
    assert store.count_scans("running") == 0 and store.count_scans("queued") == 0
    scan = store.get_scan(done)
    assert scan is not None and scan.status == "done" and scan.source == "corpus"
    assert store.report(done) == rep and [f["path"] for f in store.findings(done)] == ["/etc/init.d/rcS"]
    assert store.components(done) == rep["components"]
    assert store.done_scan_for("c" * 64).id == done  # type: ignore[union-attr]
    scan = store.get_scan(failed)
    assert scan is not None and scan.status == "failed" and scan.error == "timed out"
    assert scan.finished_at is not None and store.report(failed) is None
    store.close()


def test_tokens(database_url: str) -> None:
    store = Store(database_url)
    plain, tid = store.create_token("alice")
    other, _ = store.create_token("alice")
    assert plain != other and plain.startswith("assay_")
    ok = store.verify_token(plain)
    assert ok.status == "ok" and ok.user_name == "alice"
    with store.session() as s:
        stored = s.execute(text("SELECT token_hash, prefix FROM api_tokens")).all()
    assert all(plain not in row[0] and len(row[0]) == 64 for row in stored)  # only hashes at rest
    assert store.verify_token(plain + "x").status == "invalid"
    assert store.verify_token("assay_zzzzzzzzzzzz_x").status == "invalid"
    assert store.verify_token("").status == "invalid"
    assert store.revoke_token(plain) == 1
    assert store.verify_token(plain).status == "revoked"
    assert store.verify_token(other).status == "ok"
    assert store.revoke_token("alice") == 1
    assert store.revoke_token("alice") == 0
    assert [t["revoked"] for t in store.list_tokens()] == [True, True]
    with pytest.raises(DatabaseError):
        store.create_token("  ")
    store.close()


def test_cross_image_queries(database_url: str) -> None:
    store = Store(database_url)
    shadow = "root:$1$salt$0123456789abcdefghijkl:19000:0:99999:7:::"
    key = {"details": {"fingerprint": "SHA256:abc"}}
    a = scanned(
        store,
        "a",
        report(
            [
                finding("default-credential", "/etc/shadow", evidence={"excerpt": shadow}),
                finding("private-key", "/etc/ssl/key.pem", **key),
            ],
            [{"name": "busybox", "version": "1.35.0"}],
            [{"id": "CVE-2022-1234", "component": "busybox", "version": "1.35.0"}],
        ),
        vendor="Acme",
    )
    scanned(
        store,
        "b",
        report(
            [
                finding("hidden-account", "/etc/shadow", details={"hash": "$1$salt$0123456789abcdefghijkl"}),
                finding(
                    "private-key", "/etc/dropbear/key", evidence={"details": {"fingerprint": "SHA256:abc"}}
                ),
                finding("private-key", "/root/other.pem", details={"fingerprint": "SHA256:only-here"}),
            ],
            [{"name": "busybox", "version": "1.36.1"}],
        ),
        vendor="Other",
    )
    scanned(
        store, "c", report([finding("default-credential", "/etc/shadow", evidence={"excerpt": "root::0:0"})])
    )

    keys = store.shared_values("fingerprint")
    assert [g["value"] for g in keys] == ["SHA256:abc"]
    assert {i["image"] for i in keys[0]["images"]} == {"a", "b"}
    hashes = store.shared_values("credential_hash")
    assert [g["value"] for g in hashes] == ["$1$salt$0123456789abcdefghijkl"]
    assert {i["vendor"] for i in hashes[0]["images"]} == {"Acme", "Other"}

    assert {r["image"] for r in store.images_with_component("BusyBox")} == {"a", "b"}
    assert [r["image"] for r in store.images_with_component("busybox", "1.35.0")] == ["a"]
    assert store.images_with_component("openssl") == []
    assert [r["scan_id"] for r in store.images_with_vulnerability("cve-2022-1234")] == [a]

    # A re-scan of image a that no longer has the key: only the newest finished scan counts.
    image_a = store.add_image(("a" * 64)[:64], "a", 10)
    sid = store.create_scan(image_a)
    store.claim_scan("w")
    store.finish_scan(sid, report([]), worker_id="w")
    assert store.shared_values("fingerprint") == []
    store.close()
