"""Built-in noise injectors: one module per option of conf/noise/ (shared logic in ``_common``)."""
