"""``python -m ecgtut`` runs the command-line interface."""

import sys

from ecgtut.cli import main

sys.exit(main())
