"""Running a scan: in this process, on a pool of processes, or as Dask tasks.

:func:`scan` discovers the images (:mod:`~portablekit.fleet.sources`), cuts them into chunks
and runs :func:`~portablekit.fleet.analyze.analyze_chunk` on each: by default on a
:class:`concurrent.futures.ProcessPoolExecutor` with one process per core, with ``workers=0``
in this process, with ``client=`` on a ``dask.distributed`` client. The scheduling is the
standard library's or Dask's, nothing home-made; chunks of a few dozen images keep the cost of
sending work and rows small next to the work itself. Rows come back in chunk order, so serial,
pool and Dask runs give identical tables.

Progress is a ``tqdm.auto`` bar: an ipywidgets bar in Jupyter, a text bar in a terminal.
Ctrl-C (:class:`KeyboardInterrupt`) stops the scan and returns the images finished so far as a
:class:`~portablekit.fleet.frames.Fleet` marked ``partial``; pool workers ignore the signal and
are shut down. In pool workers each image is also bounded in memory (``RLIMIT_AS``: the
worker's size when it starts plus ``memory_limit``) and, besides the deadline every read
checks, by a ``SIGALRM`` backstop; a worker that dies turns its chunk into error rows.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..versions import SUPPORTED_VERSIONS, Systemd
from . import analyze
from .analyze import Rows, ScanConfig, analyze_chunk
from .frames import TABLES, Fleet, empty_frame, frames_from_rows
from .sources import ImageRef, discover

__all__ = ["chunked", "scan"]


def _versions(systemd: Iterable[int | Systemd] | int | Systemd) -> tuple[Systemd, ...]:
    items = [systemd] if isinstance(systemd, (int, Systemd)) else list(systemd)
    out = []
    for v in items:
        sd = v if isinstance(v, Systemd) else Systemd(int(v))
        if sd.version not in SUPPORTED_VERSIONS:
            supported = "|".join(map(str, SUPPORTED_VERSIONS))
            raise ValueError(f"systemd {sd.version} is not one of {supported}")
        if sd not in out:
            out.append(sd)
    if not out:
        raise ValueError("at least one systemd version is needed")
    return tuple(sorted(out, key=lambda s: s.version))


def chunked(
    refs: Sequence[ImageRef], workers: int, size: int | None = None
) -> list[list[ImageRef]]:
    """``refs`` cut into chunks: ``size`` each, or about eight per worker, 1..64 images."""
    if size is None:
        size = max(1, min(64, math.ceil(len(refs) / (max(workers, 1) * 8))))
    return [list(refs[i : i + size]) for i in range(0, len(refs), size)]


def _failed(chunk: Sequence[ImageRef], e: BaseException) -> Rows:
    """A chunk whose worker failed: every image an error row."""
    from dataclasses import replace

    rows = Rows()
    for ref in chunk:
        bad = replace(ref, error_type=type(e).__name__, error=f"{ref.location}: worker failed: {e}")
        rows.extend(analyze.analyze_image(bad, ScanConfig()))
    return rows


def _init_worker(memory_limit: int | None) -> None:
    """Process-pool worker set-up: no SIGINT (the parent handles Ctrl-C), bounds on."""
    import resource
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    analyze.ALARM = True
    if memory_limit is not None:
        with open("/proc/self/statm") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft = size + memory_limit
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or soft < hard:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _bar(total: int, progress: bool, desc: str) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="image", desc=desc, disable=not progress, smoothing=0.1)


def _serial(
    chunks: list[list[ImageRef]], config: ScanConfig, bar: Any, done: Callable[[int], None]
) -> tuple[list[Rows | None], bool]:
    results: list[Rows | None] = [None] * len(chunks)
    for i, chunk in enumerate(chunks):
        part = Rows()
        try:
            for ref in chunk:
                part.extend(analyze.analyze_image(ref, config))
                bar.update(1)
                done(1)
        except KeyboardInterrupt:
            results[i] = part
            return results, True
        results[i] = part
    return results, False


def _pool(
    chunks: list[list[ImageRef]],
    config: ScanConfig,
    workers: int,
    bar: Any,
    done: Callable[[int], None],
) -> tuple[list[Rows | None], bool]:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    results: list[Rows | None] = [None] * len(chunks)
    pool = ProcessPoolExecutor(workers, initializer=_init_worker, initargs=(config.memory_limit,))
    interrupted = False
    try:
        pending = {pool.submit(analyze_chunk, c, config): i for i, c in enumerate(chunks)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                i = pending.pop(fut)
                try:
                    results[i] = fut.result()
                except Exception as e:
                    results[i] = _failed(chunks[i], e)
                bar.update(len(chunks[i]))
                done(len(chunks[i]))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        pool.shutdown(wait=not interrupted, cancel_futures=True)
    return results, interrupted


def _dask(
    chunks: list[list[ImageRef]],
    config: ScanConfig,
    client: Any,
    bar: Any,
    compute: bool,
    done: Callable[[int], None],
) -> tuple[list[Rows | None] | dict[str, Any], bool, list[Any]]:
    futures = [client.submit(analyze_chunk, c, config, pure=False) for c in chunks]
    if not compute:
        import dask.dataframe as dd
        from dask.delayed import delayed

        tables = {}
        for t in TABLES:
            parts = [delayed(_table_of)(f, t, config) for f in futures]
            tables[t] = dd.from_delayed(parts, meta=empty_frame(t, config), verify_meta=False)
        return tables, False, futures
    from distributed import as_completed

    index = {f.key: i for i, f in enumerate(futures)}
    results: list[Rows | None] = [None] * len(chunks)
    try:
        done_ = as_completed(futures, with_results=True, raise_errors=False)  # type: ignore[no-untyped-call]
        for fut, result in done_:
            i = index[fut.key]
            if isinstance(result, Rows):
                results[i] = result
            else:  # the task's exception
                results[i] = _failed(chunks[i], result if isinstance(result, BaseException)
                                     else RuntimeError(str(result)))  # fmt: skip
            bar.update(len(chunks[i]))
            done(len(chunks[i]))
    except KeyboardInterrupt:
        client.cancel([f for f in futures if not f.done()])
        return results, True, futures
    return results, False, futures


def _table_of(rows: Rows, table: str, config: ScanConfig) -> Any:
    """One table of one chunk's rows (a partition of a dask DataFrame)."""
    single = Rows()
    single.tables[table] = rows.tables[table]
    return frames_from_rows(single, config)[table]


