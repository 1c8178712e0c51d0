"""Built-in generator plugins: one module per option of conf/generator/."""
