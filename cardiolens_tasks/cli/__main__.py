"""``python -m cardiolens.cli``."""

import sys

from cardiolens.cli import main

sys.exit(main())
