"""The Textual interface: screens and widgets that render what the stream controller posts."""
