"""`python -m device_bridge …` (see device_bridge/cli.py)."""

import sys

from device_bridge.cli import main

sys.exit(main())
