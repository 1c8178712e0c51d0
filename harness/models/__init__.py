"""Models: the neural code shared by the rerankers and the dense retriever, and causal LMs.

One small module per job: ``loading`` loads weights and picks device and dtype,
``batching`` tokenises length-sorted batches, ``functional`` holds the scoring
maths (pooling, similarity, MaxSim), ``store`` caches encodings on disk, and
``bi_encoder``/``cross_encoder``/``late_interaction`` are the three scorers.
Each scorer keeps its trainable torch module as ``.model`` and exposes a
differentiable ``score(queries, passages)`` for training loops. ``causal_lm``
loads the generators' causal language models; ``backbone`` identifies a
backbone (name, architecture, config and weight digests) for saved adapters.
"""
