"""`python -m ollama_tui.bench ...`: the same options as `ollama-tui bench`."""

from __future__ import annotations

import argparse
import sys

from ollama_tui.bench import add_arguments, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m ollama_tui.bench")
    add_arguments(parser)
    try:
        return run(parser.parse_args())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
