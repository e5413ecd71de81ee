"""Provider flavors: how a real SIS lays out its URLs and which of its rules it applies."""

from .base import Profile
from .infinite_campus import infinite_campus
from .standard import standard

FLAVORS = ("standard", "infinite-campus")


def profile_for(flavor: str, app_name: str = "district") -> Profile:
    if flavor == "standard":
        return standard()
    if flavor == "infinite-campus":
        return infinite_campus(app_name)
    raise ValueError(f"unknown flavor {flavor!r}; choose one of {', '.join(FLAVORS)}")


__all__ = ["FLAVORS", "Profile", "profile_for", "standard"]
