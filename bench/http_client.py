"""A keep-alive HTTP/1.1 client as light as the load it offers, for the end-to-end benchmark:
it shares two cores with the system it measures, and httpx spent about a third of a core
placing 30 orders a second (the services' own CPU). Enough HTTP for our JSON API: a request
with a body, a response with a ``Content-Length``."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

#: What a broken connection raises; the caller may send the request again.
TransportError = (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, OSError)
#: Seconds a connection may stay idle and be used again: uvicorn closes it after 5, and a
#: request sent on a connection the server is closing is lost (0 bytes read).
KEEP_ALIVE = 4.0


class Client:
    def __init__(self, url: str, connections: int = 64, timeout: float = 60) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._slots = asyncio.Semaphore(connections)
        #: Idle connections, the last used on top, with when they were last used.
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """The response's status and body."""
        async with self._slots:
            reader, writer = await self._connection()
            try:
                status, answer, keep = await asyncio.wait_for(
                    self._exchange(reader, writer, path, body, headers), self.timeout
                )
            except BaseException:
                writer.close()
                raise
            if keep:
                self._idle.append((reader, writer, time.monotonic()))
            else:
                writer.close()
            return status, answer

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The most recently used idle connection that the server still keeps, or a new one."""
        while self._idle:
            reader, writer, used = self._idle.pop()
            if time.monotonic() - used < KEEP_ALIVE and not reader.at_eof():
                return reader, writer
            writer.close()
        return await asyncio.open_connection(self.host, self.port)

    async def _exchange(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        path: str,
        body: bytes,
        headers: dict[str, str],
    ) -> tuple[int, bytes, bool]:
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"Content-Length: {len(body)}", "Content-Type: application/json"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        fields = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:] if line)
        }
        answer = await reader.readexactly(int(fields.get("content-length", "0")))
        return status, answer, fields.get("connection", "").lower() != "close"

    def close(self) -> None:
        for _, writer, _used in self._idle:
            writer.close()
        self._idle.clear()
