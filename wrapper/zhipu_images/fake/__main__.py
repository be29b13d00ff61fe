"""``python -m zhipu_images.fake [OPTIONS_JSON]``: the fake platform on a free loopback port, its URL printed
alone on stdout, until SIGTERM or Ctrl-C. Started by ``fake_images_server``; needs no ``[cli]`` extra.
OPTIONS_JSON holds ``FakePlatform``'s keyword arguments (and ``host``, ``port``)."""

from __future__ import annotations

import json
import signal
import sys

from . import FakePlatform, FakeServer


def main(arguments: list[str]) -> None:
    options = json.loads(arguments[0]) if arguments else {}
    host, port = options.pop("host", "127.0.0.1"), options.pop("port", 0)
    if isinstance(options.get("latency"), list):
        options["latency"] = tuple(options["latency"])
    server = FakeServer(host, port, FakePlatform(**options))
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(server.url, flush=True)
    try:
        server.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main(sys.argv[1:])
