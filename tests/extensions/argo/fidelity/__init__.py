"""Argo's own test workflows run in the emulator (a package, so its conftest does not shadow tests/conftest.py)."""
