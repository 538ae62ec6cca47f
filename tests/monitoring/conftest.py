"""Monitoring tests create a dozen users per test: hash their passwords cheaply (Argon2 costs ~0.3 s each)."""

import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
