"""docs/subscriptions.md's Python client, run as written against a real gateway."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from wsclient import mutate, place_order

DOC = Path(__file__).resolve().parents[2] / "docs" / "subscriptions.md"


async def test_the_documented_python_client_watches_an_order(gateway, tmp_path) -> None:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert code is not None
    assert len(code.group(1).strip().splitlines()) <= 17
    script = tmp_path / "watch.py"
    script.write_text(code.group(1).replace("ws://127.0.0.1:4000", gateway.base_url.replace("http", "ws")))
    order = await place_order(gateway.url)
    proc = await asyncio.create_subprocess_exec(sys.executable, str(script), order, stdout=asyncio.subprocess.PIPE)
    try:
        await asyncio.sleep(1.5)  # the client connects and subscribes
        await mutate(gateway.url, "mutation($id: ID!) { approveOrder(id: $id) { id } }", {"id": order})
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
    finally:
        proc.kill()
        await proc.wait()
    event = json.loads(line)["data"]["orderStatusChanged"]
    assert event == {"status": "APPROVED", "isPaid": True, "payment": {"status": "CAPTURED"}, "delivery": None}
