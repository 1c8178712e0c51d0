"""Built-in dataset plugins: one module per option (or family of nested options) of conf/dataset/."""
