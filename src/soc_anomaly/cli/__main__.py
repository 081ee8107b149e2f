"""``python -m soc_anomaly.cli``: the same command line as ``soc-anomaly``."""

import sys

from soc_anomaly.cli import main

sys.exit(main())
