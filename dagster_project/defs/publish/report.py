"""The weekly stress report (data/report/index.html), written after the serving file is published."""

from urllib.parse import urlsplit

import dagster as dg

from dagster_project.lib.dbt import SERVING_FILE
from dagster_project.lib.warehouse import Warehouse
from dagster_project.report import page as report
from ingestion.pipelines import configured_host, reads_public_host
from ingestion.registry import NAMES


@dg.asset(
    key=["publish", "stress_report"],
    deps=[SERVING_FILE],
    group_name="publish",
    description="The weekly stress report: one offline HTML file with the board, auctions, curve, positioning and "
    "foreign holdings, and a PNG per chart (data/report/, $TREASURY_REPORT_DIR). Built from the published serving "
    "file, so only after every blocking check passed. `treasury report --open` opens the latest.",
)
def stress_report(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    serving = warehouse.serving_file
    # Where the figures came from, said once at the top: the emulator's sample (its loopback URLs mean nothing to a
    # reader), a mirror (any source reading another host than its public API: named), or the public APIs (named).
    others = sorted({urlsplit(configured_host(name)).netloc for name in NAMES if not reads_public_host(name)})
    hosts = others or sorted({urlsplit(configured_host(name)).netloc for name in NAMES})
    built = report.build(
        serving,
        report.report_dir(serving),
        warehouse.as_of_date,
        sample=warehouse.sample,
        hosts=tuple(hosts),
        mirror=bool(others) and not warehouse.sample,
        moment=warehouse.as_of_label,
    )
    table = "| figure | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in built.headline.items())
    context.log.info(f"report written to {built.path} ({built.bytes:,} bytes, {len(built.charts)} charts)")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(built.path)),
            "headline": dg.MetadataValue.md(table),
            "charts": len(built.charts),
            "bytes": built.bytes,
            "seconds": round(built.seconds, 1),
            "sample_data": bool(others),
        }
    )


@dg.definitions
def report_assets() -> dg.Definitions:
    return dg.Definitions(assets=[stress_report])
