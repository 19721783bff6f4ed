"""Fixtures of the web page tests."""

from __future__ import annotations

import pytest

from .helpers import serve


@pytest.fixture
def live_server(api):
    """Serve the same app as the ``api`` fixture on a free port in a thread."""
    from theralab.app import create_app

    with serve(create_app()) as url:
        yield url
