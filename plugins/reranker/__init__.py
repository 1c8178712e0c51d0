"""Built-in reranker plugins: one module per option of conf/reranker/."""