def scan(
    sources: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    systemd: Iterable[int | Systemd] | int | Systemd = (Systemd(),),
    profiles: Sequence[str] = ("default",),
    client: Any = None,
    compute: bool = False,
    workers: int | None = None,
    chunk_size: int | None = None,
    progress: bool = True,
    findings: bool = True,
    scores: bool = True,
    time_limit: float | None = 60.0,
    memory_limit: int | None = 2 << 30,
    allow_download: bool = False,
    storage_options: Mapping[str, Mapping[str, Any]] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Fleet:
    """Scan a fleet of images into tables (:class:`~portablekit.fleet.frames.Fleet`).

    ``sources``: directories, image paths and URLs (see :mod:`portablekit.fleet.sources`).
    ``systemd``: the versions judged (numbers or ``Systemd`` values), ``profiles`` the profiles
    scored (the first is the one attach is planned with). ``workers``: processes (default:
    every core; ``0`` runs in this process). ``client``: a ``dask.distributed.Client`` to run
    on instead; the tables are then dask DataFrames unless ``compute=True`` (the tasks start
    at once; follow them on the Dask dashboard). ``progress`` shows a tqdm bar (not for lazy
    Dask tables); ``on_progress(n)`` is called as ``n`` more images are done.
    ``findings``/``scores`` switch those tables off; ``time_limit`` (seconds) and
    ``memory_limit`` (bytes, pool workers) bound each image; ``allow_download`` lets servers
    without Range support send whole images; ``storage_options`` are fsspec's per protocol.
    """
    start = time.perf_counter()
    versions = _versions(systemd)
    config = ScanConfig(
        versions=versions,
        profiles=tuple(profiles) or ("default",),
        findings=findings,
        scores=scores,
        time_limit=time_limit,
        memory_limit=memory_limit,
        allow_download=allow_download,
        storage_options={k: dict(v) for k, v in (storage_options or {}).items()},
    )
    srcs = [sources] if isinstance(sources, (str, os.PathLike)) else list(sources)
    refs = discover(srcs, systemd=versions[-1], storage_options=config.storage_options)
    n_workers = (os.cpu_count() or 1) if workers is None else workers
    if client is not None:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    chunks = chunked(refs, max(n_workers, 1), chunk_size)
    done = on_progress or (lambda n: None)
    bar = _bar(len(refs), progress and (client is None or compute), "fleet scan")
    futures: list[Any] = []
    try:
        if client is not None:
            out, interrupted, futures = _dask(chunks, config, client, bar, compute, done)
            if isinstance(out, dict):
                return Fleet(out, config, {r.image: r for r in refs}, False,
                             time.perf_counter() - start, n_workers, futures)  # fmt: skip
            results = out
        elif n_workers <= 0 or len(chunks) <= 1:
            results, interrupted = _serial(chunks, config, bar, done)
            n_workers = 1
        else:
            results, interrupted = _pool(chunks, config, n_workers, bar, done)
    finally:
        bar.close()
    rows = Rows()
    for r in results:
        if r is not None:
            rows.extend(r)
    return Fleet(
        frames_from_rows(rows, config),
        config,
        {r.image: r for r in refs},
        interrupted,
        time.perf_counter() - start,
        n_workers,
        futures,
    )
