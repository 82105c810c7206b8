"""`fedgate dev`: the served schema follows the SDL files, a change that does not compose leaves the
last good supergraph serving and is printed, a subgraph can be added while it runs, subgraphs can
be read from running services, and Ctrl-C leaves nothing behind."""

from __future__ import annotations

import os
import signal
import socket
import time

import httpx
from dev_helpers import write_config

ORDER_TYPE = 'type Order implements Node @key(fields: "id") {'


def _routing(subgraphs) -> dict[str, str]:
    return {name: proc.url for name, proc in subgraphs.items()}


def _edit(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_sdl_change_is_served_within_a_second(subgraphs, sdl_folder, start_dev):
    dev = start_dev(write_config(sdl_folder, _routing(subgraphs)))
    assert "note" not in dev.fields("Order")
    started = time.monotonic()
    _edit(sdl_folder / "orders.graphql", ORDER_TYPE, ORDER_TYPE + "\n  note: String")
    while "note" not in dev.fields("Order"):
        assert time.monotonic() - started < 1.0, dev.output()
        time.sleep(0.02)
    assert "orders.graphql changed" in dev.wait_output("composed orders, payments, delivery in")
    # And it is a working gateway over the real subgraphs, explorer included.
    answer = dev.post("{ order(id: \"1\") { id customer { name } isPaid delivery { status } } }")
    assert answer["data"]["order"]["customer"]["name"] == "Ada Lovelace" and answer["data"]["order"]["isPaid"] is True
    assert httpx.get(dev.url.replace("/graphql", "/"), headers={"accept": "text/html"}).status_code == 200


def test_a_change_that_does_not_compose_keeps_the_last_good_supergraph(subgraphs, sdl_folder, start_dev):
    dev = start_dev(write_config(sdl_folder, _routing(subgraphs)))
    orders = sdl_folder / "orders.graphql"
    _edit(orders, ORDER_TYPE, ORDER_TYPE + "\n  note: String")
    dev.wait_output("(orders.graphql changed)")
    _edit(orders, "note: String", "note: Strin")
    out = dev.wait_output("error[INVALID_GRAPHQL]")
    assert "composition failed (orders.graphql changed) with 1 error(s); still serving the last good supergraph" in out
    # The Apollo code, the subgraph, the coordinate, the message, and the file and line to look at.
    assert "error[INVALID_GRAPHQL] orders Order.note\n  [orders] Unknown type Strin\n  at orders.graphql:74:3" in out
    assert "\x1b[" not in out  # --no-color: plain text
    assert "note" in dev.fields("Order")
    assert dev.post('{ order(id: "1") { id customer { name } } }')["data"]["order"]["customer"]["name"] == "Ada Lovelace"

    # Fixed: served again. Then a conflict between two subgraphs names both, and both places.
    _edit(orders, "note: Strin", "note: String")
    dev.wait_output("composed orders, payments, delivery in", timeout=10)
    _edit(sdl_folder / "payments.graphql", 'type Order @key(fields: "id") {', 'type Order @key(fields: "id") {\n  createdAt: String')
    out = dev.wait_output("error[INVALID_FIELD_SHARING]", timeout=10)
    assert "error[INVALID_FIELD_SHARING] orders, payments Order.createdAt" in out
    assert "at orders.graphql:76:3" in out and "at payments.graphql:67:3" in out
    assert "note" in dev.fields("Order")


def test_a_subgraph_added_to_the_config_while_it_runs(subgraphs, sdl_folder, start_dev):
    config = write_config(sdl_folder, _routing(subgraphs), ("orders", "payments"))
    dev = start_dev(config)
    assert "isPaid" in dev.fields("Order") and "delivery" not in dev.fields("Order")
    write_config(sdl_folder, _routing(subgraphs), ("orders", "payments", "delivery"))
    deadline = time.monotonic() + 10
    while "delivery" not in dev.fields("Order"):
        assert time.monotonic() < deadline, dev.output()
        time.sleep(0.05)
    answer = dev.post("{ order(id: \"1\") { delivery { status } isPaid } }")
    assert answer["data"]["order"] == {"delivery": {"status": "DELIVERED"}, "isPaid": True}


def test_composes_from_running_subgraphs(subgraphs, tmp_path, start_dev):
    config = tmp_path / "supergraph.yaml"
    config.write_text(
        "subgraphs:\n"
        + "".join(f"  {name}:\n    routing_url: {proc.url}\n    schema:\n      subgraph_url: {proc.url}\n" for name, proc in subgraphs.items())
    )
    dev = start_dev(config)
    assert {"isPaid", "delivery", "estimatedDeliveryMinutes"} <= set(dev.fields("Order"))
    answer = dev.post("{ order(id: \"1\") { estimatedDeliveryMinutes payment { method } } }")
    assert answer["data"]["order"]["payment"] == {"method": "CARD"}


def test_ctrl_c_stops_it_and_everything_it_started(subgraphs, sdl_folder, start_dev):
    dev = start_dev(write_config(sdl_folder, _routing(subgraphs)))
    dev.post("{ __typename }")
    os.kill(dev.process.pid, signal.SIGINT)  # what Ctrl-C sends
    assert dev.process.wait(10) in (0, 130, -signal.SIGINT)
    # Its session holds no process any more (no worker, watcher or child left running)...
    try:
        os.killpg(dev.process.pid, 0)
        left = True
    except ProcessLookupError:
        left = False
    assert not left, dev.output()
    # ...and the port is free again.
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", dev.port)) != 0
