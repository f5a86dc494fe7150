"""The thread pool on which the ingestion's DoFns work their photos, one pool per Beam worker.

File reads, hashing and Pillow's decode and resize release the GIL (its JPEG encode does not), so one Beam worker
(the in-process DirectRunner included) keeps most of every core busy: about 1.7 of 2 measured. Remote reads wait
on the network, so they get more threads per core.
"""

from __future__ import annotations

import concurrent.futures
import os

import apache_beam as beam

from components.ingestion import sources

LOCAL_THREADS_PER_CORE = 2
REMOTE_THREADS_PER_CORE = 8  # A GCS read is tens of ms of waiting; decoding it is about 2 ms of CPU.


def threads_per_core(listing: sources.Listing) -> int:
    remote = any(sources.is_remote(path) for path, _ in listing.photos[:1])
    return REMOTE_THREADS_PER_CORE if remote else LOCAL_THREADS_PER_CORE


class PhotoPoolDoFn(beam.DoFn):
    """A DoFn with `self.pool`, sized on the worker's cores (not the launcher's) when the worker starts."""

    def __init__(self, threads_per_core: int):
        self._threads_per_core = threads_per_core
        self.pool = None

    def setup(self):
        sources.use_anonymous_gcs_if_needed()  # Also in worker processes, which start with an empty cache.
        threads = self._threads_per_core * (os.cpu_count() or 1)
        self.pool = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="photo")

    def look_up(self, function, paths: list[str]) -> list:
        """function(path) for each path: on the pool for remote files (each look-up waits on a request), here for
        local ones (a stat costs less than handing it to a thread)."""
        if paths and sources.is_remote(paths[0]):
            return list(self.pool.map(function, paths))
        return [function(path) for path in paths]

    def teardown(self):
        if self.pool is not None:
            self.pool.shutdown()
