"""A plugin-based benchmark harness for neural IR and retrieval-augmented generation.

Heavy libraries (torch, ranx, mlflow, ir_datasets) are imported lazily inside the
functions that need them, so that `harness --help` stays fast.
"""

__version__ = "0.1.0"
