"""`treasury-dbt`: dbt, run as a child that dies with its parent.

dagster-dbt starts dbt as a subprocess. If the build is killed (kill -9, the machine's OOM killer), an ordinary
child would go on alone, holding DuckDB's write lock and writing marts nobody asked for. This wrapper asks Linux
to send the child SIGKILL when its parent dies (`PR_SET_PDEATHSIG`, kept across exec), then becomes dbt.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

PR_SET_PDEATHSIG = 1


def main() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request took effect
            sys.exit(1)
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(str(dbt), [str(dbt), *sys.argv[1:]])


if __name__ == "__main__":
    main()
