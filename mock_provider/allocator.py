"""Keep freed memory in the serving process for the next page instead of handing it back.

A page of 1,000 users is built in fresh buffers of about 0.7 MB (the stored texts joined) and
1.2 MB (the rendered answer). glibc's malloc serves such sizes from mmap, or returns them to
the system once freed, so the next page faults every one of those 4 KiB pages in again: about
1,000 page faults per answer, a third of its time on 2 cores (measured 2026-12-04, issue 14).
Raising the mmap and trim thresholds keeps that memory in the heap between pages. What is kept
is bounded by the thresholds below; a process that never builds a large page keeps nothing.
"""

from __future__ import annotations

import ctypes
import functools

# mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024  # blocks at least this large still come from mmap
TRIM_THRESHOLD = 64 * 1024 * 1024  # free memory at the heap's top kept up to this
TOP_PAD = 16 * 1024 * 1024  # the heap grows by this much extra at a time


@functools.cache
def keep_freed_memory() -> bool:
    """Tune glibc's malloc for serving pages (once per process); False where the C library
    has no ``mallopt`` (musl, macOS, Windows), which then serves as before."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError, TypeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (_M_TOP_PAD, TOP_PAD)))
