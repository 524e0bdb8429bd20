"""Inventory stage: which software components the image holds."""

from __future__ import annotations

from collections.abc import Sequence

from assay.index import FileIndex
from assay.model import Component
from assay.unpack.base import Layer


def identify(index: FileIndex, layers: Sequence[Layer] = ()) -> list[Component]:
    """Components found in binaries, package databases, version files and kernel uImage layers."""
    from assay.inventory.identify import identify_components

    return identify_components(index, layers)


__all__ = ["identify"]
