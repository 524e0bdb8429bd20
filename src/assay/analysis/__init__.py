"""Shared parsers and models that several checks and stages use."""
