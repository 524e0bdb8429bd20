"""Service configuration, from the environment (ASSAY_*) or given explicitly by tests."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from assay.errors import InputError
from assay.paths import RESULT_CACHE_NAME, data_dir
from assay.store.db import database_url

GIB = 1024**3


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    max_upload: int = GIB
    workers: int = 2
    scan_timeout: float = 600.0
    heartbeat: float = 2.0  # seconds between worker heartbeats
    stale_after: float = 30.0  # a running scan without heartbeat this long belongs to a dead worker
    max_attempts: int = 2
    poll: float = 0.5
    cookie_secure: bool = False
    secret_key: str = field(default="", repr=False)

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def result_cache(self) -> Path:
        """Per-file check results the scans share (see checks.cache)."""
        return self.data_dir / RESULT_CACHE_NAME

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        directory = Path(os.environ["ASSAY_DATA_DIR"]) if os.environ.get("ASSAY_DATA_DIR") else data_dir()
        values: dict[str, object] = {
            "data_dir": directory,
            "database_url": database_url(directory),
            "max_upload": _size(os.environ.get("ASSAY_MAX_UPLOAD"), GIB),
            "workers": int(os.environ.get("ASSAY_WORKERS", "2")),
            "scan_timeout": float(os.environ.get("ASSAY_SCAN_TIMEOUT", "600")),
            "cookie_secure": os.environ.get("ASSAY_COOKIE_SECURE", "") in ("1", "true", "yes"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def prepared(self) -> Settings:
        """Create the data dir layout and load (or make) the cookie-signing key."""
        for d in (self.data_dir, self.images_dir, self.uploads_dir):
            d.mkdir(parents=True, exist_ok=True)
        if self.secret_key:
            return self
        key_file = self.data_dir / "secret.key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        key = key_file.read_text().strip()
        return Settings(**{**self.__dict__, "secret_key": key})


def _size(text: str | None, default: int) -> int:
    """'1GiB', '500M', '1048576' -> bytes."""
    if not text:
        return default
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}.get(t[-1:], 1)
    try:
        value = int(float(t.rstrip("kmgt")) * mult)
    except ValueError:
        raise InputError(f"ASSAY_MAX_UPLOAD: not a size: {text!r}") from None
    if value <= 0:
        raise InputError("ASSAY_MAX_UPLOAD must be positive")
    return value
