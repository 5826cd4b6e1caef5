"""Madoguchi (窓口): command-line entry point and tooling shared by the programs."""

__version__ = "0.1.0"
