"""Persistence for the assessment centre: SQLAlchemy models, Alembic migrations, and Store."""

from assay.store.db import database_url, make_engine, migrate
from assay.store.models import SCAN_STATUSES, ApiToken, Image, Scan, User
from assay.store.repo import Recovered, Store, TokenCheck, as_utc, credential_hash_of, fingerprint_of

__all__ = [
    "SCAN_STATUSES",
    "ApiToken",
    "Image",
    "Recovered",
    "Scan",
    "Store",
    "TokenCheck",
    "User",
    "as_utc",
    "credential_hash_of",
    "database_url",
    "fingerprint_of",
    "make_engine",
    "migrate",
]
