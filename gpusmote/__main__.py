"""``python -m gpusmote`` runs the command line."""

import sys

from gpusmote.cli import main

sys.exit(main())
