"""What was changed by hand on the host is found and put back by the next deploy.

The roles compare every path they write, their units and account with the
host's in one module run (the _host_state role) and skip what matches: content,
mode and owner changes, stopped units, removed links must still be found, by
--check --diff too.
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


def test_deploy_restarts_units_and_restores_links_and_the_account_changed_by_hand(host, tmp_path) -> None:
    """Units, the site link and the service account are read in the same module run: a stopped or
    disabled unit, a removed link, another shell must still be found and put back."""
    site_link = f"/etc/nginx/sites-enabled/{APP}.conf"
    host.run_expect(
        [0],
        f"systemctl stop {APP}.service {APP}.socket && systemctl disable --quiet {APP}.socket"
        f" && rm {site_link} && systemctl reload nginx && usermod --shell /bin/sh {APP}",
    )
    assert not host.service(f"{APP}.service").is_running
    assert not host.service(f"{APP}.socket").is_enabled

    result = run_deploy(host, tmp_path, {})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    for unit in (f"{APP}.socket", f"{APP}.service"):
        assert host.service(unit).is_running, unit
    assert host.service(f"{APP}.socket").is_enabled
    assert host.file(site_link).linked_to == f"/etc/nginx/sites-available/{APP}.conf"
    assert host.user(APP).shell == "/usr/sbin/nologin"
    assert http_get(host, "https://localhost/health").status == 200

    again = run_deploy(host, tmp_path, {})
    assert again.returncode == 0, again.stdout[-4000:]
    assert "changed=0" in again.stdout, again.stdout[-3000:]
