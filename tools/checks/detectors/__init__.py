"""Detector families, one module each (names follow knowledge/checks_catalog.md)."""
