"""Streams below the UI: the runner (network loop and threads), the reply, the
conversation, the recorder and the compare ranking. No Textual here."""
