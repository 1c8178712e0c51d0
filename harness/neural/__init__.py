"""Shared neural code of the rerankers and the dense retriever.

One small module per job: ``models`` loads weights and picks device and dtype,
``batching`` tokenises length-sorted batches, ``functional`` holds the scoring
maths (pooling, similarity, MaxSim), ``store`` caches encodings on disk, and
``bi_encoder``/``cross_encoder``/``late_interaction`` are the three scorers.
Each scorer keeps its trainable torch module as ``.model`` and exposes a
differentiable ``score(queries, passages)`` for training loops.
"""
