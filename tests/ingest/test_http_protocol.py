"""``koban serve``'s corked transport: a response's writes in one loop iteration leave as one."""

from __future__ import annotations

import asyncio

from koban.ingest.http_protocol import CorkedTransport


class RecordingTransport:
    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


async def test_head_and_body_written_in_one_iteration_leave_in_one_write_in_order():
    real = RecordingTransport()
    corked = CorkedTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    corked.write(b"HTTP/1.1 202 Accepted\r\n\r\n")
    corked.write(memoryview(b'{"status":"accepted"}'))
    assert real.sent == [] and corked.get_write_buffer_size() == 46
    await asyncio.sleep(0)
    assert real.sent == [b'HTTP/1.1 202 Accepted\r\n\r\n{"status":"accepted"}']
    corked.write(b"next")
    await asyncio.sleep(0)
    assert real.sent[-1] == b"next" and len(real.sent) == 2


async def test_close_sends_what_is_pending_first_and_abort_drops_it():
    real = RecordingTransport()
    corked = CorkedTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
    corked.write(b"last words")
    corked.close()
    assert real.sent == [b"last words"] and real.closed
    other = RecordingTransport()
    corked = CorkedTransport(other, asyncio.get_running_loop())  # type: ignore[arg-type]
    corked.write(b"never")
    corked.abort()
    await asyncio.sleep(0)
    assert other.sent == [] and other.aborted
    assert corked.get_extra_info("peername") == "info:peername"  # everything else passes through
