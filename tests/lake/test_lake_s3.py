"""A lake whose data files are on object storage: moto's S3-compatible server on loopback (the only one installable
here, from PyPI), a SQLite catalog, the sample build: the same marts as the DuckDB file, every data file in the
bucket and none on the local disk."""

from __future__ import annotations

import os
import subprocess

import pytest

from ingestion.common.lake import Lake
from tests.conftest import AS_OF
from tests.lake.test_lake import PROJECT_ROOT, TREASURY, differences

pytestmark = pytest.mark.slow


@pytest.fixture
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_a_sample_build_with_its_data_on_s3_publishes_the_same_marts_as_the_file(
    sample_build, s3_server, tmp_path, monkeypatch
):
    import boto3

    credentials = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1"}
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket="desk-lake")
    env = {
        **os.environ,
        **credentials,
        "AWS_ENDPOINT_URL": s3_server,
        "TREASURY_WAREHOUSE": f"ducklake:{tmp_path}/catalog.sqlite",
        "TREASURY_LAKE_DATA_PATH": "s3://desk-lake/treasury",
        "TREASURY_SERVING": str(tmp_path / "serving.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    result = subprocess.run(
        [*TREASURY, "build", "--sample", "--as-of", AS_OF.isoformat()],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]
    assert differences(sample_build.serving, tmp_path / "serving.duckdb") == []
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="desk-lake")
        for o in page.get("Contents", [])
    ]
    assert any(k.startswith("treasury/raw_cftc_tff/tff_futures_only/") for k in keys)
    assert not list(tmp_path.rglob("*.parquet"))  # the catalog is local; the data are all in the bucket
    lake = Lake.parse(env["TREASURY_WAREHOUSE"], env["TREASURY_LAKE_DATA_PATH"])
    for name, value in {**credentials, "AWS_ENDPOINT_URL": s3_server}.items():
        monkeypatch.setenv(name, value)
    with lake.connect() as con:  # a reader with the same settings reads the bucket through the catalog
        assert con.execute("select count(*) from marts.mart_treasury_stress_weekly").fetchone()[0] > 1000
        # The mart's data files are objects of the bucket (under the name dbt built it as: DuckLake keeps a file's
        # path when dbt renames its temporary table).
        files = [
            f
            for (f,) in con.execute(
                "select data_file from ducklake_list_files('treasury', 'mart_treasury_stress_weekly', schema => 'marts')"
            ).fetchall()
        ]
    assert files and all(f.startswith("s3://desk-lake/treasury/marts/") for f in files)
    assert {f.removeprefix("s3://desk-lake/") for f in files} <= set(keys)
