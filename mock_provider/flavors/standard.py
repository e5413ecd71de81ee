"""The plain 1EdTech layout: spec paths at the server root, token at /oauth2/token."""

from .base import Profile


def standard() -> Profile:
    return Profile("standard")
