"""The explorer in a real headless Chromium (Debian's), as a frontend developer would use it:
the page works with no network beyond the gateway, runs the README query, completes fields, and
draws the plan (orders, then payments and delivery in parallel) with each fetch's selection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from explorer_helpers import README_QUERY, REPO_ROOT

SCREENSHOT = REPO_ROOT / "docs" / "explorer.png"


@pytest.fixture
def page(browser: Any, explorer_gateway: Any) -> Iterator[Any]:
    """A fresh page whose every request to anything but the gateway is refused and recorded."""
    context = browser.new_context(viewport={"width": 1500, "height": 900})
    gateway = urlsplit(explorer_gateway.base_url).netloc
    outside: list[str] = []
    failed: list[str] = []

    def gate(route: Any) -> None:
        if urlsplit(route.request.url).netloc == gateway:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", gate)
    page = context.new_page()
    page.on("pageerror", lambda exc: failed.append(f"page error: {exc}"))
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.outside = outside  # type: ignore[attr-defined]
    page.failed = failed  # type: ignore[attr-defined]
    yield page
    context.close()


def _open(page: Any, base_url: str, **params: str) -> None:
    page.goto(base_url + "/" + (("?" + urlencode(params)) if params else ""))
    page.wait_for_selector(".graphiql-query-editor .CodeMirror")


def _set_query(page: Any, text: str, line: int, ch: int) -> None:
    page.evaluate(
        """([text, line, ch]) => {
            const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
            cm.setValue(text); cm.focus(); cm.setCursor({line, ch});
        }""",
        [text, line, ch],
    )


def _hints(page: Any) -> list[str]:
    page.wait_for_selector(".CodeMirror-hints li", timeout=5000)
    return [t.strip() for t in page.locator(".CodeMirror-hints li").all_inner_texts()]


def test_page_runs_the_readme_query_without_any_other_network(page, explorer_gateway):
    _open(page, explorer_gateway.base_url, query=README_QUERY, variables='{"id": "1"}')
    page.click(".graphiql-execute-button")
    result = page.locator(".graphiql-response")
    result.get_by_text('"Ada Lovelace"').wait_for(timeout=10000)
    text = result.inner_text()
    assert '"Kai Becker"' in text and '"CAPTURED"' in text and '"APPROVED"' in text
    # The plan and the trace are drawn in the pane, not mixed into the result a client would see.
    assert "apolloQueryPlan" not in text and "fedgateTrace" not in text
    assert page.outside == [] and page.failed == []


def test_completion_offers_order_fields(page, explorer_gateway):
    _open(page, explorer_gateway.base_url)
    page.wait_for_selector(".graphiql-doc-explorer, .graphiql-sidebar")  # schema fetched by introspection
    _set_query(page, "{\n  ord\n}", 1, 5)
    page.keyboard.press("Control+Space")
    assert {"order", "orders"} <= set(_hints(page))
    page.keyboard.press("Escape")
    _set_query(page, '{\n  order(id: "1") {\n    \n  }\n}', 2, 4)
    page.keyboard.press("Control+Space")
    assert {"id", "status", "total", "customer", "isPaid", "payment", "delivery"} <= set(_hints(page))


def test_plan_pane_draws_orders_then_payments_and_delivery_in_parallel(page, explorer_gateway):
    _open(page, explorer_gateway.base_url, query=README_QUERY, variables='{"id": "1"}')
    # Drawn from the preview as soon as the page opens, before any run.
    page.wait_for_selector("#fg-plan .fg-fetch")
    root = page.locator("#fg-plan .fg-canvas > .fg-group")
    assert root.get_attribute("data-kind") == "Sequence"
    steps = root.locator(":scope > .fg-seq-list > .fg-seq-item")
    assert steps.count() == 2
    first = steps.nth(0).locator(":scope > .fg-fetch")
    assert first.get_attribute("data-service") == "orders"
    parallel = steps.nth(1).locator(":scope > .fg-group")
    assert parallel.get_attribute("data-kind") == "Parallel"
    services = [b.get_attribute("data-service") for b in parallel.locator(".fg-fetch").all()]
    assert services == ["payments", "delivery"]
    # Side by side: same top, payments left of delivery.
    pay, dlv = (parallel.locator(f".fg-fetch[data-service={s}]").bounding_box() for s in services)
    assert abs(pay["y"] - dlv["y"]) < 2 and pay["x"] + pay["width"] <= dlv["x"]
    assert page.locator("#fg-plan .fg-legend").inner_text().split() == ["orders", "payments", "delivery"]

    # After a run: each fetch's status and time, and the entities each entity fetch was sent.
    page.click(".graphiql-execute-button")
    # (Polled from Python: the page's CSP refuses the eval that wait_for_function would need.)
    page.locator("#fg-plan .fg-fetch.fg-status-ok").nth(2).wait_for(timeout=10000)
    for service in ("orders", "payments", "delivery"):
        box = page.locator(f"#fg-plan .fg-fetch[data-service={service}]").inner_text()
        assert "ok" in box and " ms" in box
    assert "1 entity" in page.locator("#fg-plan .fg-fetch[data-service=delivery]").inner_text()
    assert "ran in" in page.locator("#fg-plan .fg-plan-summary").inner_text()

    # Clicking a fetch shows what it asks its subgraph.
    page.click("#fg-plan .fg-fetch[data-service=delivery]")
    selection = page.locator("#fg-plan .fg-selection").inner_text()
    assert "_entities(representations:$representations)" in selection.replace(" ", "")
    assert "estimatedDeliveryMinutes" in selection and "agent {" in selection
    requires = page.locator("#fg-plan .fg-requires").inner_text()
    assert "deliveryAddress {" in requires and "city" in requires
    page.click("#fg-plan .fg-fetch[data-service=orders]")
    assert "order(id: $id)" in page.locator("#fg-plan .fg-selection").inner_text()

    page.locator(".graphiql-prettify-button, [aria-label^='Prettify']").first.click()
    page.click("#fg-plan .fg-fetch[data-service=delivery]")
    shot = page.screenshot()
    if os.environ.get("FEDGATE_UPDATE_SCREENSHOT"):
        SCREENSHOT.write_bytes(shot)
    assert page.outside == [] and page.failed == []


def test_plan_pane_stays_usable_with_30_fetches(page, explorer_gateway):
    _open(page, explorer_gateway.base_url)
    page.evaluate(
        """() => {
            const fetch = (s, i, path) => {
                const f = {kind: 'Fetch', serviceName: s, variableUsages: [],
                           operation: '{_entities(representations:$r){... on T {f' + i + '}}}', operationKind: 'query',
                           requires: [{kind: 'InlineFragment', typeCondition: 'T', selections: [{kind: 'Field', name: 'id'}]}]};
                return {kind: 'Flatten', path: path, node: f};
            };
            const names = ['orders', 'payments', 'delivery', 'inventory', 'reviews', 'accounts'];
            const steps = [{kind: 'Fetch', serviceName: 'orders', variableUsages: [], operation: '{orders{id}}', operationKind: 'query'}];
            let i = 1;
            for (let level = 0; level < 3; level++) {
                const group = [];
                for (let j = 0; j < (level === 2 ? 9 : 10); j++, i++) group.push(fetch(names[i % names.length], i, ['orders', '@', 'x' + level]));
                steps.push({kind: 'Parallel', nodes: group});
            }
            window.__pane = window.FedgatePlan.create(document.getElementById('fg-plan'));
            window.__pane.setPlan({kind: 'QueryPlan', node: {kind: 'Sequence', nodes: steps}}, 'text', null);
        }"""
    )
    boxes = page.locator("#fg-plan .fg-fetch")
    assert boxes.count() == 30
    pane = page.locator("#fg-plan").bounding_box()
    rects = [b.bounding_box() for b in boxes.all()]
    # Every card inside the pane's width (rows wrap, nothing to scroll sideways), none overlapping,
    # each wide enough to read its subgraph's name.
    assert all(r["x"] >= pane["x"] and r["x"] + r["width"] <= pane["x"] + pane["width"] + 0.5 for r in rects)
    assert all(r["width"] >= 100 for r in rects)
    for a_index, a in enumerate(rects):
        for b in rects[a_index + 1 :]:
            assert a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"] or \
                a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"]
    assert page.evaluate("document.querySelector('#fg-plan').scrollWidth <= document.querySelector('#fg-plan').clientWidth")
    # The last card can be scrolled to and clicked; its details stay on screen.
    boxes.nth(29).click()
    details = page.locator("#fg-plan .fg-details")
    assert "Fetch #30" in details.inner_text() and "f29" in details.locator(".fg-selection").inner_text()
    # The details take real room (not squeezed to a title) and the selected card stays above them.
    card, panel = boxes.nth(29).bounding_box(), details.bounding_box()
    assert panel["height"] > 150 and card["y"] + card["height"] <= panel["y"] + 1


def test_docs_screenshot_is_committed():
    assert SCREENSHOT.exists() and SCREENSHOT.stat().st_size > 20_000
    assert "docs/explorer.png" in (REPO_ROOT / "README.md").read_text()




def test_subscription_events_appear_in_the_result_pane(page, explorer_gateway):
    place = (
        "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
        {"input": {"customerId": "1", "restaurantId": "1", "items": [{"menuItemId": "1", "quantity": 1}],
                   "deliveryAddress": {"street": "Unter den Linden 1", "city": "Berlin", "postalCode": "10117"}}},
    )
    order_id = httpx.post(explorer_gateway.url, json={"query": place[0], "variables": place[1]}).json()["data"]["placeOrder"]["id"]
    query = "subscription Watch($id: ID) { orderStatusChanged(id: $id) { id status isPaid } }"
    _open(page, explorer_gateway.base_url, query=query, variables=f'{{"id": "{order_id}"}}')
    # The plan pane draws a subscription: the stream from orders, then the per-event fetch.
    page.locator("#fg-plan .fg-group[data-kind=Subscription]").wait_for(timeout=10000)
    assert page.locator("#fg-plan .fg-fetch").first.get_attribute("data-service") == "orders"
    page.click(".graphiql-execute-button")
    page.wait_for_timeout(1500)  # the stream is open once the gateway has subscribed upstream
    cancel = httpx.post(explorer_gateway.url, json={"query": f'mutation {{ cancelOrder(id: "{order_id}") {{ status }} }}'})
    assert "errors" not in cancel.json(), cancel.text
    result = page.locator(".graphiql-response")
    result.get_by_text('"CANCELLED"').wait_for(timeout=10000)
    assert f'"{order_id}"' in result.inner_text()
    assert page.outside == [] and page.failed == []
