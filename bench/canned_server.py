"""A minimal HTTP/1.1 keep-alive server that answers every POST with the same image response.

Run in its own process so that the clients, not the server, are what is measured.
``GET /big.png`` streams a 64 MiB body that starts like a PNG, for the download
memory test. Prints the port it listens on, then serves until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys

BODY = json.dumps(
    {
        "created": 1700000000,
        "data": [{"url": "https://cdn.example/image.png"}],
        "content_filter": [{"role": "assistant", "level": 3}],
    }
).encode()
RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(BODY)) + BODY
BIG_SIZE = 64 * 1024 * 1024
BIG_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: image/png\r\ncontent-length: %d\r\n\r\n" % BIG_SIZE
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            if head.startswith(b"GET /big.png"):
                writer.write(BIG_HEAD + PNG_SIGNATURE)
                chunk = bytes(1024 * 1024)
                sent = len(PNG_SIGNATURE)
                while sent < BIG_SIZE:
                    piece = chunk[: BIG_SIZE - sent]
                    writer.write(piece)
                    sent += len(piece)
                    await writer.drain()
            else:
                writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
