from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "service"))

from support import database_url, pg_server  # noqa: E402, F401 - fixtures
