"""Packaging: PyInstaller specs, their shared rules, the build script and the launchers.

- :mod:`installer.build` (``python -m installer.build``, ``make dist``): builds
  ``dist/madoguchi-agent`` (one file, windowed, removes itself after use) and
  ``dist/madoguchi-console`` (one folder), baking the relay URL and a private CA in.
- ``agent.spec`` / ``console.spec``: the PyInstaller recipes; :mod:`installer.spec_support`
  holds what they share (module excludes, which Qt plugins stay, pruning, the
  Windows version resource).
- :mod:`installer.agent_launcher` / :mod:`installer.console_launcher`: the frozen
  entry points (sub-command ``agent`` / ``console`` of ``madoguchi``).
- :mod:`installer.settings`: the generated, baked-in build settings.
- :mod:`installer.icon`: draws the icon with Pillow at build time.
- :mod:`installer.native_trim`: the plan of smaller native libraries for the agent, made by
  :mod:`installer.ffmpeg_build` (an FFmpeg with only libx264), :mod:`installer.icu_data` /
  :mod:`installer.icu_library` (Qt's ICU data for ja/en) and :mod:`installer.stub_library`
  (numpy's unused BLAS as a stub that reports and aborts if ever called, from the library's
  interface as :mod:`installer.elf_interface` reads it).

docs/packaging.md describes the whole, with sizes and start-up times.
"""

__all__: list[str] = []
