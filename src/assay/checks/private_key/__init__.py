"""See check.py."""
