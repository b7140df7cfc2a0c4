"""``python -m portablekit``: the same as the ``portablekit`` command."""

import sys

from .cli.main import main

sys.exit(main())
