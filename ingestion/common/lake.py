"""The lakehouse backend: the warehouse as a DuckLake (a catalog database plus Parquet data files), chosen by
`TREASURY_WAREHOUSE=ducklake:<catalog>` with the data folder in `TREASURY_LAKE_DATA_PATH`.

The catalog is a local file (`.sqlite`: SQLite; `.ducklake` or `.duckdb`: DuckDB) for one machine, or
`postgres:<libpq conninfo>` for a desk. The data path is a local folder or `s3://bucket/prefix` (credentials and
endpoint from the usual AWS_* variables). Every process attaches the lake under one catalog name (CATALOG_NAME):
dbt writes its views with that name in them, so a reader that attached it under another name could not read them.

Nothing is downloaded: the DuckDB extensions DuckLake needs come from the `duckdb-extension-*` packages in the lock
and are installed from there into an extension folder of the project's environment (EXTENSION_DIR, not the user's
~/.duckdb), and every connection the project opens to a lake (its own, dlt's, dbt's) uses that folder and refuses
to fetch an extension.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import quote

import duckdb

from ingestion.common.sql import literal as _literal

PREFIX = "ducklake:"
# The name the lake is attached under, in every process (dbt's database, the publish step, readers, dlt).
CATALOG_NAME = "treasury"
# (extension name in DuckDB, the package that ships it)
PACKAGED_EXTENSIONS = (
    ("ducklake", "duckdb_extension_ducklake"),
    ("sqlite_scanner", "duckdb_extension_sqlite_scanner"),
    ("postgres_scanner", "duckdb_extension_postgres_scanner"),
    ("httpfs", "duckdb_extension_httpfs"),
)
# The extensions' folder: in the environment whose packages ship them (so it matches its DuckDB), whatever HOME is.
EXTENSION_DIR = Path(sys.prefix) / "share" / "treasury-duckdb-extensions"
# The settings of every connection to a lake: extensions from EXTENSION_DIR only.
OFFLINE_SETTINGS = {"extension_directory": str(EXTENSION_DIR), "autoinstall_known_extensions": False}
_LOCAL_CATALOG_SUFFIXES = {
    ".sqlite": "sqlite",
    ".sqlite3": "sqlite",
    ".db": "sqlite",
    ".ducklake": "duckdb",
    ".duckdb": "duckdb",
}


class LakeConfigError(ValueError):
    """TREASURY_WAREHOUSE or TREASURY_LAKE_DATA_PATH does not describe a usable lake."""


@cache
def install_packaged_extensions() -> None:
    """Install the extensions DuckLake needs from the packages in the lock into EXTENSION_DIR (once per environment;
    a no-op when they are there), where every connection to a lake (dlt's and dbt's included) autoloads them from,
    without going to the internet."""
    EXTENSION_DIR.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config=OFFLINE_SETTINGS)
    try:
        installed = {
            name for (name,) in con.execute("select extension_name from duckdb_extensions() where installed").fetchall()
        }
        for name, package in PACKAGED_EXTENSIONS:
            if name in installed:
                continue
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise LakeConfigError(f"the DuckDB extension {name} is not installed: the package {package} is missing")
            folder = Path(next(iter(spec.submodule_search_locations)))
            binary = next(folder.rglob(f"{name}.duckdb_extension"), None)
            if binary is None:
                raise LakeConfigError(f"the package {package} has no {name}.duckdb_extension for this DuckDB")
            con.execute(f"install {_literal(str(binary))}")
    finally:
        con.close()


def offline_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that loads extensions only from what is installed (never from the internet)."""
    install_packaged_extensions()
    return duckdb.connect(config=OFFLINE_SETTINGS)


