"""Reciprocal rank fusion of registered components, as a harness reranker plugin."""
