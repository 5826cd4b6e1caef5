"""Streaming and relay benchmarks (JSON output, baseline side by side)."""
