"""Assay: evidence-based security assessment of network-equipment firmware."""

__version__ = "0.1.0"
