"""Everything the library knows of httpcore: the transports its own clients send on.

httpx's own transports take no network backend, so the library builds its transports on httpcore's
public API (connection pools and proxies take one), in the way httpx's ``_transports`` does:

- ``exchange``: what was read of an answer since the request was written, which tells a connection
  closed before any answer (safe to resend) from one closed part-way (maybe billed). Imports no httpcore.
- ``network``: the network backends: reads clamped to the attempt's deadline (sync), and counted.
- ``http``: the sync and async transports, httpcore's errors mapped to httpx's as httpx maps them.
- ``proxies``: the proxy variables read as httpx reads them (imports no httpcore).
- ``clients``: the httpx clients a library client owns, with their proxy mounts.

Only ``clients`` is imported from outside, when a client makes its own connections (``import
zhipu_images`` does not import httpcore), and ``exchange`` by the retry policy.
"""
