"""Dynamic batching: the texts of concurrent requests to one run and endpoint are gathered for a
few milliseconds and computed as one engine call, off the event loop.

A queue holds at most ``limit`` texts; beyond it a request is refused at once (:class:`Busy`)
rather than waiting behind work it cannot overtake. A request whose caller gave up (timeout,
disconnect) is dropped from the batch before it is computed.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from concurrent.futures import Executor
from typing import Any, Callable

Compute = Callable[[list[Any]], list[Any]]


class Busy(Exception):
    """The queue is full: try again later."""


class Batcher:
    """Gathers items from concurrent :meth:`submit` calls into calls of ``compute`` (a list of items
    in, one result per item out); ``max_batch`` 0 computes each submission alone."""

    def __init__(self, compute: Compute, max_batch: int, max_wait: float, limit: int, executor: Executor | None,
                 observe: Callable[[int], None] = lambda size: None) -> None:
        self.compute, self.max_batch, self.max_wait, self.limit = compute, max_batch, max_wait, limit
        self.executor, self.observe = executor, observe
        self.waiting: deque[tuple[list[Any], asyncio.Future[list[Any]], float]] = deque()
        self.pending = 0  # items queued or computing
        self._arrived: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None

    async def submit(self, items: list[Any]) -> list[Any]:
        if self.pending + len(items) > self.limit:
            raise Busy(f"{self.pending:,} texts are waiting")
        loop = asyncio.get_running_loop()
        self.pending += len(items)
        try:
            if self.max_batch == 0:
                self.observe(len(items))
                return await loop.run_in_executor(self.executor, self.compute, items)
            future: asyncio.Future[list[Any]] = loop.create_future()
            self.waiting.append((items, future, time.monotonic()))
            self._wake()
            return await future
        finally:
            self.pending -= len(items)

    def _wake(self) -> None:
        if self._worker is None or self._worker.done():
            self._arrived = asyncio.Event()
            self._worker = asyncio.get_running_loop().create_task(self._work())
        assert self._arrived is not None
        self._arrived.set()

    async def _work(self) -> None:
        assert self._arrived is not None
        loop = asyncio.get_running_loop()
        while self.waiting:
            first = self.waiting[0][2]
            while self._count() < self.max_batch:
                left = first + self.max_wait - time.monotonic()
                if left <= 0:
                    break
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except asyncio.TimeoutError:
                    break
            batch = self._take()
            if not batch:
                continue
            items = [item for part, _, _ in batch for item in part]
            self.observe(len(items))
            try:
                results = await loop.run_in_executor(self.executor, self.compute, items)
            except Exception as exc:  # every caller of the batch hears of it
                for _, future, _ in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            at = 0
            for part, future, _ in batch:
                if not future.done():
                    future.set_result(results[at : at + len(part)])
                at += len(part)

    def _count(self) -> int:
        return sum(len(part) for part, future, _ in self.waiting if not future.done())

    def _take(self) -> list[tuple[list[Any], asyncio.Future[list[Any]], float]]:
        """Whole requests, oldest first, up to ``max_batch`` items (at least one request); those
        whose caller has gone are dropped."""
        batch, size = [], 0
        while self.waiting:
            part, future, arrived = self.waiting[0]
            if future.done():
                self.waiting.popleft()
                continue
            if batch and size + len(part) > self.max_batch:
                break
            self.waiting.popleft()
            batch.append((part, future, arrived))
            size += len(part)
        return batch
