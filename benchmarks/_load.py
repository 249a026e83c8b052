"""A load generator for HTTP/1.1 on loopback, run as a process of its own:
``python -m benchmarks._load URL PATH BODIES.json --clients C --requests N``.

Each client opens one keep-alive connection and sends the next request as
soon as the answer to the last arrived; ``N`` requests in all, timed after
``--warmup`` more on the same connections. Bodies (a JSON list of strings,
sent in turn; ``[]``: GET) rotate. Prints one JSON line: requests per second,
median and 99th-percentile latency in milliseconds, and errors (a non-200
answer stops the run).
"""

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit


def _requests(host, path, bodies):
    if not bodies:
        return [f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()]
    return [
        (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
            f"\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body.encode()
        for body in bodies
    ]


async def _client(connection, requests, tickets, latencies):
    reader, writer = connection
    for i in tickets:
        start = time.perf_counter()
        writer.write(requests[i % len(requests)])
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"answer {status}: {body[:200]!r}")
        if latencies is not None:
            latencies.append(time.perf_counter() - start)


async def _run(url, path, bodies, clients, n, warmup):
    parts = urlsplit(url)
    address = (parts.hostname, parts.port)
    requests = _requests(parts.netloc, path, bodies)
    connections = [await asyncio.open_connection(*address) for _ in range(clients)]
    tickets = iter(range(warmup))  # the connections' first requests, untimed
    await asyncio.gather(*(_client(c, requests, tickets, None) for c in connections))
    latencies, tickets = [], iter(range(n))
    start = time.perf_counter()
    await asyncio.gather(
        *(_client(c, requests, tickets, latencies) for c in connections)
    )
    seconds = time.perf_counter() - start
    for _, writer in connections:
        writer.close()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]  # noqa: E731
    return {
        "rps": round(n / seconds, 1),
        "p50_ms": round(1000 * pick(0.50), 3),
        "p99_ms": round(1000 * pick(0.99), 3),
        "requests": n,
        "clients": clients,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks._load")
    parser.add_argument("url")
    parser.add_argument("path")
    parser.add_argument("bodies", help="a JSON file: a list of request bodies")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    with open(args.bodies) as f:
        bodies = json.load(f)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(
        _run(args.url, args.path, bodies, args.clients, args.requests, args.warmup)
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
