"""The post-mortem API: the loop from the draft to the published document whose action items
are tasks, roles, exports (an HTML page into which no text injects markup), and hostile
input refused without a change."""

from __future__ import annotations

import json
import threading
from typing import Any

from tests.api.conftest import Api


def _incident(api: Api, **extra: Any) -> int:
    declared = api.post(
        "/api/v1/incidents",
        role="editor",
        json={
            "title": "checkout errors",
            "severity": "P1",
            "services": ["checkout"],
            "slos": ["checkout/availability"],
            **extra,
        },
    )
    assert declared.status_code == 201, declared.text
    return int(declared.json()["id"])


def _path(number: int, rest: str = "") -> str:
    return f"/api/v1/incidents/{number}/postmortem{rest}"


def test_from_the_draft_to_closing_the_incident(api: Api) -> None:
    number = _incident(api)
    assert api.get(_path(number), role="viewer").status_code == 404
    assert api.post(_path(number), role="viewer").status_code == 403
    drafted = api.post(
        _path(number),
        role="editor",
        json={"budget_consumed": {"checkout/availability": 0.25}, "affected_share": 0.1},
    )
    assert drafted.status_code == 201, drafted.text
    document = drafted.json()
    assert (document["state"], document["version"], document["created_by"]) == (
        "draft",
        1,
        "editor-bot",
    )
    assert document["sections"]["impact"]["budget_consumed"] == {"checkout/availability": 0.25}
    assert document["sections"]["impact"]["affected_share"] == 0.1
    assert document["incident_state"] == "triggered"
    assert document["publish_problems"] == [
        "root_cause: the root cause is not written yet",
        "action_items: list at least one action item, or say none is needed",
        f"incident {number} is triggered: resolve it first",
    ]
    again = api.post(_path(number), role="editor")
    assert again.status_code == 409
    assert "has a post-mortem already" in again.json()["detail"]

    edited = api.put(
        _path(number),
        role="editor",
        json={
            "version": 1,
            "root_cause": "Retries without a budget.",
            "action_items": [{"title": "cap retries", "owner": "bo"}],
        },
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    assert edited.json()["sections"]["summary"] == document["sections"]["summary"]  # kept
    stale = api.put(_path(number), role="editor", json={"version": 1, "summary": "x"})
    assert stale.status_code == 409
    assert "version 2 is stored" in stale.json()["detail"]

    assert api.post(_path(number, "/review"), role="editor").json()["state"] == "in_review"
    refused = api.post(_path(number, "/publish"), role="editor")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"the post-mortem of incident {number} cannot be published:"
        f" incident {number} is triggered: resolve it first"
    )
    assert api.post(_path(number, "/return"), role="editor").json()["state"] == "draft"
    api.post(_path(number, "/review"), role="editor")
    api.post(f"/api/v1/incidents/{number}/resolve", role="editor")
    published = api.post(_path(number, "/publish"), role="editor")
    assert published.status_code == 200, published.text
    assert published.json()["state"] == "published"
    assert published.json()["published_by"] == "editor-bot"
    (item,) = published.json()["sections"]["action_items"]
    tasks = api.get(f"/api/v1/tasks?incident={number}", role="viewer").json()
    assert [(t["id"], t["title"], t["source"], t["owner"]) for t in tasks] == [
        (item["task"], "cap retries", "postmortem", "bo")
    ]
    assert api.get(_path(number), role="viewer").json() == published.json()

    waived = api.post(
        f"/api/v1/incidents/{number}/close", role="editor", json={"waive_postmortem": "x"}
    )
    assert waived.status_code == 409
    closed = api.post(f"/api/v1/incidents/{number}/close", role="editor")
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"
    actions = [
        row["action"]
        for row in api.get("/api/v1/audit?limit=100", role="viewer").json()
        if row["entity_kind"] == "postmortem"
    ]
    assert sorted(actions) == sorted(
        [
            "postmortem.draft",
            "postmortem.edit",
            "postmortem.submit",
            "postmortem.return",
            "postmortem.submit",
            "postmortem.publish",
        ]
    )


