"""Expected failures of the session services; the API's exception handler maps each to a 4xx answer."""


class FeedbackError(Exception):
    """Base class of the expected errors raised by feedback services."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(FeedbackError):
    """A request value that cannot be used; answered 400 {field: [message]}."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(FeedbackError):
    """An unknown (or somebody else's) session, feedback or product; answered 404."""

    status_code = 404


class NotReady(FeedbackError):
    """The engine cannot answer yet, e.g. the product has no embedding in the index; answered 409."""

    status_code = 409


class Unprocessable(FeedbackError):
    """Valid input the engine cannot work with, e.g. a seed whose photo is missing or corrupt; answered 422."""

    status_code = 422
