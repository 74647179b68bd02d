"""The Textual interface: screens and widgets that render what the stream controller posts."""

TEXTUAL_FPS = "240"
"""The frame rate Textual is started with, unless the person set one (`cli.main`; read
when Textual is first imported, so set before it is)."""
