from __future__ import annotations

import copy
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from assay.reports import render
from assay.reports.html import mode_string

XSS = "<script>alert(1)</script>"
CHROMIUM = "/usr/bin/chromium"


class _Scan(HTMLParser):
    """Collects what a browser would act on: tags, their attributes, and the text of elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Scan:
    p = _Scan()
    p.feed(html)
    p.close()
    return p


def test_self_contained_offline(rich_report: dict[str, Any]) -> None:
    html = render(rich_report, "html")
    doc = _parse(html)
    tags = [t for t, _ in doc.tags]
    assert tags.count("script") == 1 and tags.count("style") == 2  # the page and its <noscript> fallback
    assert "link" not in tags and "img" not in tags and "iframe" not in tags
    for tag, attrs in doc.tags:
        assert "src" not in attrs, tag
        if tag != "a":
            assert not any(v and "://" in v for v in attrs.values()), (tag, attrs)
    # Only the references are outgoing links, and every one is plain http(s).
    hrefs = [a["href"] for t, a in doc.tags if t == "a" and a.get("href")]
    assert all(h.startswith(("https://", "#finding-")) for h in hrefs), hrefs
    assert "@import" not in html and "url(" not in html


def test_hostile_strings_come_out_escaped(rich_report: dict[str, Any]) -> None:
    html = render(rich_report, "html")
    assert XSS not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    doc = _parse(html)
    text = "".join(doc.text)
    # The browser shows the hostile strings as text: in a title, an excerpt, two file names, a warning.
    assert text.count(XSS) >= 4
    assert "/www/cgi-bin/<img src=x onerror=alert(1)>.sh" in text
    assert all(not (a.get("href") or "").startswith("javascript:") for _, a in doc.tags)
    assert "javascript:alert(1)" in text  # shown, never linked


def test_header_and_summary(rich_report: dict[str, Any]) -> None:
    html = render(rich_report, "html")
    img = rich_report["image"]
    assert f"Assay report: {img['name']}" in html
    assert img["sha256"] in html
    assert ">squashfs, " in html
    assert f"assay {rich_report['tool']['version']}" in html
    text = "".join(_parse(html).text)
    for cat in ("default-credential", "remote-shell", "setuid-shell", "configuration"):
        assert cat in text


def test_findings_grouped_by_severity_with_evidence(rich_report: dict[str, Any]) -> None:
    html = render(rich_report, "html")
    doc = _parse(html)
    details = [a for t, a in doc.tags if t == "details"]
    assert [d["id"] for d in details] == [f"finding-{f['id']}" for f in rich_report["findings"]]
    order = [html.index(f'id="finding-{f["id"]}"') for f in rich_report["findings"]]
    assert order == sorted(order)  # critical, high, medium, low
    shell = next(f for f in rich_report["findings"] if f["rule"] == "test-remote-shell")
    block = html[html.index(f'id="finding-{shell["id"]}"') :].split("</details>")[0]
    ev = shell["evidence"][0]
    assert ev["sha256"][:16] in block and f'title="{ev["sha256"]}"' in block
    assert f"{ev['offset']} (0x{ev['offset']:x})" in block
    assert "<code>telnetd -l /bin/sh</code>" in block
    assert "<td>3</td>" in block  # the line
    assert '<a href="https://cwe.mitre.org/data/definitions/306.html"' in block


def test_components_vulnerabilities_compliance(rich_report: dict[str, Any]) -> None:
    html = render(rich_report, "html")
    comp = html[html.index('id="components"') : html.index('id="vulnerabilities"')]
    assert "pkg:generic/busybox@1.35.0" in comp and "cpe:2.3:a:busybox:busybox:1.35.0" in comp
    vul = html[html.index('id="vulnerabilities"') : html.index('id="compliance"')]
    assert "CVE-2022-48174" in vul and "stack overflow in ash" in vul
    cmp_ = html[html.index('id="compliance"') : html.index('id="file-browser"')]
    assert 'class="verdict-fail">fail<' in cmp_
    assert 'class="verdict-needs-live-test">needs-live-test<' in cmp_
    fid = rich_report["findings"][0]["id"]
    assert f'href="#finding-{fid}"' in cmp_


def test_compliance_evidence_and_lab_note(rich_report: dict[str, Any]) -> None:
    ev = dict(rich_report["findings"][0]["evidence"][0], finding=rich_report["findings"][0]["id"])
    rich_report["compliance"][0]["evidence"] = [ev]
    rich_report["compliance"][0]["lab"] = "Try the default password on every interface."
    rich_report["compliance"][2]["lab"] = "never shown for a pass"
    html = render(rich_report, "html")
    cmp_ = html[html.index('id="compliance"') : html.index('id="file-browser"')]
    assert "<summary>1 item</summary>" in cmp_
    assert (
        f'/etc/shadow:1 @0 <span class="muted" title="{ev["sha256"]}">{ev["sha256"][:12]}</span> - md5crypt'
        in cmp_
    )
    assert f"<code>{ev['excerpt']}</code>" in cmp_
    assert "live test: Try the default password on every interface." in cmp_
    assert "never shown for a pass" not in cmp_


def test_optional_sections_disappear(report_factory: Any) -> None:
    report = report_factory(compliance=False, vulnerabilities=False)
    html = render(report, "html")
    assert 'id="vulnerabilities"' not in html and 'id="compliance"' not in html
    report["findings"] = []
    assert "No findings." in render(report, "html")


def test_file_table_modes_and_links(rich_report: dict[str, Any]) -> None:
    html = render(rich_report, "html")
    table = html[html.index('<table id="files">') :]
    rows = re.findall(
        r"<tr( class=\"special\")?><td class=\"path mono\">([^<]*)</td><td class=\"mode mono\">([^<]*)<",
        table,
    )
    by_path = {p: (m, bool(s)) for s, p, m in rows}
    assert len(by_path) == len(rich_report["files"])
    assert by_path["/bin/helper"] == ("-rwsr-xr-x", True)
    assert by_path["/etc/shadow"] == ("-rw-------", False)
    assert by_path["/bin/sh"] == ("lrwxrwxrwx", False)
    assert by_path["/etc"] == ("drwxr-xr-x", False)
    assert '<td class="mono">../bin/helper</td>' in table
    n = len(rich_report["files"])
    assert f"{n} of {n} files</span>" in html
    assert 'id="file-all" hidden' in html
    assert " hidden>" not in table  # one page: every row shown


def test_file_table_pages_without_losing_rows(rich_report: dict[str, Any]) -> None:
    big = _big(rich_report, 1200)
    html = render(big, "html")
    table = html[html.index('<table id="files">') :]
    assert table.count("<tr") == len(big["files"]) + 1
    assert table.count(" hidden>") == len(big["files"]) - 500
    # Without JS every row shows.
    assert "<noscript><style>#files tr[hidden] { display: table-row; }" in html


@pytest.mark.parametrize(
    ("kind", "mode", "expected"),
    [
        ("file", "4755", "-rwsr-xr-x"),
        ("file", "2711", "-rwx--s--x"),
        ("dir", "1777", "drwxrwxrwt"),
        ("char", "0666", "crw-rw-rw-"),
        ("block", "0660", "brw-rw----"),
        ("fifo", "0644", "prw-r--r--"),
        ("socket", "0755", "srwxr-xr-x"),
        ("symlink", 0o777, "lrwxrwxrwx"),
    ],
)
def test_mode_string(kind: str, mode: str | int, expected: str) -> None:
    assert mode_string(kind, mode) == expected


def _big(report: dict[str, Any], n: int) -> dict[str, Any]:
    big = copy.deepcopy(report)
    template = next(f for f in report["files"] if f["path"] == "/etc/passwd")
    for i in range(n):
        f = dict(template, path=f"/usr/lib/mod{i // 100}/file{i:05d}.so", size=i)
        if i % 997 == 0:
            f["mode"] = "4755"
        big["files"].append(f)
    return big


def test_large_file_table_renders_fast(rich_report: dict[str, Any]) -> None:
    big = _big(rich_report, 6500)
    t0 = time.perf_counter()
    html = render(big, "html")
    elapsed = time.perf_counter() - t0
    assert elapsed < 5, elapsed
    assert html.count("<tr") > 6500
    assert len(html) < 6500 * 600  # a few hundred bytes a row, no bloat


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is installed by make test")
def test_filter_box_in_a_real_browser(rich_report: dict[str, Any], tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    big = _big(rich_report, 6500)
    page_file = tmp_path / "report.html"
    page_file.write_text(render(big, "html"), encoding="utf-8")
    total = len(big["files"])
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium") or CHROMIUM, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("dialog", lambda d: errors.append("dialog: " + d.message))
            page.goto(page_file.as_uri())
            assert page.inner_text("#file-count") == f"{total} of {total} files (first 500 shown)"
            assert (
                page.eval_on_selector_all("#files tbody tr", "rs => rs.filter(r => !r.hidden).length") == 500
            )

            t0 = time.perf_counter()
            page.fill("#file-filter", "mod42/")
            page.wait_for_function("document.getElementById('file-count').textContent.startsWith('100 of')")
            filter_s = time.perf_counter() - t0
            visible = page.eval_on_selector_all("#files tbody tr", "rs => rs.filter(r => !r.hidden).length")
            assert visible == 100
            assert filter_s < 3, filter_s

            # More matches than one page: the rest come on request.
            page.fill("#file-filter", "/mod1")
            page.wait_for_function("document.getElementById('file-count').textContent.startsWith('1100 of')")
            assert page.inner_text("#file-count").endswith("(first 500 shown)")
            page.click("#file-all")
            assert page.inner_text("#file-count") == f"1100 of {total} files"
            assert (
                page.eval_on_selector_all("#files tbody tr", "rs => rs.filter(r => !r.hidden).length") == 1100
            )
            assert page.is_hidden("#file-all")

            page.fill("#file-filter", "")
            page.check("#file-special")
            special = page.eval_on_selector_all(
                "#files tbody tr", "rs => rs.filter(r => !r.hidden).map(r => r.cells[0].textContent)"
            )
            assert "/bin/helper" in special and "/etc/passwd" not in special
            assert len(special) == 1 + len(range(0, 6500, 997))

            page.click("#expand-all")
            assert page.eval_on_selector_all("details.finding", "ds => ds.every(d => d.open)")
            # Hostile names were data, not markup: nothing ran.
            assert errors == []
            assert page.eval_on_selector_all("script", "s => s.length") == 1
        finally:
            browser.close()
