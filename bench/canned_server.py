"""A minimal HTTP/1.1 keep-alive server that answers every POST with the same image response.

Run in its own process so that the clients, not the server, are what is measured.
``GET /big.png`` streams a 64 MiB PNG (a header, one chunk of zeros, the end
chunk: whole as the client checks it), for the download memory test. Prints the
port it listens on, then serves until killed.
"""

from __future__ import annotations

import asyncio
import json
import struct
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
PNG_HEAD = (
    PNG_SIGNATURE + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 4096, 4096, 8, 2, 0, 0, 0) + bytes(4)
)
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
#: the one data chunk: its length, type, zeros and CRC fill the rest of BIG_SIZE
IDAT_SIZE = BIG_SIZE - len(PNG_HEAD) - 12 - len(PNG_END)


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
                writer.write(BIG_HEAD + PNG_HEAD + struct.pack(">I", IDAT_SIZE) + b"IDAT")
                chunk = bytes(1024 * 1024)
                sent = 0
                while sent < IDAT_SIZE:
                    piece = chunk[: IDAT_SIZE - sent]
                    writer.write(piece)
                    sent += len(piece)
                    await writer.drain()
                writer.write(bytes(4) + PNG_END)
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
