"""`python -m ollama_tui.demo.stamped --shape S --tokens N --rate R --stamps FILE`: the
built-in server answering with a numbered reply and writing send stamps
(:mod:`.numbered`). Its own module: `numbered` is imported with the package, and
`python -m` of an imported module warns."""

import sys

from .numbered import main

if __name__ == "__main__":
    sys.exit(main())
