"""What was changed by hand on the host is found and put back by the next deploy.

The roles compare every directory and file they write with the host's in one
module run (the file_check role) and skip those that match: content, mode and
owner changes must still be found, by --check --diff too.
"""

from __future__ import annotations

from helpers import APP, http_get, wait_for
from playbook import run_deploy

GUNICORN_CONFIG = f"/etc/{APP}/gunicorn.conf.py"
LOGGING_CONFIG = f"/etc/{APP}/logging.json"
SNIPPETS = f"/etc/nginx/snippets/{APP}"
EDIT = "# edited by hand"


def test_deploy_puts_back_content_mode_and_owner_changed_by_hand(host, tmp_path) -> None:
    host.run_expect(
        [0], f"echo '{EDIT}' >> {GUNICORN_CONFIG} && chmod 0700 {SNIPPETS} && chown www-data {LOGGING_CONFIG}"
    )

    check = run_deploy(host, tmp_path, {}, "--check", "--diff")
    assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
    assert f"-{EDIT}" in check.stdout, check.stdout[-4000:]
    assert EDIT in host.file(GUNICORN_CONFIG).content_string  # --check changed nothing

    result = run_deploy(host, tmp_path, {})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert EDIT not in host.file(GUNICORN_CONFIG).content_string
    assert host.file(SNIPPETS).mode == 0o755
    assert (host.file(LOGGING_CONFIG).user, host.file(LOGGING_CONFIG).mode) == ("root", 0o640)
    # The changed Gunicorn config restarted the app; nginx serves it.
    assert wait_for(lambda: http_get(host, "https://localhost/health").status == 200, timeout=30)
