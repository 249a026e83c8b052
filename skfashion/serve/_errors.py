"""The one kind of error a client sees: a status code and a sentence."""

from starlette.exceptions import HTTPException

__all__ = ["ClientError"]


class ClientError(HTTPException):
    """A request the server will not answer: ``status`` (4xx/5xx) and a
    message that names the problem; answered as ``{"error": message}``.

    A Starlette ``HTTPException``, so that it passes through FastAPI's body
    parsing (which turns other exceptions into a vague 400) unchanged.
    """

    def __init__(self, status, message, headers=None):
        super().__init__(status, message, headers)

    @property
    def status(self):
        return self.status_code

    @property
    def message(self):
        return self.detail
