"""Retrieval-augmented generation: the RAG stage, its answer metrics, groundedness."""
