"""Bulletin files -> cleaned text -> items -> chunks."""
