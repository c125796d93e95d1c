"""Index building: embedders, embedding cache and the FAISS index."""
