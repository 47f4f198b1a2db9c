"""Spreading one model's questions over the run's servers, each with the requests in flight it takes.

Every worker of every server takes the next report from one shared queue. A
server that fails after its retries (``ServerLost``) leaves the run: the
report it was asking goes back to the queue, and the other servers answer it
with the rest. A report is held by one worker at a time, until its answer
arrives, so no report is answered twice; and the response cache keeps the
first answer stored under each key, so the labels depend neither on which
server answered nor on how many did. When the last server leaves, the run
stops with the resume hint.
"""

import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from analysis.llm.backend import Backend, ServerLost

Result = TypeVar("Result")
# How often an idle worker looks again for a report handed back by a server that left.
POLL_S = 0.1


def all_lost(lost: dict[str, ServerLost]) -> ServerLost:
    """The failure that stops the run once no server is left: a single server's own line, or every server's."""
    if len(lost) == 1:
        return next(iter(lost.values()))
    return ServerLost(
        f"All {len(lost)} LLM servers of the run failed ({'; '.join(f'{host}: {error}' for host, error in lost.items())}). "
        f"Everything answered so far is in the response cache: run the same command again to resume."
    )


def spread(ask: Callable[[str, Backend], Result], report_ids: list[str], servers: list[Backend],
           workers: int | None = None, done: Callable[[str, Result], None] = lambda report_id, result: None,
           ) -> dict[str, Result]:
    """``ask(report_id, server)`` for every report, spread over ``servers`` with ``workers`` requests in flight
    to each (default: each server's own); ``done`` is called as each result arrives. Results in the order given.

    Any failure but a lost server stops the run at once: requests in flight are finished, none is started.
    """
    if not report_ids:
        return {}
    pending: queue.SimpleQueue[str] = queue.SimpleQueue()
    for report_id in report_ids:
        pending.put(report_id)
    results: dict[str, Result] = {}
    lost: dict[str, ServerLost] = {}
    failures: list[BaseException] = []
    lock = threading.Lock()
    finished = threading.Event()  # every report answered, every server lost, or a failure that stops the run

    def leave(server: Backend, error: ServerLost) -> None:
        with lock:
            if server.host in lost:
                return
            lost[server.host] = error
            if len(lost) == len(servers):
                finished.set()
            else:
                print(f"The LLM server at {server.host} stopped answering; its unanswered reports go to the "
                      f"{len(servers) - len(lost)} other server(s).", file=sys.stderr)

    def work(server: Backend) -> None:
        while not finished.is_set() and server.host not in lost:
            try:
                report_id = pending.get(timeout=POLL_S)
            except queue.Empty:
                continue
            try:
                result = ask(report_id, server)
            except ServerLost as error:
                pending.put(report_id)
                leave(server, error)
                return
            except BaseException as error:  # noqa: BLE001 - handed to the caller, which raises it
                with lock:
                    failures.append(error)
                finished.set()
                return
            with lock:
                results[report_id] = result
                done(report_id, result)
                if len(results) == len(report_ids):
                    finished.set()

    slots = [server for server in servers for _ in range(workers or server.workers)]
    pool = ThreadPoolExecutor(max_workers=len(slots))
    try:
        for future in [pool.submit(work, server) for server in slots]:
            future.result()
    finally:
        finished.set()  # an interrupt stops every worker after its request in flight
        pool.shutdown(wait=True)
    if failures:
        raise failures[0]
    if len(results) < len(report_ids):
        raise all_lost(lost)
    return {report_id: results[report_id] for report_id in report_ids}