def _conninfo_to_url(conninfo: str) -> str:
    """A libpq keyword/value conninfo (`dbname=treasury host=127.0.0.1 user=treasury`) as a postgres:// URL (what dlt
    reads); a URL is returned as it is. The password, if any, stays out of both when PGPASSWORD gives it."""
    if conninfo.startswith(("postgres://", "postgresql://")):
        return conninfo
    pairs = dict(re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", conninfo))
    pairs = {k: v.strip("'") for k, v in pairs.items()}
    user = quote(pairs.pop("user", ""), safe="")
    password = pairs.pop("password", "")
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    host = pairs.pop("host", "localhost")
    port = pairs.pop("port", "")
    dbname = pairs.pop("dbname", "")
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in pairs.items())
    return f"postgres://{auth}{host}{':' + port if port else ''}/{dbname}" + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Lake:
    """A DuckLake: `catalog` as TREASURY_WAREHOUSE gives it after `ducklake:` (a local file's path made absolute, or
    `postgres:<conninfo>`), and `data_path` (a folder, absolute, or an s3:// URL)."""

    catalog: str
    data_path: str

    @classmethod
    def parse(cls, value: str, data_path: str | None) -> Lake:
        """TREASURY_WAREHOUSE's `ducklake:<catalog>` and TREASURY_LAKE_DATA_PATH, or an error naming what is wrong.
        A local catalog's data folder defaults to `<catalog>.files/` beside it; a PostgreSQL catalog needs one."""
        catalog = value[len(PREFIX) :].strip() if value.startswith(PREFIX) else value.strip()
        if not catalog:
            raise LakeConfigError(f"TREASURY_WAREHOUSE={value!r} names no catalog (ducklake:<file or postgres:...>)")
        if catalog.startswith(("postgres:", "postgresql:")):
            catalog = "postgres:" + catalog.split(":", 1)[1].strip()
            if not data_path:
                raise LakeConfigError(
                    "a lake with a PostgreSQL catalog needs TREASURY_LAKE_DATA_PATH (a folder every machine sees, or "
                    "s3://bucket/prefix)"
                )
        else:
            if catalog.startswith(("sqlite:", "duckdb:")):
                catalog = catalog.split(":", 1)[1]
            path = Path(catalog).expanduser().absolute()
            if path.suffix.lower() not in _LOCAL_CATALOG_SUFFIXES:
                raise LakeConfigError(
                    f"TREASURY_WAREHOUSE={value!r}: a local lake catalog is a .sqlite or .ducklake file "
                    f"(got {path.name!r}), or use postgres:<conninfo>"
                )
            catalog = str(path)
            data_path = data_path or str(path.with_name(path.name + ".files"))
        if not data_path.startswith("s3://"):
            data_path = str(Path(data_path).expanduser().absolute())
        for what, text in (("the catalog", catalog), ("TREASURY_LAKE_DATA_PATH", data_path)):
            if "'" in text:  # dlt's ducklake destination writes them into its ATTACH unquoted
                raise LakeConfigError(f"{what} may not contain a single quote (') in a lake: {text}")
        return cls(catalog, data_path.rstrip("/") + "/")

    # --- what kind of lake ---------------------------------------------------------------------------------------

    @property
    def kind(self) -> str:
        """postgres, sqlite or duckdb: the catalog database."""
        if self.catalog.startswith("postgres:"):
            return "postgres"
        return _LOCAL_CATALOG_SUFFIXES[Path(self.catalog).suffix.lower()]

    @property
    def conninfo(self) -> str:
        return self.catalog.split(":", 1)[1] if self.kind == "postgres" else ""

    @property
    def catalog_file(self) -> Path | None:
        return None if self.kind == "postgres" else Path(self.catalog)

    @property
    def on_s3(self) -> bool:
        return self.data_path.startswith("s3://")

    @property
    def setting(self) -> str:
        """TREASURY_WAREHOUSE's value for this lake, a local catalog's path absolute (what a run's config records)."""
        return PREFIX + self.catalog

    def __str__(self) -> str:
        shown = re.sub(r"password\s*=\s*\S+", "password=***", self.catalog)
        return f"{PREFIX}{shown} (data {self.data_path})"

    def exists(self) -> bool:
        """Whether the catalog has been made (a local file exists; a PostgreSQL catalog is asked)."""
        if self.catalog_file is not None:
            return self.catalog_file.exists()
        try:
            with self.connect() as con:
                return bool(
                    con.execute(
                        "select count(*) from duckdb_schemas() where database_name = ?", [CATALOG_NAME]
                    ).fetchone()[0]
                )
        except duckdb.Error:
            return False

    # --- opening it ----------------------------------------------------------------------------------------------

    def attach_sql(self, *, read_only: bool = False, snapshot: int | None = None) -> str:
        """The ATTACH statement every process uses (the same options as dlt's ducklake destination, so both open
        the same lake: a SQLite catalog in WAL mode with a busy timeout, a PostgreSQL catalog's metadata in the
        schema named CATALOG_NAME)."""
        options = [f"DATA_PATH {_literal(self.data_path)}"]
        if self.kind == "postgres":
            target = f"ducklake:postgres:{self.conninfo}"
            options.append(f"METADATA_SCHEMA {_literal(CATALOG_NAME)}")
        elif self.kind == "sqlite":
            target = f"ducklake:{self.catalog}"
            options += ["META_TYPE 'sqlite'", "META_JOURNAL_MODE 'WAL'", "META_BUSY_TIMEOUT 1000"]
        else:
            target = f"ducklake:{self.catalog}"
        if read_only:
            options.append("READ_ONLY")
        if snapshot is not None:
            options.append(f"SNAPSHOT_VERSION {int(snapshot)}")
        return f"attach {_literal(target)} as {CATALOG_NAME} ({', '.join(options)})"

    def secret_sql(self) -> list[str]:
        """An S3 secret from the AWS_* variables when the data is on object storage (none otherwise)."""
        if not self.on_s3:
            return []
        env = os.environ
        parts = ["type s3"]
        for option, variable in (
            ("key_id", "AWS_ACCESS_KEY_ID"),
            ("secret", "AWS_SECRET_ACCESS_KEY"),
            ("session_token", "AWS_SESSION_TOKEN"),
            ("region", "AWS_REGION"),
        ):
            if env.get(variable):
                parts.append(f"{option} {_literal(env[variable])}")
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        if endpoint:
            scheme, _, host = endpoint.partition("://")
            parts += [
                f"endpoint {_literal(host.rstrip('/'))}",
                f"use_ssl {'true' if scheme == 'https' else 'false'}",
                "url_style 'path'",
            ]
        return [f"create or replace secret treasury_lake_s3 ({', '.join(parts)})"]

    def attach(self, con: duckdb.DuckDBPyConnection, *, read_only: bool = False, snapshot: int | None = None) -> None:
        for statement in self.secret_sql():
            con.execute(statement)
        con.execute(self.attach_sql(read_only=read_only, snapshot=snapshot))
        con.execute(f"use {CATALOG_NAME}")

    def connect(self, *, read_only: bool = True, snapshot: int | None = None) -> duckdb.DuckDBPyConnection:
        """A connection with the lake attached and in use, so `marts.fct_auctions` names the same table as in the
        file backend. Read-only connections see the last committed snapshot (or `snapshot`) and never wait."""
        con = offline_connection()
        try:
            self.attach(con, read_only=read_only, snapshot=snapshot)
        except BaseException:
            con.close()
            raise
        return con

    # --- what the tools get ---------------------------------------------------------------------------------------

    def dlt_destination(self):
        """dlt's ducklake destination on this lake, attached under CATALOG_NAME."""
        import dlt
        from dlt.destinations.impl.ducklake.configuration import DuckLakeCredentials

        install_packaged_extensions()
        if self.kind == "postgres":
            catalog = _conninfo_to_url(self.conninfo)
        else:
            catalog = f"{self.kind}:///{self.catalog}"
        credentials = DuckLakeCredentials(CATALOG_NAME, catalog=catalog, storage=self._dlt_storage())
        credentials.global_config = dict(OFFLINE_SETTINGS)  # set on each connection before it attaches the lake
        return dlt.destinations.ducklake(credentials=credentials)

    def _dlt_storage(self):
        """The data path for dlt: a local folder as it is; s3:// with the AWS_* variables as explicit credentials (dlt
        would otherwise hand them to DuckDB's credential chain, which needs the `aws` extension: not in the lock)."""
        if not self.on_s3:
            return self.data_path
        from dlt.common.configuration.specs import AwsCredentials
        from dlt.common.storages.configuration import FilesystemConfiguration

        env = os.environ
        credentials = AwsCredentials()
        credentials.aws_access_key_id = env.get("AWS_ACCESS_KEY_ID")
        credentials.aws_secret_access_key = env.get("AWS_SECRET_ACCESS_KEY")
        credentials.aws_session_token = env.get("AWS_SESSION_TOKEN")
        credentials.region_name = env.get("AWS_REGION")
        credentials.endpoint_url = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        credentials.s3_url_style = "path" if credentials.endpoint_url else None
        return FilesystemConfiguration(bucket_url=self.data_path, credentials=credentials)

    def dbt_attach(self) -> str:
        """The ATTACH target dbt-duckdb gets (profiles.yml's lake output), options apart."""
        if self.kind == "postgres":
            return f"ducklake:postgres:{self.conninfo}"
        return f"ducklake:sqlite:{self.catalog}" if self.kind == "sqlite" else f"ducklake:{self.catalog}"
