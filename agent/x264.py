"""A direct binding to libx264 (the copy PyAV ships), for a quantizer chosen per frame.

Why not PyAV's ``libx264`` codec context: FFmpeg's wrapper offers constant quality
(CRF) or average bitrate, and both make x264 analyse a half-resolution copy of every
frame to predict its cost (``lowres`` + a motion search on it): at 1080p that is
about 4 ms of CPU per frame, as much as the encoding itself with ``ultrafast``. A
constant quantizer (CQP) skips that analysis, but FFmpeg cannot change the quantizer
of an open encoder (``x264_encoder_reconfig`` ignores it), so a bitrate cap would
need a new encoder - a keyframe - at every move. x264's own API can: every picture
carries ``i_qpplus1``. :mod:`agent.rate_control` chooses that quantizer.

Only x264's stable public ABI is used: the functions of ``x264.h``, the leading
fields of ``x264_param_t`` (threads, picture size, colour space, level) and of
``x264_picture_t``/``x264_image_t``, on the builds listed in ``SUPPORTED_BUILDS``
(the build number is part of ``x264_encoder_open_<build>``'s name, so a library of
another build is refused, never misread). Every other setting goes through
``x264_param_parse`` by name. The layout is checked once against the library after
``x264_param_parse`` writes known values.

The library is the one PyAV already loaded, found by :mod:`agent.pyav_libs`; :func:`load` raises
:class:`X264Unavailable` if there is none, and the caller falls back to PyAV's codec.
Calls release the GIL (ctypes), so x264's slice threads and Python run side by side.
"""

from __future__ import annotations

import ctypes
import dataclasses
import functools
import logging
import threading

from agent import pyav_libs

__all__ = [
    "SUPPORTED_BUILDS",
    "Encoded",
    "X264Encoder",
    "X264Library",
    "X264Unavailable",
    "load",
]

logger = logging.getLogger(__name__)

SUPPORTED_BUILDS = frozenset(range(157, 166))
"""x264 API builds whose leading struct fields match the offsets below (x264.h 157-165)."""

X264_CSP_I420 = 0x0002
X264_TYPE_AUTO = 0x0000
X264_TYPE_IDR = 0x0001

# x264_param_t: uint32 cpu; int i_threads, i_lookahead_threads, b_sliced_threads,
# b_deterministic, b_cpu_independent, i_sync_lookahead, i_width, i_height, i_csp,
# i_bitdepth, i_level_idc
_PARAM_THREADS = 4
_PARAM_WIDTH = 28
_PARAM_HEIGHT = 32
_PARAM_CSP = 36
_PARAM_BITDEPTH = 40
_PARAM_LEVEL = 44
_PARAM_BYTES = 4096  # sizeof(x264_param_t) is about 1 KB; the rest is slack.
# x264_picture_t: int i_type, i_qpplus1, i_pic_struct, b_keyframe; int64 i_pts, i_dts;
# x264_param_t *param; x264_image_t img {int i_csp, i_plane, i_stride[4]; uint8 *plane[4]}
_PIC_TYPE = 0
_PIC_QPPLUS1 = 4
_PIC_KEYFRAME = 12
_PIC_PTS = 16
_PIC_IMG_CSP = 40
_PIC_IMG_PLANES = 44
_PIC_IMG_STRIDE = 48
_PIC_IMG_PLANE = 64
# ... then x264_image_properties_t prop {float *quant_offsets; ...} right after img (x264.h 157-165).
_PIC_PROP_QUANT_OFFSETS = 96
_PICTURE_BYTES = 1024  # sizeof(x264_picture_t) is about 400 bytes.


_WIDE_QP_RANGE = {"qp": "30", "ipratio": "10", "pbratio": "10"}
"""Constant-quantizer mode with the widest range a forced quantizer may take. In CQP mode
x264 clips every quantizer - forced ones too - to [qp - 6 log2(ipratio), qp + 6 log2(pbratio)];
both ratios are capped at 10, so qp 30 allows 10..51."""

_PER_MACROBLOCK = {"crf": "23", "aq-mode": "1", "aq-strength": "0.01"}
"""For per-macroblock quantizer offsets (``x264_image_properties_t.quant_offsets``): x264
applies them only with adaptive quantization on, which it switches off in constant-quantizer
mode, so the rate control is CRF instead - its quality never matters, every picture's
quantizer is forced - with the weakest variance AQ (0 would switch AQ off). The price: CRF
analyses a half-resolution copy of each frame (~4 ms of CPU at 1080p)."""


class X264Unavailable(RuntimeError):
    """No usable libx264: not found, an unsupported build, or an unexpected layout."""


class _Nal(ctypes.Structure):
    _fields_ = (
        ("i_ref_idc", ctypes.c_int),
        ("i_type", ctypes.c_int),
        ("b_long_startcode", ctypes.c_int),
        ("i_first_mb", ctypes.c_int),
        ("i_last_mb", ctypes.c_int),
        ("i_payload", ctypes.c_int),
        ("p_payload", ctypes.c_void_p),
        ("i_padding", ctypes.c_int),
    )


