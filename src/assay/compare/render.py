"""Text, JSON and HTML renderings of a diff or an equivalence result (both plain dicts)."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, select_autoescape


def to_json(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, sort_keys=False, default=str) + "\n"


# ---------------------------------------------------------------- diff


def _sec_lines(sec: dict[str, Any]) -> list[str]:
    out: list[str] = []
    f = sec["findings"]
    for x in f["added"]:
        out.append(f"  + finding [{x['severity']}] {x['category']} {x['rule']} at {x['path']}: {x['title']}")
    for x in f["removed"]:
        out.append(f"  - finding [{x['severity']}] {x['category']} {x['rule']} at {x['path']}: {x['title']}")
    c = sec["components"]
    for x in c["changed"]:
        line = f"  ~ component {x['name']} {', '.join(x['old_versions'])} -> {', '.join(x['new_versions'])}"
        if "cves_added" in x:
            line += f" (CVEs added: {', '.join(x['cves_added']) or 'none'}; fixed: {', '.join(x['cves_fixed']) or 'none'})"
        out.append(line)
    for x in c["added"]:
        out.append(f"  + component {x['name']} {', '.join(x['versions'])}")
    for x in c["removed"]:
        out.append(f"  - component {x['name']} {', '.join(x['versions'])}")
    a = sec["accounts"]
    for x in a["added"]:
        out.append(
            f"  + account {x['name']} uid={x['uid']} shell={x['shell']} password={x['password']} ({x['source']})"
        )
    for x in a["removed"]:
        out.append(f"  - account {x['name']} uid={x['uid']} ({x['source']})")
    for x in a["changed"]:
        o, n = x["old"], x["new"]
        parts = []
        for what in x["changes"]:
            if what == "password":
                parts.append(
                    f"password hash changed ({o['password']} {o['hash_fingerprint']} -> "
                    f"{n['password']} {n['hash_fingerprint']})"
                )
            else:
                parts.append(f"{what} {o[what]} -> {n[what]}")
        out.append(f"  ~ account {x['name']}: {'; '.join(parts)} ({n['source']})")
    k = sec["keys"]
    for sign, rows in (("+", k["added"]), ("-", k["removed"])):
        for x in rows:
            out.append(f"  {sign} {x['kind']} {x['type']} {x['fingerprint']} at {x['path']}")
    s = sec["services"]
    for sign, rows in (("+", s["added"]), ("-", s["removed"])):
        for x in rows:
            state = "" if x["enabled"] else ", not enabled"
            out.append(
                f"  {sign} boot service {x['program']} ({x['origin']} {x['source']}:{x['line']}{state}): "
                f"{x['command']}"
            )
    p = sec["ports"]
    for sign, rows in (("+", p["added"]), ("-", p["removed"])):
        for x in rows:
            out.append(f"  {sign} port {x['port']}/{x['proto']} {x['program']} ({x['from']}, {x['source']})")
    return out


def _file_lines(change: dict[str, Any]) -> list[str]:
    status, path = change["status"], change["path"]
    head = f"  {status:8} {change['old_path']} -> {path}" if status == "renamed" else f"  {status:8} {path}"
    if change.get("changes"):
        head += f"  [{', '.join(change['changes'])}]"
    out = [head]
    old, new = change.get("old", {}), change.get("new", {})
    for what in change.get("changes", []):
        if what in ("mode", "setuid"):
            out.append(f"      mode {old.get('mode')} -> {new.get('mode')}")
        elif what == "owner":
            out.append(f"      owner {old.get('uid')}:{old.get('gid')} -> {new.get('uid')}:{new.get('gid')}")
        elif what == "link_target":
            out.append(f"      link {old.get('link_target')} -> {new.get('link_target')}")
        elif what == "kind":
            out.append(f"      kind {old.get('kind')} -> {new.get('kind')}")
    d = change.get("details", {})
    if "tlsh_distance" in d:
        out.append(
            f"      tlsh distance {d['tlsh_distance']} (0 = same), size {d.get('size_delta', 0):+d} bytes"
        )
    if "elf" in d:
        e = d["elf"]
        for label in (
            "sections_added",
            "sections_removed",
            "sections_resized",
            "imports_added",
            "imports_removed",
            "exports_added",
            "exports_removed",
            "needed_added",
            "needed_removed",
        ):
            if e.get(label):
                val = e[label]
                if label == "sections_resized":
                    shown = ", ".join(f"{n} {v['old']}->{v['new']}" for n, v in val.items())
                elif isinstance(val, dict):
                    shown = ", ".join(f"{n} ({v})" for n, v in val.items())
                else:
                    shown = ", ".join(val)
                out.append(f"      {label.replace('_', ' ')}: {shown}")
    if "diff" in d:
        out.extend("      " + line for line in d["diff"]["lines"])
        if d["diff"].get("truncated"):
            out.append("      ... (diff truncated)")
    return out


def diff_text(result: dict[str, Any]) -> str:
    o, n, s = result["old"], result["new"], result["summary"]
    lines = [
        f"old: {o['name']} sha256={o['sha256']} files={o['files']}",
        f"new: {n['name']} sha256={n['sha256']} files={n['files']}",
        f"files: {s['added']} added, {s['removed']} removed, {s['renamed']} renamed, {s['changed']} changed",
        "",
    ]
    if result["identical"]:
        lines.append("The two inputs hold the same files with the same metadata.")
        return "\n".join(lines) + "\n"
    sec = _sec_lines(result["security"])
    lines.append(f"Security delta ({s['security_changes']} changes)")
    lines.extend(sec or ["  none"])
    if not result["security"]["components"]["vulnerabilities_known"]:
        lines.append("  (no vulnerability database: component version changes are listed without CVEs)")
    lines.append("")
    lines.append("Files")
    for change in result["files"]:
        lines.extend(_file_lines(change))
    for w in result.get("warnings", []):
        lines.append(f"warning: {w}")
    return "\n".join(lines) + "\n"


_DIFF_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>assay diff {{ r.old.name }} / {{ r.new.name }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
.add{color:#070}.del{color:#a00}.chg{color:#a60}pre{background:#f6f6f6;padding:.5em;overflow:auto;font-size:90%}
</style></head><body>
<h1>assay diff</h1>
<table><tr><th></th><th>name</th><th>sha256</th><th>files</th></tr>
<tr><td>old</td><td>{{ r.old.name }}</td><td><code>{{ r.old.sha256 }}</code></td><td>{{ r.old.files }}</td></tr>
<tr><td>new</td><td>{{ r.new.name }}</td><td><code>{{ r.new.sha256 }}</code></td><td>{{ r.new.files }}</td></tr></table>
<p>{{ r.summary.added }} added, {{ r.summary.removed }} removed, {{ r.summary.renamed }} renamed,
{{ r.summary.changed }} changed; {{ r.summary.security_changes }} security changes.</p>
{% if r.identical %}<p><strong>The two inputs hold the same files with the same metadata.</strong></p>{% endif %}
<h2>Security delta</h2>
{% if sec %}<ul>{% for line in sec %}<li class="{{ 'add' if line.lstrip().startswith('+') else ('del' if line.lstrip().startswith('-') else 'chg') }}">{{ line.strip() }}</li>{% endfor %}</ul>
{% else %}<p>none</p>{% endif %}
<h2>Files</h2>
<table><tr><th>status</th><th>path</th><th>changes</th><th>details</th></tr>
{% for c in r.files %}<tr><td class="{{ {'added':'add','removed':'del'}.get(c.status, 'chg') }}">{{ c.status }}</td>
<td>{% if c.old_path %}{{ c.old_path }} &rarr; {% endif %}{{ c.path }}</td><td>{{ (c.changes or []) | join(', ') }}</td>
<td>{% set lines = details(c) %}{% if lines %}<pre>{{ lines | join('\n') }}</pre>{% endif %}</td></tr>
{% endfor %}</table>
{% for w in r.warnings %}<p>warning: {{ w }}</p>{% endfor %}
<p><small>assay {{ r.tool.version }}, {{ r.schema }}</small></p>
</body></html>
"""


