"""The assessment centre: FastAPI app (REST API + web pages) with a DB-backed scan queue."""

from assay.service.app import create_app
from assay.service.settings import Settings

__all__ = ["Settings", "create_app"]
