"""`python -m ollama_tui.cli`, as when the command line was a single module."""

import sys

from ollama_tui.cli import main

sys.exit(main())