def _env() -> Environment:
    return Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def diff_html(result: dict[str, Any]) -> str:
    tpl = _env().from_string(_DIFF_HTML)
    return tpl.render(
        r=result,
        sec=_sec_lines(result["security"]),
        details=lambda c: [x.strip() if not x.startswith("      ") else x[6:] for x in _file_lines(c)[1:]],
    )


def render_diff(result: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(result)
    if fmt == "html":
        return diff_html(result)
    return diff_text(result)


# ---------------------------------------------------------------- equivalence


def equivalence_text(result: dict[str, Any]) -> str:
    d, r, s = result["deployed"], result["reference"], result["summary"]
    lines = [
        f"deployed:  {d['name']} sha256={d['sha256']} files={d['files']}",
        f"reference: {r['name']} sha256={r['sha256']} files={r['files']}",
        f"files: {s['identical']} identical, {s['equivalent']} equivalent after normalization, "
        f"{s['different']} different, {s['only_deployed']} only in deployed, {s['only_reference']} only in reference",
        "",
    ]
    mtime_only = 0
    for f in result["files"]:
        if f["status"] == "identical":
            continue
        if f["status"] == "equivalent" and [n["name"] for n in f.get("normalizations", [])] == ["mtime"]:
            mtime_only += 1  # one summary line: a repacked image has thousands
            continue
        lines.append(f"  {f['status']:15} {f['path']}")
        for n in f.get("normalizations", []):
            lines.append(f"      normalized: {n['name']}: {n['explanation']}")
        for reason in f.get("reasons", []):
            lines.append(f"      {reason}")
    if mtime_only:
        lines.append(
            f"  {mtime_only} entries equivalent after normalizing only their mtime "
            "(filesystem timestamps of the build; listed in the JSON output)"
        )
    for note in result.get("notes", []):
        lines.append(f"note: {note}")
    lines.append("")
    lines.append(f"verdict: {result['verdict'].upper()}")
    return "\n".join(lines) + "\n"


_EQUIV_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>assay equivalence {{ r.deployed.name }} / {{ r.reference.name }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
.different,.only-deployed,.only-reference{color:#a00}.equivalent{color:#a60}.identical{color:#070}
</style></head><body>
<h1>assay equivalence: <span class="{{ r.verdict }}">{{ r.verdict | upper }}</span></h1>
<table><tr><th></th><th>name</th><th>sha256</th><th>files</th></tr>
<tr><td>deployed</td><td>{{ r.deployed.name }}</td><td><code>{{ r.deployed.sha256 }}</code></td><td>{{ r.deployed.files }}</td></tr>
<tr><td>reference</td><td>{{ r.reference.name }}</td><td><code>{{ r.reference.sha256 }}</code></td><td>{{ r.reference.files }}</td></tr></table>
<p>{{ r.summary.identical }} identical, {{ r.summary.equivalent }} equivalent after normalization,
{{ r.summary.different }} different, {{ r.summary.only_deployed }} only in deployed,
{{ r.summary.only_reference }} only in reference.</p>
<table><tr><th>status</th><th>path</th><th>normalizations and reasons</th></tr>
{% for f in r.files if f.status != "identical" %}<tr><td class="{{ f.status }}">{{ f.status }}</td><td>{{ f.path }}</td>
<td><ul>{% for n in f.normalizations or [] %}<li>normalized <b>{{ n.name }}</b>: {{ n.explanation }}</li>{% endfor %}
{% for x in f.reasons or [] %}<li>{{ x }}</li>{% endfor %}</ul></td></tr>
{% endfor %}</table>
{% for n in r.notes %}<p>note: {{ n }}</p>{% endfor %}
<p><small>assay {{ r.tool.version }}, {{ r.schema }}</small></p>
</body></html>
"""


def render_equivalence(result: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return to_json(result)
    if fmt == "html":
        return _env().from_string(_EQUIV_HTML).render(r=result)
    return equivalence_text(result)
