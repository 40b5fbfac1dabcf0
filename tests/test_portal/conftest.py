"""The portal's tests run on the API's fixtures: the same seeded chain, a fresh API context per test."""

from tests.test_api.conftest import api, served, world  # noqa: F401
