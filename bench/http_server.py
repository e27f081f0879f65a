#!/usr/bin/env python3
"""http_server.py — the server of bench/make_capture.sh --short: answers GET /NAME with the file
DIR/NAME (read once, kept in memory) as HTTP/1.0 and closes, many connections at a time on one
event loop; python3 -m http.server's thread per connection and listen backlog of 5 cannot take
thousands of short connections a second.

usage: python3 bench/http_server.py DIR ADDR PORT
"""
import asyncio
import os
import signal
import sys


async def serve(files, reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        parts = head.split(b" ", 2)
        body = files.get(parts[1].lstrip(b"/")) if len(parts) > 2 and parts[0] == b"GET" else None
        if body is None:
            writer.write(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        else:
            writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    d, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = {}
    for name in os.listdir(d):
        with open(os.path.join(d, name), "rb") as f:
            files[name.encode()] = f.read()
    server = await asyncio.start_server(lambda r, w: serve(files, r, w), addr, port, backlog=4096)
    # A background job of a script starts with SIGINT ignored: make_capture.sh's Ctrl-C or kill
    # -INT has to be taken explicitly.
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, server.close)
    async with server:
        try:
            await server.serve_forever()
        except asyncio.CancelledError:
            pass


if __name__ == "__main__":
    asyncio.run(main())
