"""The fault matrix, through `treasury build`: a source that fails says why in the summary (source, record, problem),
the serving file keeps its last good copy, the next ordinary build recovers and publishes, and schema drift is in
the summary."""

from __future__ import annotations

import hashlib
import io
from contextlib import redirect_stdout

from ingestion.emulator.server import Emulator, base_urls, serve
from tests.conftest import AS_OF
from tests.ingestion.test_fault_matrix import Tamper, _future_report


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(monkeypatch, urls) -> tuple[int, str]:
    from ingestion.cli import main

    for source, url in urls.items():
        monkeypatch.setenv(f"SOURCES__{source.upper()}__BASE_URL", url)
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["build", "--as-of", AS_OF.isoformat()])
    return code, out.getvalue()


def test_a_poisoned_cftc_page_fails_the_build_with_the_reason_and_keeps_the_serving_file(
    sample_build, tmp_path, monkeypatch
):
    warehouse, serving = sample_build.copy_to(tmp_path / "faults")
    monkeypatch.setenv("TREASURY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TREASURY_SERVING", str(serving))
    published = digest(serving)
    tamper = Tamper(Emulator(as_of=AS_OF))
    with serve(tamper) as root:
        tamper.once("/resource/", _future_report)
        code, summary = build(monkeypatch, base_urls(root))
        assert code == 1, summary
        [line] = [row for row in summary.splitlines() if "FAILED step" in row]
        assert "ingest_cftc_tff" in line and "[cftc_tff.tff_futures_only] page 1" in line, line
        assert "1 record(s) with report_date_as_yyyy_mm_dd after 2025-06-24" in line and "2099-06-16" in line, line
        assert "kept as it was" in summary
        assert digest(serving) == published
        # The next ordinary build recovers without --full-refresh and publishes. FiscalData now also sends a new
        # field: it loads as text, and the summary says so.
        tamper.emulator.drift_fields = {"wi_yield_at_deadline": "4.250000"}
        code, summary = build(monkeypatch, base_urls(root))
    assert code == 0, summary
    assert "FAILED" not in summary and digest(serving) != published
    assert "treasury_auctions/auctions_query: new upstream fields loaded as text: wi_yield_at_deadline" in summary
