"""Web page tests; ``helpers`` holds what several of them share (login, chart specs, page checks)."""
