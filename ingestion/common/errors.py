"""Errors that name the source, the request and the record, so a failed load says what to fix."""

from __future__ import annotations


def find_cause(exc: BaseException, *types: type[BaseException]) -> BaseException | None:
    """The first exception of `types` in `exc`'s chain (dlt wraps extract errors twice), or None."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, types):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class SourceDataError(ValueError):
    """A payload the pipeline cannot load as it stands (malformed page, missing field, bad value)."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        self.source, self.where, self.problem = source, where, problem
        super().__init__(f"[{source}] {where}: {problem}")


class SourceHTTPError(RuntimeError):
    """The source's server kept failing after the bounded retries."""

    def __init__(self, source: str, url: str, problem: str, status: int | None = None) -> None:
        self.source, self.url, self.problem, self.status = source, url, problem, status
        super().__init__(f"[{source}] GET {url}: {problem}")

    @property
    def transient(self) -> bool:
        """Worth another try later: no response at all, rate limiting, or a server error."""
        return self.status is None or self.status == 429 or self.status >= 500
