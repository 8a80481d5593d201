"""`python -m ingestion ingest`: the dlt loads on their own (see ingestion/cli.py)."""

import sys

from ingestion.cli import main

sys.exit(main())
