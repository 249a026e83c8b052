"""The connection limits uvicorn does not have: how long a request may take
to arrive, how large its head may be, how many connections may be open.

uvicorn (0.54) bounds neither the headers nor the time a client takes to
send them or the body, and times out only a connection that was idle after
a response: 300 sockets that never sent a byte stayed open, 1 byte a second
kept a request alive, a 32 MiB header was read whole. nginx's defaults are
the model here (``client_header_timeout``, ``client_body_timeout``,
``large_client_header_buffers``, ``worker_connections``).
"""

import json
from dataclasses import dataclass

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ConnectionLimits", "GuardedHttpToolsProtocol", "guarded_protocol"]


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may cost the server.

    Parameters
    ----------
    max_connections : int
        Open connections; one more is answered 503 and closed at once.
    idle_timeout : float
        Seconds a connection may stay open without sending a request (a new
        one, or between requests).
    request_timeout : float
        Seconds from a request's first byte to its last (head and body): a
        slower one is answered 408 and closed.
    max_head_bytes : int
        Bytes of a request's line and headers together (then 431, or 414
        for the line alone).
    max_headers : int
        Headers in one request (then 431).
    """

    max_connections: int = 1000
    idle_timeout: float = 5.0
    request_timeout: float = 30.0
    max_head_bytes: int = 16384
    max_headers: int = 100


#: seconds a refused connection is read (and dropped) before it is closed
LINGER_S = 2.0


def _raw_response(status, reason, message):
    body = json.dumps({"error": message}).encode()
    return b"".join(
        [
            f"HTTP/1.1 {status} {reason}\r\n".encode(),
            b"content-type: application/json\r\n",
            f"content-length: {len(body)}\r\n".encode(),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounded by :attr:`limits`."""

    limits = ConnectionLimits()

    def connection_made(self, transport):
        super().connection_made(transport)
        self._deadline = None
        self._refused = self._in_head = False
        self._head_bytes = self._n_headers = 0
        if len(self.connections) > self.limits.max_connections:
            self._refuse(
                503,
                "Service Unavailable",
                f"the server has {self.limits.max_connections} connections open, "
                "its limit; try again in a moment",
            )
            return
        self._arm(self.limits.idle_timeout)

    def connection_lost(self, exc):
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds):
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self):
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self):
        self._deadline = None
        if self._refused or self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            if not self._in_head:  # idle: nothing was asked
                self.transport.close()
                return
        elif self.cycle.response_started:
            return  # the body arrived late, but the answer is on its way
        self._refuse(
            408,
            "Request Timeout",
            f"the request did not arrive within {self.limits.request_timeout:g} s",
        )

    def _refuse(self, status, reason, message):
        """Answer, and close as nginx does (a "lingering close"): the
        answer sent, no more to send, what the client still sends read and
        dropped for a moment -- closing at once, with its bytes unread,
        would reset the connection and lose the answer on the way."""
        self._disarm()
        if self._refused or self.transport.is_closing():
            return
        self._refused = True
        if self.cycle is not None and not self.cycle.response_complete:
            # the application stops waiting for the body: the client is gone
            self.cycle.keep_alive = False
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(_raw_response(status, reason, message))
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()

    def data_received(self, data):
        # uvicorn's, but a request refused from a callback is not
        # answered a second time (a parser error, for uvicorn)
        if self._refused or self.transport.is_closing():
            return  # refused: the rest is read and dropped
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if not self._refused:
                self.logger.warning("Invalid HTTP request received.")
                self.send_400_response("Invalid HTTP request received.")
            return
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._refuse(
                    431,
                    "Request Header Fields Too Large",
                    f"the request's headers are over "
                    f"{self.limits.max_head_bytes:,} bytes",
                )

    def on_message_begin(self):
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = self._header_bytes = self._n_headers = 0
        self._arm(self.limits.request_timeout)

    def on_url(self, url):
        super().on_url(url)
        if len(self.url) > self.limits.max_head_bytes:
            self._in_head = False
            self._refuse(
                414,
                "URI Too Long",
                f"the request's URL is over {self.limits.max_head_bytes:,} bytes",
            )
            raise _Stop

    def on_header(self, name, value):
        self._n_headers += 1
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        if self._n_headers > self.limits.max_headers:
            problem = f"has over {self.limits.max_headers} headers"
        elif len(self.url) + self._header_bytes > self.limits.max_head_bytes:
            problem = f"'s headers are over {self.limits.max_head_bytes:,} bytes"
        else:
            return super().on_header(name, value)
        self._in_head = False
        self._refuse(431, "Request Header Fields Too Large", f"the request{problem}")
        raise _Stop

    def on_headers_complete(self):
        self._in_head = False
        if not self._refused:
            super().on_headers_complete()

    def on_message_complete(self):
        self._disarm()  # all arrived: the application's time from here
        super().on_message_complete()


def guarded_protocol(limits):
    """uvicorn's httptools protocol, bounded by ``limits``.

    Parameters
    ----------
    limits : ConnectionLimits
        What one connection may cost.

    Returns
    -------
    protocol : type
        A protocol class for ``uvicorn.Config(http=...)``.

    Examples
    --------
    >>> from skfashion.serve import ConnectionLimits, guarded_protocol
    >>> protocol = guarded_protocol(ConnectionLimits(request_timeout=10))
    >>> protocol.limits.request_timeout, protocol.limits.max_headers
    (10, 100)
    """
    return type(
        GuardedHttpToolsProtocol.__name__,
        (GuardedHttpToolsProtocol,),
        {"limits": limits, "__module__": __name__},
    )


class _Stop(Exception):
    """Raised from a parser callback to stop parsing a refused request."""
