"""The harness's Hydra configs; a package only so that installed copies find them."""
