"""`assay db update`: download the current feeds, resumably, then import them.

Each feed goes to CACHE/NAME.part first; an interrupted download resumes with an HTTP Range
request, a finished one is renamed and gets a NAME.done marker (its time is the download
time). Files whose marker is younger than max_age are not fetched again, so re-running an
update after a failure fetches only what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from assay.errors import NetworkError

NVD_FEEDS = "https://nvd.nist.gov/feeds/json/cve/2.0"
KEV_CSV = "https://www.cisa.gov/sites/default/files/csv/known_exploited_vulnerabilities.csv"
OSV_BUCKET = "https://osv-vulnerabilities.storage.googleapis.com"
KERNEL_DATA = "https://raw.githubusercontent.com/nluedtke/linux_kernel_cves/master/data"
FIRST_NVD_YEAR = 2002

# (feed name, bytes done, bytes total or None)
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class Feed:
    name: str  # file name in the cache
    url: str


def default_feeds(osv_ecosystems: tuple[str, ...] = (), *, mirror: str | None = None) -> list[Feed]:
    """NVD 2.0 yearly feeds and the modified feed, KEV, kernel fix data, chosen OSV ecosystems.

    With a mirror, every file is fetched as MIRROR/NAME instead.
    """
    year = datetime.now(UTC).year
    feeds = [
        Feed(f"nvdcve-2.0-{y}.json.gz", f"{NVD_FEEDS}/nvdcve-2.0-{y}.json.gz")
        for y in range(FIRST_NVD_YEAR, year + 1)
    ]
    feeds.append(Feed("nvdcve-2.0-modified.json.gz", f"{NVD_FEEDS}/nvdcve-2.0-modified.json.gz"))
    feeds.append(Feed("known_exploited_vulnerabilities.csv", KEV_CSV))
    feeds.append(Feed("stream_fixes.json", f"{KERNEL_DATA}/stream_fixes.json"))
    feeds.append(Feed("CVEs.txt", f"{KERNEL_DATA}/CVEs.txt"))
    feeds += [Feed(f"osv-{eco}.zip", f"{OSV_BUCKET}/{eco}/all.zip") for eco in osv_ecosystems]
    if mirror:
        feeds = [Feed(f.name, f"{mirror.rstrip('/')}/{f.name}") for f in feeds]
    return feeds


def _fresh(marker: Path, max_age: float) -> bool:
    return marker.exists() and time.time() - marker.stat().st_mtime < max_age


def download(
    feed: Feed, cache: Path, client: httpx.Client, progress: Progress | None = None, max_age: float = 86400
) -> tuple[Path, bool]:
    """The feed's file in the cache, and whether it was fetched now (False: still fresh)."""
    final, part, marker = cache / feed.name, cache / f"{feed.name}.part", cache / f"{feed.name}.done"
    if final.exists() and _fresh(marker, max_age):
        return final, False
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        with client.stream("GET", feed.url, headers=headers) as resp:
            if resp.status_code == 416:  # the part file is already complete
                pass
            elif resp.status_code not in (200, 206):
                raise NetworkError(f"{feed.url}: HTTP {resp.status_code}")
            else:
                mode = "ab" if resp.status_code == 206 else "wb"
                done = have if resp.status_code == 206 else 0
                length = resp.headers.get("content-length")
                total = done + int(length) if length and length.isdigit() else None
                with open(part, mode) as fh:
                    for chunk in resp.iter_bytes(1 << 20):
                        fh.write(chunk)
                        done += len(chunk)
                        if progress:
                            progress(feed.name, done, total)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise NetworkError(
            f"cannot download {feed.url}: {reason} (offline? use `assay db import` with local files)"
        ) from None
    part.replace(final)
    marker.write_text(datetime.now(UTC).isoformat(), encoding="utf-8")
    return final, True


def fetch_all(
    feeds: list[Feed],
    cache: Path,
    *,
    timeout: float = 30.0,
    progress: Progress | None = None,
    max_age: float = 86400,
) -> list[tuple[Path, bool]]:
    cache.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=timeout, follow_redirects=True, headers={"User-Agent": "assay"}) as client:
        return [download(f, cache, client, progress, max_age) for f in feeds]


__all__ = ["Feed", "default_feeds", "download", "fetch_all"]
