"""What the operator's receiver did to repair the stream: NACKs, keyframe requests, decode errors.

Measurement only, the same for both pipelines: it wraps, on one receiver instance,
aiortc 1.16's private ``_send_rtcp_nack`` and ``_send_rtcp_pli`` and the jitter
buffer's ``add`` (to see which packets finally arrived), and counts aiortc's
"failed to decode" warnings. A NACKed packet that never reached the jitter buffer
is unrepairable.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["RepairLog"]


class _DecodeErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to decode" in record.getMessage():
            self.count += 1


class RepairLog:
    def __init__(self) -> None:
        self.nack_messages = 0
        self.nacked: set[int] = set()
        self.arrived: set[int] = set()
        self.keyframe_requests = 0
        self._decode = _DecodeErrors()
        self._logger = logging.getLogger("aiortc.rtcrtpreceiver")

    def install(self, receiver: Any) -> None:
        from client_core.rtc_tuning import receiver_jitter_buffer

        send_nack = receiver._send_rtcp_nack
        send_pli = receiver._send_rtcp_pli

        async def nack(media_ssrc: int, lost: list[int]) -> None:
            self.nack_messages += 1
            self.nacked.update(lost)
            await send_nack(media_ssrc, lost)

        async def pli(media_ssrc: int) -> None:
            self.keyframe_requests += 1
            await send_pli(media_ssrc)

        receiver._send_rtcp_nack = nack
        receiver._send_rtcp_pli = pli
        buffer = receiver_jitter_buffer(receiver)
        if buffer is not None:
            original = buffer.add

            def add(packet: Any) -> Any:
                self.arrived.add(packet.sequence_number)
                return original(packet)

            buffer.add = add  # type: ignore[method-assign]
        self._logger.addHandler(self._decode)

    def close(self) -> None:
        self._logger.removeHandler(self._decode)

    @property
    def decode_errors(self) -> int:
        return self._decode.count

    def snapshot(self) -> dict[str, int]:
        return {
            "nack_messages": self.nack_messages,
            "nacked_packets": len(self.nacked),
            "unrepairable": len(self.nacked - self.arrived),
            "keyframe_requests": self.keyframe_requests,
            "decode_errors": self.decode_errors,
        }
