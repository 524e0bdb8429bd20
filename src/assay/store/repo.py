"""Store: every read and write of the assessment centre goes through here."""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from assay.errors import DatabaseError
from assay.store.db import database_url, make_engine, migrate, session_factory
from assay.store.models import (
    ApiToken,
    ComponentRow,
    FindingRow,
    Image,
    Scan,
    User,
    VulnerabilityRow,
    utcnow,
)

TOKEN_PREFIX = "assay_"
_CREDENTIAL_CATEGORIES = ("default-credential", "hidden-account", "hardcoded-credential")
_NOT_A_HASH = {"", "x", "*", "!", "!!", "!*", "*LK*", "NP"}


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything is stored in UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TokenCheck:
    status: str  # ok | invalid | revoked
    token_id: int | None = None
    user_id: int | None = None
    user_name: str | None = None


@dataclass(frozen=True)
class Recovered:
    scan_id: int
    status: str  # queued again, or failed
    worker_id: str | None


class Store:
    def __init__(self, url: str | None = None, *, run_migrations: bool = True) -> None:
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        if run_migrations:
            migrate(self.engine)
        self._sessions = session_factory(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def local_dir(self) -> Path | None:
        """The folder of an SQLite database file; None for a server or an in-memory database."""
        if self.engine.url.get_backend_name() != "sqlite" or self.engine.url.database in (
            None,
            "",
            ":memory:",
        ):
            return None
        return Path(str(self.engine.url.database)).resolve().parent

    @contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as s:
                yield s
        except SQLAlchemyError as exc:
            raise DatabaseError(_short(exc)) from None

    # -- images and scans ---------------------------------------------------------------

    def add_image(
        self,
        sha256: str,
        name: str,
        size: int,
        *,
        vendor: str | None = None,
        model: str | None = None,
        location: str | None = None,
    ) -> int:
        """Id of the image with this sha256, created if new (a concurrent insert is tolerated)."""
        for _ in range(3):
            with self.session() as s:
                found = s.scalar(select(Image).where(Image.sha256 == sha256))
                if found is not None:
                    if location and not found.location:
                        found.location = location
                    return found.id
            try:
                with self._sessions.begin() as s:
                    img = Image(
                        sha256=sha256, name=name, size=size, vendor=vendor, model=model, location=location
                    )
                    s.add(img)
                    s.flush()
                    return img.id
            except IntegrityError:
                continue  # another process inserted the same image first
            except SQLAlchemyError as exc:
                raise DatabaseError(_short(exc)) from None
        raise DatabaseError(f"cannot record image {sha256}")

    def create_scan(self, image_id: int, *, source: str = "upload", user_id: int | None = None) -> int:
        with self.session() as s:
            scan = Scan(image_id=image_id, source=source, created_by=user_id, status="queued")
            s.add(scan)
            s.flush()
            return scan.id

    def get_scan(self, scan_id: int) -> Scan | None:
        with self.session() as s:
            return s.scalar(select(Scan).options(selectinload(Scan.image)).where(Scan.id == scan_id))

    def list_scans(self, *, limit: int = 100, offset: int = 0, status: str | None = None) -> list[Scan]:
        q = (
            select(Scan)
            .options(selectinload(Scan.image))
            .order_by(Scan.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if status:
            q = q.where(Scan.status == status)
        with self.session() as s:
            return list(s.scalars(q))

    def count_scans(self, status: str | None = None) -> int:
        q = select(func.count(Scan.id))
        if status:
            q = q.where(Scan.status == status)
        with self.session() as s:
            return int(s.scalar(q) or 0)

    def list_images(self, *, limit: int = 500, offset: int = 0) -> list[tuple[Image, int, Scan | None]]:
        """Each image with its number of scans and its latest finished scan."""
        with self.session() as s:
            images = list(s.scalars(select(Image).order_by(Image.id.desc()).limit(limit).offset(offset)))
            out: list[tuple[Image, int, Scan | None]] = []
            for img in images:
                n = int(s.scalar(select(func.count(Scan.id)).where(Scan.image_id == img.id)) or 0)
                last = s.scalar(
                    select(Scan)
                    .where(Scan.image_id == img.id, Scan.status == "done")
                    .order_by(Scan.id.desc())
                    .limit(1)
                )
                out.append((img, n, last))
            return out

    def done_scan_for(self, sha256: str) -> Scan | None:
        with self.session() as s:
            return s.scalar(
                select(Scan)
                .join(Image)
                .where(Image.sha256 == sha256, Scan.status == "done")
                .order_by(Scan.id.desc())
                .limit(1)
            )

    def claim_scan(self, worker_id: str) -> Scan | None:
        """Take the oldest queued scan. The conditional UPDATE makes the claim atomic on both
        backends: a second worker that picked the same row updates nothing and tries again."""
        for _ in range(5):
            with self.session() as s:
                cand = s.scalar(select(Scan.id).where(Scan.status == "queued").order_by(Scan.id).limit(1))
                if cand is None:
                    return None
                now = utcnow()
                res = s.execute(
                    update(Scan)
                    .where(Scan.id == cand, Scan.status == "queued")
                    .values(
                        status="running",
                        worker_id=worker_id,
                        started_at=now,
                        heartbeat_at=now,
                        stage="starting",
                        attempts=Scan.attempts + 1,
                    )
                )
                if res.rowcount == 1:  # type: ignore[attr-defined]
                    return s.scalar(select(Scan).options(selectinload(Scan.image)).where(Scan.id == cand))
        return None

    def heartbeat(self, scan_id: int, worker_id: str, stage: str | None = None) -> bool:
        """False when the scan is no longer ours (recovered after we were presumed dead)."""
        values: dict[str, Any] = {"heartbeat_at": utcnow()}
        if stage is not None:
            values["stage"] = stage[:255]
        with self.session() as s:
            res = s.execute(
                update(Scan)
                .where(Scan.id == scan_id, Scan.worker_id == worker_id, Scan.status == "running")
                .values(**values)
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    def finish_scan(self, scan_id: int, report: dict[str, Any], *, worker_id: str | None = None) -> bool:
        """Store the report and its rows; refused if a worker id is given and no longer owns it."""
        with self.session() as s:
            scan = s.get(Scan, scan_id)
            if scan is None or (
                worker_id is not None and (scan.worker_id != worker_id or scan.status != "running")
            ):
                return False
            _complete(s, scan, report)
            return True

    def fail_scan(self, scan_id: int, error: str, *, worker_id: str | None = None) -> bool:
        q = update(Scan).where(Scan.id == scan_id)
        if worker_id is not None:
            q = q.where(Scan.worker_id == worker_id, Scan.status == "running")
        with self.session() as s:
            res = s.execute(
                q.values(status="failed", stage="failed", error=error[:4000], finished_at=utcnow())
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    def record_result(
        self,
        image_id: int,
        *,
        report: dict[str, Any] | None,
        error: str | None,
        started_at: datetime,
        worker_id: str,
        source: str = "corpus",
    ) -> int:
        """A scan that ran outside the queue (scan-corpus), written in one transaction so a killed
        run never leaves it half-recorded or running."""
        with self.session() as s:
            scan = Scan(
                image_id=image_id,
                source=source,
                worker_id=worker_id,
                started_at=started_at,
                heartbeat_at=utcnow(),
                attempts=1,
            )
            s.add(scan)
            s.flush()
            if report is not None:
                _complete(s, scan, report)
            else:
                scan.status, scan.stage = "failed", "failed"
                scan.error = (error or "scan failed")[:4000]
                scan.finished_at = utcnow()
            return scan.id

    def requeue(self, scan_id: int, worker_id: str) -> bool:
        """Give a scan back (worker shutting down) without counting the attempt."""
        with self.session() as s:
            res = s.execute(
                update(Scan)
                .where(Scan.id == scan_id, Scan.worker_id == worker_id, Scan.status == "running")
                .values(status="queued", worker_id=None, stage="re-queued", attempts=Scan.attempts - 1)
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    def recover(
        self,
        *,
        stale_after: float,
        max_attempts: int = 2,
        is_dead: Callable[[str], bool] | None = None,
    ) -> list[Recovered]:
        """Scans left running by a dead worker: queued again, or failed once they have used up
        their attempts (a scan that kills its worker must not loop forever)."""
        cutoff = utcnow() - timedelta(seconds=stale_after)
        out: list[Recovered] = []
        with self.session() as s:
            running = list(s.scalars(select(Scan).where(Scan.status == "running")))
            for scan in running:
                hb = as_utc(scan.heartbeat_at)
                dead = hb is None or hb < cutoff or (is_dead is not None and is_dead(scan.worker_id or ""))
                if not dead:
                    continue
                if scan.attempts >= max_attempts:
                    scan.status = "failed"
                    scan.stage = "failed"
                    scan.finished_at = utcnow()
                    scan.error = f"worker {scan.worker_id} stopped during the scan ({scan.attempts} attempts)"
                else:
                    scan.status = "queued"
                    scan.stage = "re-queued after worker loss"
                out.append(Recovered(scan.id, scan.status, scan.worker_id))
                if scan.status == "queued":
                    scan.worker_id = None
        return out

    def report(self, scan_id: int) -> dict[str, Any] | None:
        with self.session() as s:
            blob = s.scalar(select(Scan.report_gz).where(Scan.id == scan_id))
        if blob is None:
            return None
        data: dict[str, Any] = json.loads(gzip.decompress(blob))
        return data

    def findings(
        self, scan_id: int, *, severity: str | None = None, category: str | None = None
    ) -> list[dict[str, Any]]:
        q = select(FindingRow.data).where(FindingRow.scan_id == scan_id).order_by(FindingRow.id)
        if severity:
            q = q.where(FindingRow.severity == severity)
        if category:
            q = q.where(FindingRow.category == category)
        with self.session() as s:
            return list(s.scalars(q))

    def components(self, scan_id: int) -> list[dict[str, Any]]:
        q = select(ComponentRow.data).where(ComponentRow.scan_id == scan_id).order_by(ComponentRow.id)
        with self.session() as s:
            return list(s.scalars(q))

    def vulnerabilities(self, scan_id: int) -> list[dict[str, Any]]:
        q = (
            select(VulnerabilityRow.data)
            .where(VulnerabilityRow.scan_id == scan_id)
            .order_by(VulnerabilityRow.id)
        )
        with self.session() as s:
            return list(s.scalars(q))

    # -- users and tokens ----------------------------------------------------------------

    def create_token(self, user_name: str) -> tuple[str, int]:
        """A new token for the user (created if new). The plain token exists only in the return
        value; the database keeps its prefix for lookup and its sha256."""
        user_name = user_name.strip()
        if not user_name or len(user_name) > 128:
            raise DatabaseError("a token needs a user name of 1-128 characters")
        prefix = secrets.token_hex(6)
        plain = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        with self.session() as s:
            user = s.scalar(select(User).where(User.name == user_name))
            if user is None:
                user = User(name=user_name)
                s.add(user)
                s.flush()
            tok = ApiToken(user_id=user.id, prefix=prefix, token_hash=_hash_token(plain))
            s.add(tok)
            s.flush()
            return plain, tok.id

    def verify_token(self, plain: str) -> TokenCheck:
        prefix = _token_prefix(plain)
        if prefix is None:
            return TokenCheck("invalid")
        with self.session() as s:
            tok = s.scalar(
                select(ApiToken).options(selectinload(ApiToken.user)).where(ApiToken.prefix == prefix)
            )
            if tok is None or not hmac.compare_digest(tok.token_hash, _hash_token(plain)):
                return TokenCheck("invalid")
            if tok.revoked:
                return TokenCheck("revoked", tok.id, tok.user_id, tok.user.name)
            tok.last_used_at = utcnow()
            return TokenCheck("ok", tok.id, tok.user_id, tok.user.name)

    def token_active(self, token_id: int) -> TokenCheck:
        with self.session() as s:
            tok = s.scalar(
                select(ApiToken).options(selectinload(ApiToken.user)).where(ApiToken.id == token_id)
            )
            if tok is None:
                return TokenCheck("invalid")
            return TokenCheck("revoked" if tok.revoked else "ok", tok.id, tok.user_id, tok.user.name)

    def revoke_token(self, ref: str) -> int:
        """Revoke by prefix, by id, or every token of a user name; returns how many."""
        with self.session() as s:
            q = select(ApiToken).join(User)
            prefix = _token_prefix(ref)
            if prefix is not None:
                q = q.where(ApiToken.prefix == prefix)
            elif ref.isdigit() and len(ref) < 12:
                q = q.where(ApiToken.id == int(ref))
            else:
                q = q.where((ApiToken.prefix == ref) | (User.name == ref))
            n = 0
            for tok in s.scalars(q):
                if not tok.revoked:
                    tok.revoked = True
                    n += 1
            return n

    def list_tokens(self) -> list[dict[str, Any]]:
        with self.session() as s:
            rows = s.scalars(select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id))
            return [
                {
                    "id": t.id,
                    "user": t.user.name,
                    "prefix": t.prefix,
                    "revoked": t.revoked,
                    "created_at": as_utc(t.created_at),
                    "last_used_at": as_utc(t.last_used_at),
                }
                for t in rows
            ]

    # -- cross-image queries ---------------------------------------------------------------

    def shared_values(self, column: str, categories: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        """Values of findings.<column> seen in more than one image, with where they occur."""
        col = {"fingerprint": FindingRow.fingerprint, "credential_hash": FindingRow.credential_hash}[column]
        latest = _latest_done_scans()
        q = (
            select(col, Image.id, Image.name, Image.sha256, Image.vendor, FindingRow.path, FindingRow.scan_id)
            .join(Scan, Scan.id == FindingRow.scan_id)
            .join(Image, Image.id == Scan.image_id)
            .where(col.is_not(None), FindingRow.scan_id.in_(latest))
        )
        if categories:
            q = q.where(FindingRow.category.in_(categories))
        groups: dict[str, dict[int, dict[str, Any]]] = {}
        with self.session() as s:
            for value, img_id, name, sha, vendor, path, scan_id in s.execute(q):
                if value is None:
                    continue
                img = groups.setdefault(value, {}).setdefault(
                    img_id,
                    {"image": name, "sha256": sha, "vendor": vendor, "scan_id": scan_id, "paths": []},
                )
                if path not in img["paths"]:
                    img["paths"].append(path)
        out: list[dict[str, Any]] = [
            {"value": value, "images": sorted(imgs.values(), key=lambda i: str(i["image"]))}
            for value, imgs in groups.items()
            if len(imgs) > 1
        ]
        return sorted(out, key=lambda g: (-len(g["images"]), g["value"]))

    def images_with_component(self, name: str, version: str | None = None) -> list[dict[str, Any]]:
        latest = _latest_done_scans()
        q = (
            select(ComponentRow.name, ComponentRow.version, Image.name, Image.sha256, Scan.id)
            .join(Scan, Scan.id == ComponentRow.scan_id)
            .join(Image, Image.id == Scan.image_id)
            .where(func.lower(ComponentRow.name) == name.lower(), ComponentRow.scan_id.in_(latest))
            .order_by(Image.name)
        )
        if version:
            q = q.where(ComponentRow.version == version)
        with self.session() as s:
            return [
                {"component": c, "version": v, "image": n, "sha256": h, "scan_id": sid}
                for c, v, n, h, sid in s.execute(q)
            ]

    def images_with_vulnerability(self, vuln_id: str) -> list[dict[str, Any]]:
        latest = _latest_done_scans()
        q = (
            select(
                VulnerabilityRow.vuln_id,
                VulnerabilityRow.component,
                VulnerabilityRow.version,
                Image.name,
                Image.sha256,
                Scan.id,
            )
            .join(Scan, Scan.id == VulnerabilityRow.scan_id)
            .join(Image, Image.id == Scan.image_id)
            .where(
                func.upper(VulnerabilityRow.vuln_id) == vuln_id.upper(), VulnerabilityRow.scan_id.in_(latest)
            )
            .order_by(Image.name)
        )
        with self.session() as s:
            return [
                {"vulnerability": vid, "component": c, "version": v, "image": n, "sha256": h, "scan_id": sid}
                for vid, c, v, n, h, sid in s.execute(q)
            ]


def _latest_done_scans() -> Any:
    """Only each image's newest finished scan counts, so re-scans do not double-count."""
    return select(func.max(Scan.id)).where(Scan.status == "done").group_by(Scan.image_id).scalar_subquery()


def _hash_token(plain: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is enough; no salt needed.
    return hashlib.sha256(plain.encode()).hexdigest()


def _token_prefix(plain: str) -> str | None:
    if not plain.startswith(TOKEN_PREFIX):
        return None
    prefix, _, rest = plain[len(TOKEN_PREFIX) :].partition("_")
    if len(prefix) != 12 or not all(c in "0123456789abcdef" for c in prefix):
        return None
    return prefix if rest else None


def _complete(s: Session, scan: Scan, report: dict[str, Any]) -> None:
    scan.status = "done"
    scan.stage = "done"
    scan.error = None
    scan.finished_at = utcnow()
    scan.summary = _summary(report)
    scan.report_gz = gzip.compress(json.dumps(report, separators=(",", ":")).encode(), 6)
    _ingest(s, scan.id, report)


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    summary = dict(report.get("summary") or {})
    summary.setdefault("findings", len(report.get("findings") or []))
    summary.setdefault("components", len(report.get("components") or []))
    summary.setdefault("vulnerabilities", len(report.get("vulnerabilities") or []))
    summary.setdefault("files", len(report.get("files") or []))
    image = report.get("image") or {}
    summary["format"] = image.get("format")
    return summary


def _ingest(s: Session, scan_id: int, report: dict[str, Any]) -> None:
    for f in report.get("findings") or []:
        s.add(
            FindingRow(
                scan_id=scan_id,
                finding_id=str(f.get("id", ""))[:128],
                rule=str(f.get("rule", ""))[:128],
                category=str(f.get("category", ""))[:64],
                severity=str(f.get("severity", ""))[:16],
                title=str(f.get("title", "")),
                path=str(f.get("path", "")),
                fingerprint=_clip(fingerprint_of(f), 255),
                credential_hash=_clip(credential_hash_of(f), 512),
                data=f,
            )
        )
    for c in report.get("components") or []:
        s.add(
            ComponentRow(
                scan_id=scan_id,
                name=str(c.get("name", ""))[:255],
                version=_clip(c.get("version"), 255),
                purl=c.get("purl"),
                cpe=c.get("cpe"),
                data=c,
            )
        )
    for v in report.get("vulnerabilities") or []:
        comp = v.get("component")
        if isinstance(comp, dict):
            comp_name, comp_version = comp.get("name"), comp.get("version")
        else:
            comp_name, comp_version = comp, v.get("version") or v.get("component_version")
        s.add(
            VulnerabilityRow(
                scan_id=scan_id,
                vuln_id=str(v.get("id") or v.get("cve") or v.get("vuln_id") or "")[:64],
                component=_clip(comp_name, 255),
                version=_clip(comp_version, 255),
                severity=_clip(v.get("severity"), 16),
                data=v,
            )
        )


def _clip(value: Any, n: int) -> str | None:
    return None if value is None or value == "" else str(value)[:n]


def _detail_dicts(finding: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if isinstance(finding.get("details"), dict):
        yield finding["details"]
    for ev in finding.get("evidence") or []:
        if isinstance(ev, dict) and isinstance(ev.get("details"), dict):
            yield ev["details"]


def fingerprint_of(finding: dict[str, Any]) -> str | None:
    """A key's fingerprint from the finding's or its evidence's details (private keys)."""
    if finding.get("category") not in ("private-key", "authorized-key"):
        return None
    for d in _detail_dicts(finding):
        for key in ("fingerprint", "sha256_fingerprint", "fingerprint_sha256", "public_key_sha256"):
            if isinstance(d.get(key), str) and d[key]:
                return str(d[key])
        for key, value in d.items():
            if "fingerprint" in key and isinstance(value, str) and value:
                return value
    return None


def credential_hash_of(finding: dict[str, Any]) -> str | None:
    """The password hash of a credential finding: from details, else from the shadow/passwd
    line quoted in the evidence."""
    if finding.get("category") not in _CREDENTIAL_CATEGORIES:
        return None
    for d in _detail_dicts(finding):
        for key in ("hash", "password_hash", "crypt", "shadow_hash"):
            value = d.get(key)
            if isinstance(value, str) and value not in _NOT_A_HASH:
                return value
    for ev in finding.get("evidence") or []:
        excerpt = ev.get("excerpt") if isinstance(ev, dict) else None
        if not isinstance(excerpt, str):
            continue
        for line in excerpt.replace("\\n", "\n").splitlines():
            fields = line.split(":")
            if len(fields) >= 2 and _looks_like_crypt(fields[1]):
                return fields[1]
    return None


def _looks_like_crypt(value: str) -> bool:
    if value in _NOT_A_HASH or value.startswith(("!", "*")):
        return False
    if value.startswith("$") and value.count("$") >= 3:
        return True
    alphabet = set("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    return len(value) == 13 and set(value) <= alphabet  # traditional DES crypt


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