@dataclasses.dataclass(frozen=True)
class X264Library:
    """A loaded libx264 with its API build and typed entry points."""

    path: str
    build: int
    cdll: ctypes.CDLL

    def open_encoder(self, param: ctypes.Array[ctypes.c_char]) -> int | None:
        """``x264_encoder_open_<build>(param)``: the encoder handle, or None."""
        handle: int | None = getattr(self.cdll, f"x264_encoder_open_{self.build}")(param)
        return handle


def _bind(path: str) -> X264Library:
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        raise X264Unavailable("the x264 binding knows the 64-bit struct layout only")
    try:
        cdll = ctypes.CDLL(path)
    except OSError as exc:
        raise X264Unavailable(f"cannot load {path}: {exc}") from exc
    build = next((b for b in range(200, 100, -1) if hasattr(cdll, f"x264_encoder_open_{b}")), None)
    if build is None:
        raise X264Unavailable(f"{path} has no x264_encoder_open_<build>")
    if build not in SUPPORTED_BUILDS:
        verified = f"{min(SUPPORTED_BUILDS)}-{max(SUPPORTED_BUILDS)}"
        raise X264Unavailable(f"{path} is x264 build {build}; verified builds: {verified}")
    vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    signatures: dict[str, tuple[list[type], type | None]] = {
        "x264_param_default_preset": ([vp, cp, cp], ci),
        "x264_param_parse": ([vp, cp, cp], ci),
        "x264_param_apply_profile": ([vp, cp], ci),
        "x264_picture_init": ([vp], None),
        "x264_encoder_encode": ([vp, ctypes.POINTER(ctypes.POINTER(_Nal)), ctypes.POINTER(ci), vp, vp], ci),
        "x264_encoder_close": ([vp], None),
        "x264_encoder_parameters": ([vp, vp], None),
    }
    for name, (argtypes, restype) in signatures.items():
        function = getattr(cdll, name)
        function.argtypes = argtypes
        function.restype = restype
    opener = getattr(cdll, f"x264_encoder_open_{build}")
    opener.argtypes = [vp]
    opener.restype = vp
    library = X264Library(path=path, build=build, cdll=cdll)
    _check_layout(library)
    return library


def _int_at(buffer: ctypes.Array[ctypes.c_char], offset: int) -> int:
    return ctypes.c_int.from_buffer(buffer, offset).value


def _check_layout(library: X264Library) -> None:
    """Refuse a library whose param struct does not put known values where we expect them."""
    param = ctypes.create_string_buffer(_PARAM_BYTES)
    lib = library.cdll
    if lib.x264_param_default_preset(param, b"ultrafast", b"zerolatency") < 0:
        raise X264Unavailable("x264 refused the ultrafast/zerolatency preset")
    for key, value in ((b"threads", b"3"), (b"level", b"4.1")):
        if lib.x264_param_parse(param, key, value) != 0:
            raise X264Unavailable(f"x264 refused {key.decode()}={value.decode()}")
    seen = (_int_at(param, _PARAM_THREADS), _int_at(param, _PARAM_LEVEL), _int_at(param, _PARAM_BITDEPTH))
    if seen != (3, 41, 8):
        raise X264Unavailable(f"unexpected x264_param_t layout in {library.path}: {seen}")


@functools.cache
def _load_cached() -> X264Library:
    errors: list[str] = []
    for path in pyav_libs.candidates("x264"):
        try:
            library = _bind(path)
        except X264Unavailable as exc:
            errors.append(str(exc))
            continue
        logger.info("libx264 build %d from %s", library.build, path)
        return library
    raise X264Unavailable("; ".join(errors) or "libx264 not found next to PyAV")


def load() -> X264Library:
    """The process's libx264 (loaded once), or :class:`X264Unavailable`."""
    return _load_cached()


@dataclasses.dataclass(frozen=True)
class Encoded:
    """One encoded picture: Annex-B bytes (SPS/PPS repeated before each IDR)."""

    data: bytes
    keyframe: bool


