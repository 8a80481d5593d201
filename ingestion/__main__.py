"""`python -m ingestion ...`: the same commands as the `treasury` script, without installing it."""

import sys

from ingestion.cli import main

sys.exit(main())
