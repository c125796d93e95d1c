"""Readers for the file formats besides TXT: each turns bytes into text the cleaner and parser
know."""
