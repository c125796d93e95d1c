"""Retrieval-quality evaluation over the dev question set (python -m eval)."""
