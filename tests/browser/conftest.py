from __future__ import annotations

import sys
from pathlib import Path

# support.py (images built with mksquashfs, free ports) is shared with the service tests.
sys.path.insert(0, str(Path(__file__).parents[1] / "service"))
