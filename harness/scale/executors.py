"""Where shards run: ``serial`` (this process), ``local`` (worker processes) or ``ray`` (a Ray cluster).

Every executor calls the same module-level ``task(state, item)`` on the same
items and hands the results back in the items' order, so a parallel run's
result is the serial run's. Each worker gets its own copy of ``state``
(pickled once) and an equal share of this machine's cores as torch threads.
Items are submitted as they stream, at most two per worker in flight, so a
worker's queue never holds more than a few shards' texts. Ray, when this
process starts it, runs a local cluster bound to 127.0.0.1 (``RAY_ADDRESS``
names an existing one instead) and is shut down when the shards are done.
"""

from __future__ import annotations

import logging
import os
from collections import deque
from typing import Any, Callable, Iterable, Iterator

from harness.errors import ConfigError

logger = logging.getLogger(__name__)

EXECUTORS = ("serial", "local", "ray")
_STATE: Any = None


def run_ordered(
    task: Callable[[Any, Any], Any], items: Iterable[Any], state: Any, executor: str = "serial", workers: int = 1
) -> Iterator[Any]:
    """``task(state, item)`` for every item, results in the items' order."""
    if executor == "serial" or workers < 1:
        return (task(state, item) for item in items)
    if executor == "local":
        return _local(task, items, state, workers)
    if executor == "ray":
        return _ray(task, items, state, workers)
    raise ConfigError(f"executor '{executor}' is not one of {', '.join(EXECUTORS)}")


def threads_per_worker(workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def _init_worker(state: Any, threads: int) -> None:
    import torch

    global _STATE
    torch.set_num_threads(threads)
    _STATE = state


def _call(task: Callable[[Any, Any], Any], item: Any) -> Any:
    return task(_STATE, item)


def _bounded(submit: Callable[[Any], Any], wait: Callable[[Any], Any], items: Iterable[Any], in_flight: int) -> Iterator[Any]:
    """Submit items as earlier ones finish (at most ``in_flight`` pending), yield results in order."""
    pending: deque = deque()
    for item in items:
        pending.append(submit(item))
        if len(pending) >= in_flight:
            yield wait(pending.popleft())
    while pending:
        yield wait(pending.popleft())


def _local(task: Callable[[Any, Any], Any], items: Iterable[Any], state: Any, workers: int) -> Iterator[Any]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    logger.info("executor=local: %d worker processes, %d torch threads each", workers, threads_per_worker(workers))
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker,
        initargs=(state, threads_per_worker(workers)),
    ) as pool:
        yield from _bounded(lambda item: pool.submit(_call, task, item), lambda f: f.result(), items, 2 * workers)


class _RayWorker:
    """A Ray actor holding its own copy of the state (a model loaded once per worker)."""

    def __init__(self, state: Any, threads: int):
        _init_worker(state, threads)

    def run(self, task: Callable[[Any, Any], Any], item: Any) -> Any:
        return task(_STATE, item)


def _ray(task: Callable[[Any, Any], Any], items: Iterable[Any], state: Any, workers: int) -> Iterator[Any]:
    try:
        import ray
    except ImportError:
        raise ConfigError("executor=ray needs the package ray (pip install 'ray[default]'), or use executor=local") from None
    started = not ray.is_initialized()
    if started:
        address = os.environ.get("RAY_ADDRESS")
        logger.info(
            "executor=ray: %s",
            f"connecting to {address}" if address else f"starting a local Ray cluster on 127.0.0.1 with {workers} CPUs",
        )
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            _node_ip_address=None if address else "127.0.0.1",
        )
    try:
        threads = threads_per_worker(workers)
        actor: Any = ray.remote(num_cpus=1)(_RayWorker)
        pool = [actor.remote(state, threads) for _ in range(workers)]
        turn = iter(range(1 << 62))
        yield from _bounded(lambda item: pool[next(turn) % workers].run.remote(task, item), ray.get, items, 2 * workers)
    finally:
        if started:
            ray.shutdown()
