"""nginx's 502 while the app is down: JSON with the request id the header and the access line carry."""

from __future__ import annotations

import json
import uuid

from helpers import APP, CA, wait_for
from logs import NGINX_ACCESS_LOG, REQUEST_ID, lines_with


def test_502_with_the_app_stopped_is_json_with_the_request_id(host, get):
    # Socket and service stopped: nothing accepts on the socket, nginx answers itself.
    host.run_expect([0], f"systemctl stop {APP}.socket {APP}.service")
    body = f"/tmp/nginx-502-{uuid.uuid4().hex}.json"
    try:
        result = host.run(
            f"curl -s --max-time 10 -o {body} --cacert {CA} "
            "-w '%{http_code} %{content_type} %header{x-request-id}' https://localhost/health"
        )
        payload_text = host.file(body).content_string
    finally:
        host.run_expect([0], f"systemctl start {APP}.socket {APP}.service")
        host.run(f"rm -f {body}")
    status, content_type, request_id = result.stdout.split(" ")
    assert (status, content_type) == ("502", "application/json"), result.stdout
    payload = json.loads(payload_text)
    assert payload == {"detail": "Bad Gateway", "request_id": request_id}
    assert REQUEST_ID.match(request_id)

    def logged() -> list[dict]:
        return lines_with(host.file(NGINX_ACCESS_LOG).content_string, request_id)

    # nginx buffers its access log (flushed at least every second).
    entries = wait_for(logged, timeout=5)
    assert [entry["status"] for entry in entries] == [502], entries
    # The app is back for the tests that follow.
    assert wait_for(lambda: get("https://localhost/health").status == 200, timeout=30)
