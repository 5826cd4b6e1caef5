"""The agent's native-library plan (installer/native_trim.py), the FFmpeg build's pure parts and
the ELF dependency reader pruning relies on."""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
from pathlib import Path

import av
import pytest

from installer import ffmpeg_build
from installer.native_trim import Plan, apply, load_plan
from installer.spec_support import elf_needed

_AV_LIBS = Path(av.__file__).resolve().parent.parent / "av.libs"
# Linux wheels (auditwheel) name their libraries libavcodec-<hash>.so.62...; others differ.
_WHEEL = sorted(p.name for p in _AV_LIBS.iterdir()) if sys.platform == "linux" else []
linux_wheel = pytest.mark.skipif(sys.platform != "linux", reason="the swap is built for Linux wheels")


def test_library_keys_ignore_auditwheels_hash() -> None:
    assert ffmpeg_build.library_key("libavcodec-5e6b81c2.so.62.28.102") == "libavcodec.so.62"
    assert ffmpeg_build.library_key("libavcodec.so.62.28.102") == "libavcodec.so.62"
    assert ffmpeg_build.library_key("libx264-d6533a8d.so.165") == "libx264.so.165"
    assert ffmpeg_build.library_key("libSvtAv1Enc-9393c086.so.4.1.0") is None  # upper case: not ours
    assert ffmpeg_build.library_key("README") is None


@linux_wheel
def test_the_installed_wheel_is_the_one_the_build_is_pinned_to() -> None:
    # A new PyAV needs a new pinned FFmpeg source (and this test says so).
    assert (
        ffmpeg_build.check_applicable(
            system="Linux", machine="x86_64", ffmpeg_version=str(av.ffmpeg_version_info), wheel_names=_WHEEL
        )
        is None
    )


@linux_wheel
@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"system": "Windows", "machine": "AMD64"}, "only built on Linux"),
        ({"machine": "aarch64"}, "only built on Linux x86-64"),
        ({"ffmpeg_version": "8.0.1"}, "carries FFmpeg 8.0.1"),
        ({"wheel_names": [n for n in _WHEEL if "x264" not in n]}, "libx264 build 165"),
        ({"wheel_names": [n for n in _WHEEL if "swscale" not in n]}, "lacks libswscale"),
    ],
)
def test_the_swap_is_refused_where_it_would_not_be_sound(changes: dict[str, object], reason: str) -> None:
    arguments: dict[str, object] = {
        "system": "Linux",
        "machine": "x86_64",
        "ffmpeg_version": ffmpeg_build.FFMPEG_VERSION,
        "wheel_names": _WHEEL,
    }
    arguments.update(changes)
    found = ffmpeg_build.check_applicable(**arguments)  # type: ignore[arg-type]
    assert found is not None
    assert reason in found


def test_configure_builds_only_what_the_agent_runs() -> None:
    options = ffmpeg_build.CONFIGURE_OPTIONS
    assert "--disable-everything" in options
    assert "--disable-autodetect" in options
    assert [o for o in options if o.startswith("--enable-") and "=" in o] == ["--enable-encoder=libx264"]
    assert "--disable-programs" in options
    assert "--enable-shared" in options


def _ar(members: dict[str, bytes]) -> bytes:
    out = b"!<arch>\n"
    for name, body in members.items():
        header = f"{name + '/':<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(body):<10}`\n".encode()
        assert len(header) == 60
        out += header + body + (b"\n" if len(body) % 2 else b"")
    return out


def _tar_xz(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_debian_package_gives_up_its_files() -> None:
    deb = _ar(
        {
            "debian-binary": b"2.0\n",
            "control.tar.xz": _tar_xz({"./control": b"Package: x\n"}),
            "data.tar.xz": _tar_xz({"./usr/include/x264.h": b"#define X264_BUILD 165\n", "./usr/a": b"odd"}),
        }
    )
    files = ffmpeg_build.deb_data_members(deb)
    assert files == {"usr/include/x264.h": b"#define X264_BUILD 165\n", "usr/a": b"odd"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04", "no ar header"),
        (_ar({"debian-binary": b"2.0\n"}), "without data.tar"),
        (_ar({"data.tar.xz": b"x" * 10})[:-4], "truncated"),
    ],
)
def test_a_broken_package_says_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(ffmpeg_build.FFmpegBuildError, match=message):
        ffmpeg_build.deb_data_members(data)


def test_a_download_name_is_the_file_name() -> None:
    assert ffmpeg_build.X264_HEADERS.name.startswith("libx264-dev_0.165.")
    assert "+" in ffmpeg_build.X264_HEADERS.name
    assert "%" not in ffmpeg_build.X264_HEADERS.name


# --- the plan ----------------------------------------------------------------------------------

_TOC = [
    ("av.libs/libavcodec-5e6b81c2.so.62.28.102", "/site/av.libs/libavcodec-5e6b81c2.so.62.28.102", "BINARY"),
    ("libavcodec-5e6b81c2.so.62.28.102", "av.libs/libavcodec-5e6b81c2.so.62.28.102", "SYMLINK"),
    ("av/_core.abi3.so", "/site/av/_core.abi3.so", "EXTENSION"),
]


def test_the_plan_replaces_only_the_files_it_names(tmp_path: Path) -> None:
    plan = Plan(replacements={"libavcodec-5e6b81c2.so.62.28.102": "/gen/libavcodec"}, kept={"icu": "why"})
    (tmp_path / "native.json").write_text(plan.to_json())
    loaded = load_plan(tmp_path)
    assert loaded == plan
    assert apply(_TOC, loaded) == [
        ("av.libs/libavcodec-5e6b81c2.so.62.28.102", "/gen/libavcodec", "BINARY"),
        _TOC[1],  # the symlink still points at the (replaced) file
        _TOC[2],
    ]
    assert load_plan(tmp_path / "nowhere") == Plan()


def test_a_plan_for_other_dependencies_is_refused() -> None:
    with pytest.raises(ValueError, match="libavcodec-00000000"):
        apply(_TOC, Plan(replacements={"libavcodec-00000000.so.62": "/gen/x"}))
    with pytest.raises(ValueError, match="objects"):
        Plan.from_json('{"replacements": []}')


# --- direct dependencies -------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform != "linux", reason="ELF")
def test_elf_needed_matches_readelf_on_real_libraries() -> None:
    site = Path(av.__file__).resolve().parent.parent
    for path in [next((site / "av").glob("_core*.so")), *sorted((site / "av.libs").glob("libavcodec-*"))]:
        dynamic = subprocess.run(
            ["readelf", "-d", str(path)], capture_output=True, text=True, check=True
        ).stdout
        expected = [line.split("[", 1)[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line]
        assert elf_needed(str(path)) == expected
        assert expected  # both link against FFmpeg
    assert elf_needed(__file__) == []
