"""Who is acting: the actor each change event names (SPEC §10).

The actor is a context variable, so no service signature carries it: the request
middleware, the management commands and anything else set it once around their work, and
`segments.services.events` reads it when it records an event. Values:

    api-client:<token subject>   an API request (the subject is the API client's id)
    admin:<username>             a request of a logged-in admin user
    command:<name>               a management command, e.g. command:import_segments
    system                       anything else
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.management.base import BaseCommand
from django.http import HttpRequest, HttpResponse

SYSTEM = "system"

# A string, or a function returning one: a request's actor is known only once it is
# authenticated, which for the API happens inside the view.
_actor: ContextVar[str | Callable[[], str]] = ContextVar("actor", default=SYSTEM)


def current_actor() -> str:
    """The actor of the work in progress ("system" when nobody said)."""
    actor = _actor.get()
    return actor() if callable(actor) else actor


@contextmanager
def acting_as(actor: str | Callable[[], str]) -> Iterator[None]:
    """Name `actor` (or a function that tells it) as the actor of the work inside the block."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def request_actor(request: HttpRequest) -> str:
    """The actor of a request: its API token's subject, or its logged-in admin user."""
    # DRF's authentication copies the token's claims onto the Django request as `auth`.
    subject = getattr(getattr(request, "auth", None), "subject", None)
    if subject:
        return f"api-client:{subject}"
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"admin:{user.get_username()}"
    return SYSTEM


class ActorMiddleware:
    """Names the request's user as the actor of what the request changes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Resolved only when an event is recorded, so reads never touch the session.
        with acting_as(lambda: request_actor(request)):
            return self.get_response(request)


class ActorCommand(BaseCommand):
    """A management command whose changes name it as their actor (`command:<name>`)."""

    def execute(self, *args, **options):
        name = type(self).__module__.rpartition(".")[2]
        with acting_as(f"command:{name}"):
            return super().execute(*args, **options)
