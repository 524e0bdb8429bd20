"""REST API and web forms through TestClient, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import XSS, router_image

from assay.service import Settings, create_app
from assay.service.jobs import process_next
from assay.service.views import available_formats
from assay.store import Store

LIMIT = 64 * 1024


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, max_upload=LIMIT, workers=0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings, workers=0)) as c:
        yield c


@pytest.fixture
def store(client: TestClient) -> Store:
    s: Store = client.app.state.store  # type: ignore[attr-defined]
    return s


@pytest.fixture
def token(store: Store) -> str:
    return store.create_token("alice")[0]


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("images")
    return {
        "a": router_image(d / "a.sqfs", marker="A", telnet=True),
        "b": router_image(d / "b.sqfs", marker="B", telnet=False),
    }


def upload(client: TestClient, token: str | None, path: Path, name: str | None = None, **extra: str) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    files = {"file": (name or path.name, path.read_bytes(), "application/octet-stream")}
    return client.post("/api/v1/scans", headers=headers, files=files, data=extra)


def drain(client: TestClient, settings: Settings) -> None:
    store: Store = client.app.state.store  # type: ignore[attr-defined]
    while process_next(store, settings.prepared(), "test:1:worker"):
        pass


def stored_files(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.images_dir.iterdir()) + sorted(
        p.name for p in settings.uploads_dir.iterdir()
    )


def test_upload_scan_browse_and_download(
    client: TestClient, settings: Settings, token: str, images: dict[str, Path]
) -> None:
    r = upload(client, token, images["a"], vendor="Acme", model="R1")
    assert r.status_code == 202, r.text
    scan = r.json()
    assert scan["status"] == "queued" and scan["image"]["vendor"] == "Acme"
    sid = scan["id"]
    assert client.get(f"/api/v1/scans/{sid}/findings").status_code == 409  # not done yet
    r2 = upload(client, token, images["b"])
    drain(client, settings)

    got = client.get(f"/api/v1/scans/{sid}").json()
    assert got["status"] == "done", got
    assert got["summary"]["findings"] >= 1
    findings = client.get(f"/api/v1/scans/{sid}/findings").json()
    assert findings and all(f["evidence"] and f["path"].startswith("/") for f in findings)
    assert {"remote-shell"} <= {f["category"] for f in findings}
    crit = client.get(f"/api/v1/scans/{sid}/findings", params={"severity": "critical"}).json()
    assert all(f["severity"] == "critical" for f in crit)
    assert isinstance(client.get(f"/api/v1/scans/{sid}/components").json(), list)
    assert isinstance(client.get(f"/api/v1/scans/{sid}/vulnerabilities").json(), list)
    paths = {f["path"] for f in client.get(f"/api/v1/scans/{sid}/files").json()}
    assert {"/etc/passwd", "/etc/init.d/rcS"} <= paths
    under = client.get(f"/api/v1/scans/{sid}/files", params={"prefix": "/etc/init.d"}).json()
    assert [f["path"] for f in under] == ["/etc/init.d", "/etc/init.d/rcS"]

    report = client.get(f"/api/v1/scans/{sid}/report", params={"format": "json"}).json()
    assert report["schema"].startswith("https://") and report["image"]["name"] == "a.sqfs"
    html = client.get(f"/api/v1/scans/{sid}/report", params={"format": "html", "download": True})
    assert html.status_code == 200 and "sandbox" in html.headers["content-security-policy"]
    assert 'attachment; filename="scan-' in html.headers["content-disposition"]
    available = available_formats()
    assert {"json", "sarif", "html"} <= set(available)
    page = client.get(f"/scans/{sid}").text
    for fmt in ("json", "sarif", "html", "cyclonedx", "spdx"):
        api = client.get(f"/api/v1/scans/{sid}/report", params={"format": fmt})
        ui = client.get(f"/scans/{sid}/download/{fmt}")
        if fmt in available:
            # the same document (SBOMs carry a fresh serial number and timestamp each time)
            assert api.status_code == 200 and ui.status_code == 200
            assert api.headers["content-type"] == ui.headers["content-type"] and len(ui.content) > 100
            assert f'href="/scans/{sid}/download/{fmt}"' in page
        else:  # renderer not in this build: no link, and a clear refusal
            assert api.status_code == 501 and ui.status_code == 404
            assert f"/download/{fmt}" not in page

    listing = client.get("/api/v1/scans").json()
    assert listing["total"] == 2 and {s["id"] for s in listing["scans"]} == {sid, r2.json()["id"]}
    assert client.get("/api/v1/scans", params={"status": "done"}).json()["total"] == 2
    imgs = client.get("/api/v1/images").json()
    assert {i["name"] for i in imgs} == {"a.sqfs", "b.sqfs"}

    cmp = client.get("/api/v1/compare", params={"a": sid, "b": r2.json()["id"]}).json()
    only_a = {f["category"] for f in cmp["findings"]["only_a"]}
    assert "remote-shell" in only_a and "/etc/init.d/rcS" in {c["path"] for c in cmp["files"]["changed"]}
    page = client.get(f"/compare?a={sid}&b={r2.json()['id']}")
    assert page.status_code == 200 and "Only in A" in page.text

    assert client.get("/api/v1/query/component", params={"name": "nonexistent"}).json() == []

    # The finding's XSS payload (title and excerpt come from the image) must render as text.
    assert any(
        XSS in f["title"] or any(XSS in (e.get("excerpt") or "") for e in f["evidence"]) for f in findings
    )
    for url in [f"/scans/{sid}", *[f"/scans/{sid}/findings/{f['id']}" for f in findings]]:
        text = client.get(url).text
        assert "<script>alert" not in text
    detail = next(
        f
        for f in findings
        if XSS in f["title"] or any(XSS in (e.get("excerpt") or "") for e in f["evidence"])
    )
    page = client.get(f"/scans/{sid}/findings/{detail['id']}")
    assert "&lt;script&gt;alert(" in page.text and "Evidence" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    for tab in ("files", "components", "vulnerabilities"):
        assert client.get(f"/scans/{sid}?tab={tab}").status_code == 200
    assert "/etc/init.d" not in client.get(f"/scans/{sid}?tab=components").text


AUTH_FAILURES = [
    (None, "Bearer"),
    ("Token abc", 'Bearer error="invalid_request"'),
    ("Bearer", 'Bearer error="invalid_request"'),
    ("Bearer a b", 'Bearer error="invalid_request"'),
    ("Basic YWxpY2U6cHc=", 'Bearer error="invalid_request"'),
    ("Bearer wrong-token", 'Bearer error="invalid_token"'),
    ("Bearer assay_0123456789ab_notthesecret", 'Bearer error="invalid_token"'),
]


def test_auth_failures(client: TestClient, settings: Settings, images: dict[str, Path]) -> None:
    for header, challenge in AUTH_FAILURES:
        headers = {"Authorization": header} if header else {}
        files = {"file": ("a.bin", images["a"].read_bytes())}
        r = client.post("/api/v1/scans", headers=headers, files=files)
        assert r.status_code == 401, (header, r.text)
        assert r.headers["www-authenticate"] == challenge
    assert stored_files(settings) == []
    assert client.get("/api/v1/scans").json()["total"] == 0


def test_revoked_and_tampered_tokens(
    client: TestClient, store: Store, settings: Settings, images: dict[str, Path]
) -> None:
    plain, token_id = store.create_token("bob")
    assert upload(client, plain, images["a"]).status_code == 202
    tampered = plain[:-1] + ("A" if plain[-1] != "A" else "B")
    r = upload(client, tampered, images["a"])
    assert r.status_code == 401 and r.json()["detail"] == "invalid token"
    assert store.revoke_token(str(token_id)) == 1
    r = upload(client, plain, images["a"])
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert client.get("/api/v1/scans").json()["total"] == 1


HOSTILE_NAMES = [
    "../../etc/passwd",
    "<script>.bin",
    "..\\..\\boot.ini",
    "\x00\x1b[31m.bin",
    "/abs/evil",
    "..",
]


def test_hostile_filenames(
    client: TestClient, settings: Settings, token: str, images: dict[str, Path]
) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    hashes = []
    for i, name in enumerate(HOSTILE_NAMES):
        r = client.post("/api/v1/scans", headers=auth, files={"file": (name, f"image {i}".encode())})
        assert r.status_code == 202, (name, r.text)
        img = r.json()["image"]
        assert img["name"] and not img["name"].startswith(".")
        assert "/" not in img["name"] and "\\" not in img["name"] and "\x00" not in img["name"]
        hashes.append(img["sha256"])
    assert stored_files(settings) == sorted(hashes)  # stored under their hashes, nothing else
    assert not (settings.data_dir.parent / "etc").exists()
    page = client.get("/").text
    assert "<script>.bin" not in page and "&lt;script&gt;.bin" in page


def test_upload_too_large(client: TestClient, settings: Settings, token: str, tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(b"\x00" * (LIMIT + 1))  # within the multipart slack: refused while streaming
    r = upload(client, token, big)
    assert r.status_code == 413
    huge = tmp_path / "huge.bin"
    huge.write_bytes(b"\x00" * (4 * LIMIT))  # refused by Content-Length before any parsing
    r = upload(client, token, huge)
    assert r.status_code == 413 and "limit" in r.json()["detail"]

    # Chunked, with no Content-Length to go by: cut off once the stream passes the cap.
    def body() -> Iterator[bytes]:
        yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="c.bin"\r\n\r\n'
        for _ in range(64):
            yield b"\x00" * (LIMIT // 8)
        yield b"\r\n--B--\r\n"

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "multipart/form-data; boundary=B"}
    r = client.post("/api/v1/scans", headers=headers, content=body())
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413
    assert stored_files(settings) == []
    assert client.get("/api/v1/scans").json()["total"] == 0


def test_missing_and_empty_file(client: TestClient, settings: Settings, token: str) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/v1/scans", headers=auth, files={"other": ("x.bin", b"data")})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "file"]
    r = client.post("/api/v1/scans", headers=auth, data={"file": "not a file part"})
    assert r.status_code == 422
    r = client.post("/api/v1/scans", headers=auth, files={"file": ("e.bin", b"")})
    assert r.status_code == 400
    assert stored_files(settings) == []


def test_path_traversal_and_bad_ids(
    client: TestClient, token: str, settings: Settings, images: dict[str, Path]
) -> None:
    sid = upload(client, token, images["b"]).json()["id"]
    bad = [
        f"/api/v1/scans/{sid}/report?format=../../etc/passwd",
        f"/api/v1/scans/{sid}/report?format=json/../../../etc/passwd",
        "/api/v1/scans/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/scans/1%2F..%2F..%2Fsecret.key/findings",
        f"/scans/{sid}/download/..%2F..%2Fsecret.key",
        f"/scans/{sid}/download/..%2f..%2f..%2fetc%2fpasswd",
        f"/scans/{sid}/findings/..%2F..%2Fsecret.key",
        "/static/..%2F..%2F..%2Fetc%2Fpasswd",
        "/static/../../service/settings.py",
        "/api/v1/scans/-1",
        "/api/v1/scans/99999999999999999999999",
        "/api/v1/compare?a=1&b=../../x",
    ]
    secret = (settings.data_dir / "secret.key").read_text().strip()
    for url in bad:
        r = client.get(url)
        assert r.status_code in (400, 404, 422), (url, r.status_code)
        assert "root:" not in r.text and secret not in r.text


def test_web_login_csrf_and_upload(
    client: TestClient, store: Store, settings: Settings, images: dict[str, Path]
) -> None:
    plain, token_id = store.create_token("carol")
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    assert client.post("/login", data={"token": plain}, follow_redirects=False).status_code == 403
    assert client.post("/login", data={"token": "nope", "csrf_token": csrf}).status_code == 403
    r = client.post("/login", data={"token": plain, "csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    home = client.get("/").text
    assert "carol" in home and 'id="upload-form"' in home
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)  # type: ignore[union-attr]
    blob = images["a"].read_bytes()

    r = client.post("/upload", files={"file": ("a.bin", blob)}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post(
        "/upload", data={"csrf_token": "x" * 43}, files={"file": ("a.bin", blob)}, follow_redirects=False
    )
    assert r.status_code == 403
    assert stored_files(settings) == []
    r = client.post(
        "/upload", data={"csrf_token": csrf}, files={"file": ("a.bin", blob)}, follow_redirects=False
    )
    assert r.status_code == 303 and re.fullmatch(r"/scans/\d+", r.headers["location"])
    assert client.get(r.headers["location"]).status_code == 200

    store.revoke_token(str(token_id))  # revoking the token ends the browser session
    r = client.post(
        "/upload", data={"csrf_token": csrf}, files={"file": ("a.bin", blob)}, follow_redirects=False
    )
    assert r.status_code == 401
    assert client.get("/api/v1/scans").json()["total"] == 1


def test_anonymous_form_upload_refused(
    client: TestClient, settings: Settings, images: dict[str, Path]
) -> None:
    r = client.post("/upload", files={"file": ("a.bin", images["a"].read_bytes())}, follow_redirects=False)
    assert r.status_code == 401
    assert stored_files(settings) == []


def test_openapi_documents_the_api(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/scans",
        "/api/v1/scans/{scan_id}/report",
        "/api/v1/compare",
        "/api/v1/images",
        "/api/v1/query/same-key",
        "/api/v1/query/component",
    ):
        assert path in spec["paths"]
    body = spec["paths"]["/api/v1/scans"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"]
    fmt = spec["paths"]["/api/v1/scans/{scan_id}/report"]["get"]["parameters"]
    assert any(p["name"] == "format" for p in fmt)


def test_vulnerabilities_render_escaped(client: TestClient, store: Store) -> None:
    """Whatever the vulnerability matcher writes is listed; its text is hostile input too."""
    image = store.add_image("d" * 64, "v.bin", 10)
    sid = store.create_scan(image)
    assert store.claim_scan("w") is not None
    vuln = {
        "id": "CVE-2022-48174",
        "aliases": [],
        "component": "busybox",
        "version": "1.31.1",
        "severity": "critical",
        "cvss": {"version": "3.1", "score": 9.8, "vector": "CVSS:3.1/AV:N"},
        "description": f"stack overflow {XSS}",
        "state": "affected",
    }
    report = {
        "schema": "https://assay.dev/schema/report/1.0",
        "image": {"name": "v.bin"},
        "summary": {"findings": 0, "vulnerabilities": 1},
        "findings": [],
        "components": [{"name": "busybox", "version": "1.31.1", "purl": None, "cpe": None, "paths": []}],
        "vulnerabilities": [vuln],
        "files": [],
    }
    assert store.finish_scan(sid, report, worker_id="w")
    assert client.get(f"/api/v1/scans/{sid}/vulnerabilities").json() == [vuln]
    page = client.get(f"/scans/{sid}?tab=vulnerabilities")
    assert page.status_code == 200 and "CVE-2022-48174" in page.text and "busybox 1.31.1" in page.text
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(1)" in page.text
    rows = client.get("/api/v1/query/vulnerability", params={"id": "cve-2022-48174"}).json()
    assert [r["scan_id"] for r in rows] == [sid]
