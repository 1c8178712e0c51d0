"""Hooks of the harness-rrf plugin: the `rrf` reranker and its shipped config."""

from harness.hookspecs import hookimpl


@hookimpl
def harness_add_rerankers():
    from harness_rrf.fusion import RRFReranker

    return {"rrf": RRFReranker}


@hookimpl
def harness_config_dirs():
    return ["pkg://harness_rrf.conf"]
