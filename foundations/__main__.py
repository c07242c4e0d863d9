import sys

from foundations.cli import main

sys.exit(main())
