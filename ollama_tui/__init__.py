"""ollama-tui: a terminal chat client for Ollama with four switchable HTTP transports."""

__version__ = "0.1.0"
