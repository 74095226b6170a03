"""A progress bar shared by every long computation, on terminals and in Jupyter.

Long work (enumeration, sampling, solver sweeps) calls :func:`progress` with
the total amount of work; the bar is drawn only when ``enabled`` is true, or,
with ``enabled=None`` (the default), when stderr is a terminal — so it is off
in logs, pipes and notebooks unless asked for (``progress=True``).  A drawn
bar is ``tqdm.auto``'s when tqdm is installed (a widget in Jupyter, text on a
terminal; tqdm is imported only then), else a one-line text bar.  It never
writes to stdout, so ``--json`` output stays one clean object.

Examples
--------
>>> with progress(3, "demo", enabled=False) as bar:
...     for _ in range(3):
...         bar.update(1)
>>> bar.done
3
"""

from __future__ import annotations

import sys
import time

__all__ = ["Progress", "progress"]


class Progress:
    """Counts work done and redraws a one-line bar at most ten times a second.

    Parameters
    ----------
    total : int
        Units of work expected.
    label : str
        Shown before the bar.
    enabled : bool or None
        Draw the bar; ``None`` means "when stderr is a terminal".
    stream : file, optional
        Where to draw (default ``sys.stderr``).

    Examples
    --------
    >>> import io
    >>> s = io.StringIO()
    >>> with Progress(2, "work", enabled=True, stream=s) as p:
    ...     p.update(2)
    >>> "work" in s.getvalue() and "100%" in s.getvalue()
    True
    """

    def __init__(self, total: int, label: str = "", enabled: bool | None = None, stream=None):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = bool(enabled)
        self.done = 0
        self._start = time.perf_counter()
        self._last = 0.0
        self._tqdm = _tqdm_bar(self.total, label, self.stream) if self.enabled else None

    def update(self, n: int = 1) -> None:
        """Record ``n`` more units of work.

        Examples
        --------
        >>> p = Progress(10, enabled=False); p.update(4); p.done
        4
        """
        self.done += int(n)
        if self._tqdm is not None:
            self._tqdm.update(int(n))
        elif self.enabled:
            now = time.perf_counter()
            if now - self._last >= 0.1 or self.done >= self.total:
                self._last = now
                self._draw(now)

    def _draw(self, now):
        frac = 1.0 if self.total == 0 else min(1.0, self.done / self.total)
        width = 30
        filled = int(round(frac * width))
        elapsed = now - self._start
        eta = elapsed * (1 - frac) / frac if frac > 0 else float("nan")
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {100 * frac:3.0f}% "
                          f"{elapsed:6.1f}s elapsed, ~{eta:6.1f}s left")
        self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._tqdm is not None:
            self._tqdm.close()
        elif self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
        return False


def _tqdm_bar(total, label, stream):
    """A ``tqdm.auto`` bar (a widget in Jupyter, text elsewhere), or ``None`` when tqdm is not installed."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=label or None, file=stream, leave=True, dynamic_ncols=True)


def progress(total: int, label: str = "", enabled: bool | None = None, stream=None) -> Progress:
    """Create a :class:`Progress` (use it as a context manager).

    Examples
    --------
    >>> with progress(1, enabled=False) as p:
    ...     p.update()
    >>> p.done
    1
    """
    return Progress(total, label, enabled, stream)
