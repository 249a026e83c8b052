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

from ._batcher import CANCELS, GONE
from ._settings import ServeSettings

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
    max_client_connections : int, default=None
        Open connections of one client (one address); one more is answered
        503 and closed at once, so that one client cannot hold every place.
        None: no share but ``max_connections``.
    """

    max_connections: int = 1000
    idle_timeout: float = ServeSettings.idle_timeout
    request_timeout: float = ServeSettings.request_timeout
    max_head_bytes: int = ServeSettings.max_head_bytes
    max_headers: int = ServeSettings.max_headers
    max_client_connections: int | None = None


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


_on_message_begin = HttpToolsProtocol.on_message_begin
_on_headers_complete = HttpToolsProtocol.on_headers_complete


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, bounded by :attr:`limits`.

    What costs a request nothing extra: no timer of its own (a deadline is
    a number; one sweep a server checks them all, :func:`_sweep`), and no
    callback per header (their number and size are checked once the head
    is complete, or as its bytes arrive when it is not).
    """

    limits = ConnectionLimits()

    def connection_made(self, transport):
        super().connection_made(transport)
        self._refused = self._in_head = False
        self._head_bytes = self._chunk_bytes = 0
        self._deadline = self.loop.time() + self.limits.idle_timeout
        _start_sweeping(self)
        limits = self.limits
        if len(self.connections) > limits.max_connections:
            self._refuse(
                503,
                "Service Unavailable",
                f"the server has {limits.max_connections} connections open, "
                "its limit; try again in a moment",
            )
        elif limits.max_client_connections is not None and self.client:
            host = self.client[0]
            same = sum(
                1
                for other in self.connections
                if (getattr(other, "client", None) or (None,))[0] == host
                and not getattr(other, "_refused", False)
            )
            if same > limits.max_client_connections:
                self._refuse(
                    503,
                    "Service Unavailable",
                    f"this client has {limits.max_client_connections} connections "
                    "open, its share; close one or try again in a moment",
                )

    def connection_lost(self, exc):
        self._deadline = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            _client_left(cycle.scope)
        super().connection_lost(exc)

    def _timed_out(self):
        self._deadline = None
        if self._refused or self.transport.is_closing():
            return
        cycle = self.cycle
        if not self._in_head:
            if cycle is None:  # a connection that never asked anything
                self.transport.close()
                return
            if cycle.response_started or not cycle.more_body:
                # all arrived (the application's time from there), or the
                # answer is on its way; idle after an answer, uvicorn's
                # keep-alive timeout closes the connection
                return
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
        self._deadline = None
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
        self._chunk_bytes = len(data)
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
        if self._in_head:  # the head goes on: refused as soon as it is over
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.max_head_bytes:
                self._in_head = False
                self._refuse_head()

    def _refuse_head(self):
        """431 for a head over its limits; 414 if the URL alone is over."""
        size = self.limits.max_head_bytes
        if len(self.url) > size:
            message = f"the request's URL is over {size:,} bytes"
            self._refuse(414, "URI Too Long", message)
        else:
            message = f"the request's headers are over {size:,} bytes"
            self._refuse(431, "Request Header Fields Too Large", message)

    def on_message_begin(self):
        _on_message_begin(self)
        self._in_head = True
        self._head_bytes = 0
        self._deadline = self.loop.time() + self.limits.request_timeout

    def on_headers_complete(self):
        self._in_head = False
        if self._refused:
            return
        limits = self.limits
        if len(self.headers) > limits.max_headers:
            message = f"the request has over {limits.max_headers} headers"
            self._refuse(431, "Request Header Fields Too Large", message)
        elif (
            # the head is within what arrived: counted only if that is more
            self._head_bytes + self._chunk_bytes > limits.max_head_bytes
            and len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
            > limits.max_head_bytes
        ):
            self._refuse_head()
        else:
            return _on_headers_complete(self)
        raise _Stop


def _client_left(scope):
    """A request whose client left: its work still queued is dropped
    uncomputed (what it registered under ``CANCELS``)."""
    scope[GONE] = True
    for cancel in scope.get(CANCELS, ()):
        cancel()


def _start_sweeping(protocol):
    """Check the deadlines of a server's connections a few times a second,
    from the first connection on, while there are any."""
    state = protocol.server_state
    if getattr(state, "_skfashion_sweeping", False):
        return
    limits, loop = protocol.limits, protocol.loop
    every = min(1.0, limits.idle_timeout / 4, limits.request_timeout / 4)
    state._skfashion_sweeping = True

    def sweep():
        if not state.connections:
            state._skfashion_sweeping = False
            return
        now = loop.time()
        for connection in list(state.connections):
            deadline = getattr(connection, "_deadline", None)
            if deadline is not None and deadline <= now:
                connection._timed_out()
        loop.call_later(every, sweep)

    loop.call_later(every, sweep)


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
