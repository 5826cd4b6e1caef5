"""The test bed: real sessions driven by programs, for the tests, the demo and the benchmarks.

A scripted customer and operator, a world that runs a real relay and both on a loop
thread of their own, private Xvfb displays, the scene with its frame-counter stamp,
latency and picture-quality measurement, and a TCP link that tests can break. The
programs (``agent``, ``operator_console``, ``relay``) never import it.
"""
