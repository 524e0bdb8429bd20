"""Inventory stage: which software components the image holds."""

from __future__ import annotations

from assay.index import FileIndex
from assay.model import Component


def identify(index: FileIndex) -> list[Component]:
    """Components found in binaries, package databases and version files."""
    from assay.inventory.identify import identify_components

    return identify_components(index)


__all__ = ["identify"]
