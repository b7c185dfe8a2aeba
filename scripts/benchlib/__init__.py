"""Pieces of `make bench`: running wrk in the sandbox, parsing it, reporting."""
