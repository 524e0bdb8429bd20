"""The web UI in Debian's chromium (Playwright): sign in, upload, follow the scan live, open a
finding and its evidence, browse files and SBOM, download the HTML report, compare two images."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support import XSS, free_port, router_image

SCAN_WAIT_MS = 120_000

CHROMIUM = "/usr/bin/chromium"
BIN = Path(sys.executable).parent
SCREENSHOTS = Path(__file__).parents[2] / "test-output" / "screenshots"


@dataclass(frozen=True)
class Server:
    url: str
    token: str
    data_dir: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`assay serve` (uvicorn and its scan workers) on a free loopback port, with its own data dir."""
    data = tmp_path_factory.mktemp("assay-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update(ASSAY_DATA_DIR=str(data), ASSAY_WORKERS="2", ASSAY_SCAN_TIMEOUT="120")
    token = subprocess.run(
        [str(BIN / "assay"), "token", "create", "--name", "analyst"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = free_port()
    log = (data / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN / "assay"), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"assay serve did not start:\n{(data / 'server.log').read_text()}")
            time.sleep(0.2)
        yield Server(url, token, data)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright for Python is not installed")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("images")
    (d / "junk.bin").write_bytes(b"this is not firmware " * 100)
    return {
        "junk": d / "junk.bin",
        # empty root password, telnetd handing out a shell from rcS
        "old": router_image(d / "router-1.0.bin", marker="1.0", telnet=True),
        # the next release: telnetd gone, root has a password, busybox updated
        "new": router_image(
            d / "router-1.1.bin",
            marker="1.1",
            telnet=False,
            password_hash="$6$c2FsdHNhbHQ$" + "A" * 86,
            packages={"busybox": "1.36.1-1"},
        ),
    }


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def upload(page: Any, server: Server, image: Path, vendor: str) -> int:
    page.goto(server.url + "/")
    page.set_input_files("#file", str(image))
    page.fill("input[name=vendor]", vendor)
    page.click("#upload-button")
    page.wait_for_url("**/scans/*")
    scan_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    return scan_id


def wait_done(page: Any) -> None:
    # app.js polls the API and reloads the page once the scan has finished.
    page.wait_for_selector("#scan-status[data-status=done]", timeout=SCAN_WAIT_MS)


def test_upload_scan_browse_download_compare(
    server: Server, browser: Any, images: dict[str, Path], tmp_path: Path
) -> None:
    # server before browser: the browser closes first, so the server has no open connections
    # to wait for when it stops.
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Sign in with an API token.
    page.goto(server.url + "/")
    assert page.locator("#upload-form").count() == 0  # anonymous users cannot upload
    page.click("#login-link")
    page.fill("#token", "assay_0123456789ab_wrong")
    page.click("#login-form button[type=submit]")
    assert "not valid" in page.inner_text("#login-error")
    page.fill("#token", server.token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#upload-form")
    assert "analyst" in page.inner_text("header")
    shot(page, "01-signed-in")

    # Upload; the scan page shows the live status until the scan is done.
    old_id = upload(page, server, images["old"], "Acme")
    status = page.get_attribute("#scan-status", "data-status")
    assert status in ("queued", "running", "done")
    assert page.inner_text("#image-name") == "router-1.0.bin"
    shot(page, "02-scan-progress")
    new_id = upload(page, server, images["new"], "Acme")
    junk_id = upload(page, server, images["junk"], "")
    page.goto(f"{server.url}/scans/{new_id}")
    wait_done(page)
    page.goto(f"{server.url}/scans/{old_id}")
    wait_done(page)
    shot(page, "03-findings")

    # Findings, highest severity first; the hostile payload from the image is shown as text.
    table = page.inner_text("#findings")
    assert "telnetd" in table and "/etc/init.d/rcS" in table and "/etc/shadow" in table
    assert XSS in table  # visible as text...
    assert page.locator("#findings script").count() == 0  # ...never as an element
    assert page.locator("#findings tbody tr").first.locator(".sev").inner_text() == "critical"

    # Open a finding: its evidence with path, hash and the bytes.
    page.locator("a.finding-link", has_text="Hard-coded password").first.click()
    page.wait_for_selector("#evidence")
    evidence = page.inner_text("#evidence")
    assert "/www/cgi-bin/login.cgi" in evidence and XSS in evidence
    assert len(page.inner_text("#evidence .mono >> nth=1")) == 64  # the file's sha256
    assert page.locator("#evidence script").count() == 0
    shot(page, "04-finding-evidence")

    # The file tree and the SBOM.
    page.goto(f"{server.url}/scans/{old_id}?tab=files")
    tree = page.inner_text("#file-tree")
    assert "rcS" in tree and "login.cgi" in tree and "-rwxr-xr-x" in tree and "drwxr-xr-x" in tree
    shot(page, "05-file-tree")
    page.click("#tab-components")
    components = page.inner_text("#components")
    assert "busybox" in components and "1.31.1" in components and "pkg:opkg/" in components
    shot(page, "06-components")
    page.click("#tab-vulnerabilities")
    assert page.locator("#vulnerabilities, p.muted").count() >= 1

    # Download the HTML report.
    page.click("#tab-findings")
    with page.expect_download() as info:
        page.click("#download-html")
    download = info.value
    assert download.suggested_filename == f"scan-{old_id}.html"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    html = saved.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html") and "router-1.0.bin" in html
    assert "telnetd" in html and XSS not in html  # the report escapes firmware strings too

    # Compare the two releases.
    page.click("header nav >> text=Compare")
    page.select_option("#compare-a", str(old_id))
    page.select_option("#compare-b", str(new_id))
    page.click("#compare-button")
    page.wait_for_selector("#compare-result")
    only_old = page.inner_text("#findings-only-a")
    assert "telnetd" in only_old and "empty password" in only_old
    assert "telnetd" not in page.inner_text("#findings-only-b")
    assert "busybox: 1.31.1 → 1.36.1" in page.inner_text("#compare-result")
    assert "/etc/init.d/rcS" in page.inner_text("#compare-result")
    shot(page, "07-compare")

    # A scan that fails shows why, and offers no reports.
    page.goto(f"{server.url}/scans/{junk_id}")
    page.wait_for_selector("#scan-status[data-status=failed]", timeout=SCAN_WAIT_MS)
    assert "unsupported" in page.inner_text("#scan-error")
    assert page.locator("#downloads").count() == 0
    shot(page, "08-failed-scan")

    assert dialogs == [] and errors == []
    context.close()
