"""``ComponentContract``: subclass it in a test module and pytest runs every check."""

from __future__ import annotations

from typing import Any, ClassVar, Optional

from harness.testing import checks


class ComponentContract:
    """Set ``component`` (and optionally ``config``, ``registered_as``, ``cache_ignores``).

    Not collected itself (its name does not start with ``Test``); a subclass
    named ``Test...`` is, and gets one test per check.
    """

    component: ClassVar[Optional[type]] = None
    config: ClassVar[dict[str, Any]] = {}
    registered_as: ClassVar[Optional[str]] = None  # the name its installed plugin registers it under
    cache_ignores: ClassVar[tuple[str, ...]] = ()  # options that deliberately do not change the output

    def _cls(self) -> type:
        if self.component is None:
            raise checks.ContractError(f"{type(self).__name__}: set `component = YourComponentClass`")
        return self.component

    def test_interface(self) -> None:
        checks.check_interface(self._cls(), self.config, self.registered_as)

    def test_determinism_under_a_seed(self) -> None:
        checks.check_determinism(self._cls(), self.config)

    def test_batching_invariance(self) -> None:
        checks.check_batching_invariance(self._cls(), self.config)

    def test_cache_key_stability(self) -> None:
        checks.check_cache_key_stability(self._cls(), self.config, self.cache_ignores)

    def test_errors_on_empty_and_malformed_input(self) -> None:
        checks.check_errors(self._cls(), self.config)
