"""The plugin contract kit: point it at your component and it checks the interface,
determinism under a seed, batching invariance, cache-key stability and error handling.

In a plugin's tests::

    from harness.testing import ComponentContract

    class TestMyReranker(ComponentContract):
        component = MyReranker
        registered_as = "my_reranker"   # also check the installed entry point

or call the ``check_*`` functions one by one. Checks run on a tiny in-memory
dataset (``harness.testing.toy``) and take milliseconds for a light component.
"""

from harness.testing.checks import (
    ContractError,
    build,
    check_all,
    check_batching_invariance,
    check_cache_key_stability,
    check_determinism,
    check_errors,
    check_interface,
)
from harness.testing.hydra import compose_run_config
from harness.testing.suite import ComponentContract

__all__ = [
    "ComponentContract",
    "ContractError",
    "build",
    "check_all",
    "check_batching_invariance",
    "check_cache_key_stability",
    "check_determinism",
    "check_errors",
    "check_interface",
    "compose_run_config",
]
