"""A built-in Ollama-compatible server: for tests, ``ollama-tui --demo`` and benchmarks."""

from .server import DemoConfig, DemoServer, Fault, RequestRecord, run_standalone

__all__ = ["DemoConfig", "DemoServer", "Fault", "RequestRecord", "run_standalone"]
