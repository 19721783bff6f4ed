"""A browser gets error pages with a way back; API clients and page scripts keep JSON."""

from __future__ import annotations

import pytest

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def _login(api, name: str) -> None:
    response = api.post("/login", data={"username": name, "password": f"password-{name}", "next": "/"},
                        follow_redirects=False)
    assert response.status_code == 303


def test_404_is_a_page_with_navigation_and_a_way_home(api):
    _login(api, "doc")
    response = api.get("/no/such/page", headers={**HTML, "referer": "http://testserver/ehr"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Page not found" in html and '<a class="button" href="/">Home</a>' in html
    assert 'href="/ehr">Go back' in html  # the referring page on this site
    assert 'aria-label="Main"' in html  # the logged-in user's navigation is still there
    assert '{"' not in html


def test_403_is_a_page_saying_which_role_is_needed(api):
    _login(api, "res")
    response = api.get("/pgx", headers=HTML)  # pharmacogenomics is for clinicians
    assert response.status_code == 403 and response.headers["content-type"].startswith("text/html")
    assert "Not allowed" in response.text and "clinician" in response.text
    assert '"error"' not in response.text


def test_a_patient_cannot_open_a_page_the_navigation_hides(api):
    _login(api, "pat")
    for path in ("/chem", "/development", "/trials", "/monitoring", "/ehr"):
        response = api.get(path, headers=HTML)
        assert response.status_code == 403, path


def test_a_foreign_referer_is_not_offered_as_the_way_back(api):
    _login(api, "doc")
    html = api.get("/nowhere", headers={**HTML, "referer": "https://evil.example/x"}).text
    assert "evil.example" not in html and "Go back" not in html


@pytest.mark.parametrize("path", ["/v1/no/such/route", "/v1/jobs/not-a-job"])
def test_api_errors_stay_json_even_for_a_browser(api, path):
    headers = {**HTML, **api.login("doc")}
    response = api.get(path, headers=headers)
    assert response.status_code in (404, 422) and response.headers["content-type"] == "application/json"


def test_a_page_script_fetch_keeps_json(api):
    _login(api, "res")
    response = api.get("/pgx")  # TestClient sends Accept: */*, as fetch() does
    assert response.status_code == 403 and response.headers["content-type"] == "application/json"


def test_logged_out_page_request_still_goes_to_login(api):
    response = api.get("/ehr", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/ehr"


def test_favicon_is_served_locally_and_linked(api):
    for path in ("/static/favicon.svg", "/favicon.ico"):
        response = api.get(path)
        assert response.status_code == 200 and response.headers["content-type"].startswith("image/svg+xml")
        assert b"<svg" in response.content
    assert '<link rel="icon" href="/static/favicon.svg"' in api.get("/login").text


def test_a_server_error_is_a_page_without_internals_and_json_for_the_api(tl_env):
    from fastapi.testclient import TestClient

    from theralab.app import create_app

    app = create_app()

    @app.get("/boom-page")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/boom-page", headers=HTML)
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in page.text and "secret internal detail" not in page.text
    api = client.get("/boom-page")
    assert api.status_code == 500 and api.json()["error"] == "InternalError"
    assert "secret" not in api.text
