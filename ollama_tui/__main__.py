import sys

from ollama_tui.cli import main

sys.exit(main())
