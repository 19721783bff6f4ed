"""Server-rendered pages through the TestClient (no browser): login flow, home cards, chem page."""

from __future__ import annotations


def _login(api, name: str = "res") -> None:
    response = api.post("/login", data={"username": name, "password": f"password-{name}", "next": "/chem"},
                        follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/chem"
    assert "httponly" in response.headers["set-cookie"].lower()


def test_pages_redirect_to_login_when_logged_out(api):
    response = api.get("/chem", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/chem"
    bad = api.post("/login", data={"username": "res", "password": "wrong", "next": "/"})
    assert bad.status_code == 401 and "wrong username or password" in bad.text


def test_home_shows_each_domain_the_role_may_use_and_no_other(api):
    from theralab.web.templating import DOMAINS, may_use

    _login(api)
    page = api.get("/").text
    for domain in DOMAINS:
        shown = domain["built"] and may_use({"researcher"}, domain["roles"])
        assert (f'<a href="{domain["href"]}">{domain["title"]}</a>' in page) == shown, domain["key"]


def test_chem_page_profiles_molecules_and_lists_bad_rows(api):
    _login(api)
    text = "CC(=O)Oc1ccccc1C(=O)O aspirin\nC1CC( broken\nCn1cnc2c1c(=O)n(C)c(=O)n2C caffeine"
    page = api.post("/chem", data={"text": text})
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") == 2
    assert "aspirin" in html and "caffeine" in html
    assert "malformed SMILES" in html and "broken" in html
    assert "180.16" in html  # aspirin's molecular weight
    assert 'download="profile.csv"' in html
    empty = api.post("/chem", data={"text": "   "})
    assert empty.status_code == 422 and "no molecules given" in empty.text


def test_plotly_is_served_locally(api):
    response = api.get("/static-vendor/plotly.min.js")
    assert response.status_code == 200 and b"plotly" in response.content[:2000].lower()
