"""The runner: the `treasury` command line and the in-process build it runs through Dagster (the one code path with the UI)."""
