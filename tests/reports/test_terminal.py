from __future__ import annotations

import copy
import io
from typing import Any

from rich.console import Console

from assay.reports.terminal import print_summary


def _text(report: dict[str, Any], **kw: Any) -> str:
    console = Console(file=io.StringIO(), width=160, record=True, color_system=None)
    print_summary(report, console, **kw)
    return console.export_text()


def test_counts_and_table(rich_report: dict[str, Any]) -> None:
    out = _text(rich_report)
    img = rich_report["image"]
    assert f"{img['name']} (squashfs) sha256 {img['sha256']}" in out
    assert f"{len(rich_report['files'])} files, 1 components, 4 findings, 1 vulnerabilities" in out
    assert "critical 1  high 1  medium 1  low 1  info 0" in out
    assert "4 findings" in out
    for f in rich_report["findings"]:
        assert f["path"] in out
    # Most severe first.
    assert out.index("/etc/shadow") < out.index("/etc/init.d/rcS") < out.index("/bin/helper")
    assert "compliance: fail 1, needs-live-test 1, pass 1" in out


def test_firmware_strings_are_not_markup(rich_report: dict[str, Any]) -> None:
    rich_report["findings"][0]["title"] = "[bold red]fake[/bold red] [/] [link=file:///etc]x[/link]"
    out = _text(rich_report)
    assert "[bold red]fake[/bold red] [/] [link=file:///etc]x[/link]" in out
    assert "warning: planted warning <script>alert(1)</script> [bold]markup[/bold]" in out


def test_top_findings_only(rich_report: dict[str, Any]) -> None:
    many = copy.deepcopy(rich_report)
    base = many["findings"][3]
    many["findings"] = [dict(base, path=f"/www/p{i:02d}", id=f"x-{i}") for i in range(30)]
    many["findings"].append(dict(rich_report["findings"][0]))
    out = _text(many, top=10)
    assert "top 10 of 31 findings" in out
    assert "/etc/shadow" in out  # the critical one leads even though it came last
    assert sum(f"/www/p{i:02d}" in out for i in range(30)) == 9


def test_clean_report(report_factory: Any) -> None:
    report = report_factory(compliance=False, vulnerabilities=False)
    report["findings"], report["warnings"] = [], []
    out = _text(report)
    assert "0 findings" in out
    assert "critical 0  high 0  medium 0  low 0  info 0" in out
    assert "warning" not in out and "compliance" not in out
