"""Built-in tracking plugins: one module per option of conf/tracking/."""
