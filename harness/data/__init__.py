"""Datasets: ir_datasets registration and loading, TREC and QA readers, checked text lines."""
