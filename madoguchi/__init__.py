"""Madoguchi (窓口): the composition root: the command line, ``__main__`` and the demo command."""

from client_core import __version__

__all__ = ["__version__"]