def test_exports_are_documents_no_text_injects_markup_into(api: Api) -> None:
    number = _incident(api, title="<script>alert('title')</script>")
    api.post(_path(number), role="editor")
    api.put(
        _path(number),
        role="editor",
        json={"what_went_wrong": "<script>alert(1)</script>\n\n<iframe src=//x></iframe> *ok*"},
    )
    html = api.get(_path(number, "/export?format=html"), role="viewer")
    assert html.status_code == 200
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert html.headers["content-security-policy"].startswith("default-src 'none'")
    assert html.headers["x-content-type-options"] == "nosniff"
    for markup in ("<script", "<iframe"):
        assert markup not in html.text
    assert "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>" in html.text
    assert "<em>ok</em>" in html.text
    assert "<title>Post-mortem: &lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;</title>" in (
        html.text
    )
    markdown = api.get(_path(number, "/export"), role="viewer")
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith("# Post-mortem: <script>alert('title')</script>\n")
    assert "## What went wrong\n\n<script>alert(1)</script>" in markdown.text
    assert f'filename="postmortem-{number}.md"' in markdown.headers["content-disposition"]
    yaml = api.get(_path(number, "/export?format=yaml"), role="viewer")
    assert yaml.headers["content-type"] == "application/yaml; charset=utf-8"
    assert "version: 2\n" in yaml.text
    assert api.get(_path(number, "/export?format=pdf"), role="viewer").status_code == 422
    assert api.get(_path(999, "/export"), role="viewer").status_code == 404
    assert api.get(_path(number, "/export"), role=None).status_code == 401


def test_hostile_edits_are_refused_and_change_nothing(api: Api) -> None:
    number = _incident(api)
    api.post(_path(number), role="editor")
    before = api.get(_path(number), role="viewer").json()
    bodies: list[tuple[bytes | dict[str, Any], str]] = [
        ({"root_cause": "bell \x07"}, "root_cause"),
        ({"action_items": [{"title": "two\nlines"}]}, "title"),
        ({"action_items": [{"title": "x" * 401}]}, "title"),
        ({"action_items": "nothing"}, "action_items"),
        ({"action_items": [{"title": "x", "task": 999}]}, "task"),
        ({"root_cuse": "typo"}, "root_cuse"),
        ({"summary": "x" * 40_000}, "summary"),
        ({"impact": {"affected_share": 1.5}}, "affected_share"),
        ({"impact": {"budget_consumed": {"checkout": 0.1}}}, "budget_consumed"),
        ({"timeline": [{"at": "2026-11-20T10:00:00", "text": "no zone"}]}, "at"),
        ({"timeline": [{"at": "2026-11-20T10:00:00Z", "text": "x"}] * 10_001}, "timeline"),
        (b'{"impact": {"affected_share": NaN}}', "affected_share"),
        (b'{"impact": {"duration_s": 1e309}}', "duration_s"),
        (b'{"summary": ' + b"[" * 5000 + b"]" * 5000 + b"}", "body"),
        (b"[]", "body"),
    ]
    for body, field in bodies:
        if isinstance(body, bytes):
            response = api.client.put(
                _path(number),
                content=body,
                headers={"Content-Type": "application/json", **api.headers("editor")},
            )
        else:
            response = api.put(_path(number), role="editor", json=body)
        assert response.status_code == 422, (field, response.text)
        assert field in json.dumps(response.json()["detail"]), response.text
    huge = api.client.put(
        _path(number),
        content=b'{"summary": "' + b"x" * (2 * 1024 * 1024) + b'"}',
        headers={"Content-Type": "application/json", **api.headers("editor")},
    )
    assert huge.status_code == 413
    assert api.post(_path(number), role="editor", json={"affected_share": -1}).status_code == 422
    assert api.get(_path(number), role="viewer").json() == before
    assert api.get("/api/v1/incidents/0/postmortem", role="viewer").status_code == 422


def test_concurrent_publishers_make_each_task_once(api: Api) -> None:
    number = _incident(api)
    api.post(_path(number), role="editor")
    api.put(
        _path(number),
        role="editor",
        json={"root_cause": "x", "action_items": [{"title": "a"}, {"title": "b"}]},
    )
    api.post(_path(number, "/review"), role="editor")
    api.post(f"/api/v1/incidents/{number}/resolve", role="editor")
    codes: list[int] = []

    def publish() -> None:
        codes.append(api.post(_path(number, "/publish"), role="editor").status_code)

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 409, 409, 409]
    tasks = api.get(f"/api/v1/tasks?incident={number}", role="viewer").json()
    assert sorted(t["title"] for t in tasks) == ["a", "b"]
