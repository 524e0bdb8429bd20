"""`assay equivalence`: is the deployed firmware the reference build, up to build noise?

The question of the HCSEC oversight reports: every file is identical, equivalent once named
normalizations are applied, or different; files present on one side only are listed too.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assay import __version__
from assay.compare.files import index_read, metadata_changes
from assay.compare.normalize import compare_content
from assay.compare.sides import Side, load_sides, scratch_dir
from assay.index import FileEntry
from assay.pipeline import ScanOptions

EQUIVALENCE_SCHEMA = "https://assay.dev/schema/equivalence/1.0"
NOTES = ("build paths embedded in binaries are not normalized: a different path is reported as a difference",)
MTIME = "mtime"


def _side_info(side: Side) -> dict[str, Any]:
    return {
        "name": side.label,
        "sha256": side.image.get("sha256"),
        "format": side.image.get("format"),
        "directory": side.is_directory,
        "files": len(side.index),
    }


def _row(path: str, a: FileEntry | None, b: FileEntry | None, status: str) -> dict[str, Any]:
    either = a if a is not None else b
    row: dict[str, Any] = {"path": path, "status": status, "kind": either.kind if either else None}
    if a is not None and a.sha256:
        row["deployed_sha256"] = a.sha256
    if b is not None and b.sha256:
        row["reference_sha256"] = b.sha256
    return row


def equivalence_sides(deployed: Side, reference: Side, *, metadata: bool = True) -> dict[str, Any]:
    da, rb = deployed.keyed(), reference.keyed()
    # A local tree's owners are the builder's, not the image's.
    compare_owner = metadata and not (deployed.is_directory or reference.is_directory)
    rows: list[dict[str, Any]] = []
    for path in sorted(da.keys() | rb.keys()):
        a, b = da.get(path), rb.get(path)
        if a is None or b is None:
            rows.append(_row(path, a, b, "only-deployed" if b is None else "only-reference"))
            continue
        reasons: list[str] = []
        # The root of a local tree is just the directory it sits in.
        if metadata and not (path == "/" and not compare_owner):
            for what in metadata_changes(a, b):
                if what == "owner" and not compare_owner:
                    continue
                reasons.append(_meta_reason(what, a, b))
        if a.kind != b.kind:
            row = _row(path, a, b, "different")
            row["reasons"] = reasons
            rows.append(row)
            continue
        status, norms = "identical", []
        ta, tb = deployed.mtime(a), reference.mtime(b)
        if ta is not None and tb is not None and ta != tb:
            status = "equivalent"
            norms.append(
                {
                    "name": MTIME,
                    "explanation": f"mtime {_iso(ta)} vs {_iso(tb)}: a filesystem timestamp "
                    "(when the image was built), not part of what runs",
                }
            )
        if a.is_file and a.sha256 != b.sha256:
            outcome = compare_content(index_read(deployed.index, a), index_read(reference.index, b))
            status = outcome.status
            norms += [n.to_dict() for n in outcome.normalizations]
            reasons.extend(outcome.reasons)
        if reasons:
            status = "different"
        row = _row(path, a, b, status)
        if norms:
            row["normalizations"] = norms
        if reasons:
            row["reasons"] = reasons
        rows.append(row)

    def paths(status: str) -> list[str]:
        return [r["path"] for r in rows if r["status"] == status]

    summary = {
        "identical": len(paths("identical")),
        "equivalent": len(paths("equivalent")),
        "different": len(paths("different")),
        "only_deployed": len(paths("only-deployed")),
        "only_reference": len(paths("only-reference")),
    }
    if summary["different"] or summary["only_deployed"] or summary["only_reference"]:
        verdict = "different"
    elif summary["equivalent"]:
        verdict = "equivalent"
    else:
        verdict = "identical"
    notes = list(NOTES)
    if metadata and not compare_owner:
        notes.append("owners not compared: one side is a local directory whose owners are the builder's")
    if not metadata:
        notes.append("metadata (mode, owner, link targets) not compared (--no-metadata)")
    sha_d, sha_r = deployed.image.get("sha256"), reference.image.get("sha256")
    if sha_d and sha_d == sha_r:
        notes.append("the two image files are byte-identical")
    elif sha_d and sha_r:
        notes.extend(_container_notes(deployed, reference))
    return {
        "schema": EQUIVALENCE_SCHEMA,
        "tool": {"name": "assay", "version": __version__},
        "deployed": _side_info(deployed),
        "reference": _side_info(reference),
        "verdict": verdict,
        "summary": summary,
        "different": paths("different"),
        "only_deployed": paths("only-deployed"),
        "only_reference": paths("only-reference"),
        "equivalent": [
            {"path": r["path"], "normalizations": r.get("normalizations", [])}
            for r in rows
            if r["status"] == "equivalent"
        ],
        "files": rows,
        "notes": notes,
    }


def _layers(side: Side) -> list[str]:
    return [
        f"{x.get('handler')}@0x{int(x.get('offset') or 0):x}"
        + (f" ({x['size']} bytes)" if x.get("size") else "")
        for x in side.image.get("layers") or []
    ]


def _container_notes(deployed: Side, reference: Side) -> list[str]:
    """The image files differ: say whether their containers do, since the file view cannot."""
    ld, lr = _layers(deployed), _layers(reference)
    if ld != lr:
        return [
            f"the images are packed differently: deployed {', '.join(ld) or 'none'}; "
            f"reference {', '.join(lr) or 'none'}"
        ]
    return [
        "the image files differ byte-wise in the same container layout "
        f"({', '.join(ld) or 'no container'}): compression, layout or header times, not the files compared here"
    ]


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _meta_reason(what: str, a: FileEntry, b: FileEntry) -> str:
    if what in ("mode", "setuid"):
        return f"{what}: {a.mode_string} vs {b.mode_string}"
    if what == "owner":
        return f"owner: {a.uid}:{a.gid} vs {b.uid}:{b.gid}"
    if what == "link_target":
        return f"symlink target: {a.link_target} vs {b.link_target}"
    return f"kind: {a.kind} vs {b.kind}"


def equivalence(
    deployed: Path,
    reference: Path,
    *,
    options: ScanOptions | None = None,
    metadata: bool = True,
    workdir: Path | None = None,
    jobs: int | None = None,
) -> dict[str, Any]:
    """Unpack both inputs (images or directories) and classify every file."""
    if workdir is not None:
        a, b = load_sides(deployed, reference, workdir, full_scan=False, options=options, jobs=jobs)
        return equivalence_sides(a, b, metadata=metadata)
    scratch = scratch_dir((options or ScanOptions()).limits)
    with tempfile.TemporaryDirectory(prefix="assay-equiv-", dir=scratch) as tmp:
        a, b = load_sides(deployed, reference, Path(tmp), full_scan=False, options=options, jobs=jobs)
        return equivalence_sides(a, b, metadata=metadata)
