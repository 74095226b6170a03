"""``python -m symft`` runs the command line (same as the ``symft`` script)."""

import sys

from .cli import main

sys.exit(main())