class X264Encoder:
    """One libx264 encoder for ``width`` x ``height`` yuv420p pictures.

    ``options`` are x264 ``--option`` names and values (``x264_param_parse``), applied
    after the preset and tune; the rate control is a constant quantizer which every
    :meth:`encode` overrides with its ``qp`` (10..51 take effect, see ``_WIDE_QP_RANGE``).
    With ``per_macroblock`` each :meth:`encode` may also shift the quantizer of single
    macroblocks (``quant_offsets``; see ``_PER_MACROBLOCK`` for the cost). Not thread-safe:
    one caller at a time (a lock makes misuse an ordering problem, not a crash).
    """

    def __init__(
        self,
        width: int,
        height: int,
        *,
        preset: str = "ultrafast",
        tune: str = "zerolatency",
        profile: str = "baseline",
        options: dict[str, str] | None = None,
        library: X264Library | None = None,
        per_macroblock: bool = False,
    ) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError("width and height must be positive and even")
        self.library = library or load()
        self.width = width
        self.height = height
        lib = self.library.cdll
        param = ctypes.create_string_buffer(_PARAM_BYTES)
        if lib.x264_param_default_preset(param, preset.encode(), tune.encode()) < 0:
            raise ValueError(f"x264 refused preset {preset!r} / tune {tune!r}")
        settings = {"log": "-1", **_WIDE_QP_RANGE, "annexb": "1", **(options or {})}
        if per_macroblock:
            settings.update(_PER_MACROBLOCK)
        self.per_macroblock = per_macroblock
        self.mb_columns = (width + 15) // 16
        self.mb_rows = (height + 15) // 16
        for key, value in settings.items():
            if lib.x264_param_parse(param, key.encode(), value.encode()) != 0:
                raise ValueError(f"x264 refused {key}={value}")
        ctypes.c_int.from_buffer(param, _PARAM_WIDTH).value = width
        ctypes.c_int.from_buffer(param, _PARAM_HEIGHT).value = height
        ctypes.c_int.from_buffer(param, _PARAM_CSP).value = X264_CSP_I420
        if lib.x264_param_apply_profile(param, profile.encode()) < 0:
            raise ValueError(f"x264 refused profile {profile!r}")
        handle = self.library.open_encoder(param)
        if not handle:
            raise X264Unavailable(f"x264_encoder_open failed for {width}x{height} {settings}")
        self._handle: int | None = handle
        actual = ctypes.create_string_buffer(_PARAM_BYTES)
        lib.x264_encoder_parameters(handle, actual)
        self.level = _int_at(actual, _PARAM_LEVEL)
        self.threads = _int_at(actual, _PARAM_THREADS)
        if (_int_at(actual, _PARAM_WIDTH), _int_at(actual, _PARAM_HEIGHT)) != (width, height):
            self.close()
            raise X264Unavailable("x264 reports another picture size than it was given")
        self._picture = ctypes.create_string_buffer(_PICTURE_BYTES)
        self._output = ctypes.create_string_buffer(_PICTURE_BYTES)
        self._nals = ctypes.POINTER(_Nal)()
        self._count = ctypes.c_int()
        self._lock = threading.Lock()

    def encode(
        self,
        planes: tuple[int, int, int],
        strides: tuple[int, int, int],
        *,
        pts: int,
        qp: int,
        keyframe: bool = False,
        quant_offsets: ctypes.Array[ctypes.c_float] | None = None,
    ) -> Encoded:
        """Encode one picture given as three plane addresses and their strides.

        The planes are read during the call only (x264 copies them). ``qp`` is 0..51;
        ``keyframe`` forces an IDR. ``quant_offsets`` (``per_macroblock`` encoders only):
        one float per macroblock, row by row, added to ``qp`` (x264 copies them too).
        """
        if not 0 <= qp <= 51:
            raise ValueError("qp must be 0..51")
        if quant_offsets is not None and (
            not self.per_macroblock or len(quant_offsets) != self.mb_columns * self.mb_rows
        ):
            raise ValueError("quant_offsets need a per_macroblock encoder and one value per macroblock")
        with self._lock:
            if self._handle is None:
                raise RuntimeError("encoder is closed")
            lib = self.library.cdll
            picture = self._picture
            lib.x264_picture_init(picture)
            ctypes.c_int.from_buffer(picture, _PIC_TYPE).value = X264_TYPE_IDR if keyframe else X264_TYPE_AUTO
            ctypes.c_int.from_buffer(picture, _PIC_QPPLUS1).value = qp + 1
            ctypes.c_int64.from_buffer(picture, _PIC_PTS).value = pts
            ctypes.c_int.from_buffer(picture, _PIC_IMG_CSP).value = X264_CSP_I420
            ctypes.c_int.from_buffer(picture, _PIC_IMG_PLANES).value = 3
            for index in range(3):
                ctypes.c_int.from_buffer(picture, _PIC_IMG_STRIDE + 4 * index).value = strides[index]
                ctypes.c_void_p.from_buffer(picture, _PIC_IMG_PLANE + 8 * index).value = planes[index]
            offsets = ctypes.addressof(quant_offsets) if quant_offsets is not None else None
            ctypes.c_void_p.from_buffer(picture, _PIC_PROP_QUANT_OFFSETS).value = offsets
            size = lib.x264_encoder_encode(
                self._handle, ctypes.byref(self._nals), ctypes.byref(self._count), picture, self._output
            )
            if size < 0:
                raise RuntimeError(f"x264_encoder_encode failed ({size})")
            if size == 0 or self._count.value == 0:
                return Encoded(b"", False)
            # x264.h: "the payloads of all output NALs are guaranteed to be sequential in memory".
            data = ctypes.string_at(self._nals[0].p_payload, size)
            keyframe_out = bool(_int_at(self._output, _PIC_KEYFRAME))
            return Encoded(data, keyframe_out)

    def close(self) -> None:
        with self._lock:
            handle, self._handle = self._handle, None
            if handle is not None:
                self.library.cdll.x264_encoder_close(handle)

    def __del__(self) -> None:
        if getattr(self, "_handle", None) is not None:
            self.close()
