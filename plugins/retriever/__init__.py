"""Built-in retriever plugins: one module per option of conf/retriever/."""
