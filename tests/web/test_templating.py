"""Role-aware navigation: each domain carries the roles that may use it; a patient sees only their pages."""

from __future__ import annotations

import re

import theralab.web.app  # noqa: F401 - page modules mark their domains built when imported
from theralab.web.templating import DOMAINS, GROUPS, navigation, roles_for_path, visible_domains


class _User:
    def __init__(self, *roles: str) -> None:
        self.roles = frozenset(roles)


def test_every_domain_says_who_may_use_it_and_where_it_sits():
    for domain in DOMAINS:
        assert domain["roles"], domain["key"]
        assert domain["group"] in GROUPS, domain["key"]


def test_a_patient_is_offered_only_the_assistant():
    shown = visible_domains(_User("patient"))
    assert [d["key"] for d in shown] == ["assistant"]
    assert [p["href"] for p in shown[0]["pages"]] == ["/assistant"]  # not the clinician inbox


def test_staff_see_their_domains_and_admin_sees_all():
    researcher = {d["key"] for d in visible_domains(_User("researcher"))}
    assert "pgx" not in researcher and "assistant" not in researcher and "chem" in researcher
    clinician = {d["key"]: d for d in visible_domains(_User("clinician"))}
    assert clinician["assistant"]["href"] == "/assistant/inbox"  # a clinician's assistant is the inbox
    assert len(visible_domains(_User("admin"))) == sum(d["built"] for d in DOMAINS)


def test_the_top_bar_has_few_entries_so_it_cannot_wrap():
    groups = navigation(_User("admin"), "/trials/meta")
    assert len(groups) <= len(GROUPS)
    assert [g["title"] for g in groups if g["active"]] == ["Trials"]


def test_page_roles_come_from_the_longest_matching_entry():
    assert roles_for_path("/assistant/inbox") == ("clinician",)
    assert roles_for_path("/assistant") == ("patient",)
    assert roles_for_path("/trials/matching/T1/patients/p") == ("clinician", "researcher")
    assert roles_for_path("/login") is None and roles_for_path("/jobs") is None


def test_patient_page_lists_no_section_it_may_not_use(api):
    api.post("/login", data={"username": "pat", "password": "password-pat", "next": "/"})
    html = api.get("/").text
    nav = re.search(r'<nav class="main".*?</nav>', html, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', nav) == ["/assistant"]
    assert "/jobs" not in nav and "/docs" not in nav
