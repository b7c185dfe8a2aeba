"""An operator's nginx snippet that nginx refuses: the play fails and the old site keeps serving."""

from __future__ import annotations

import json

from helpers import APP
from playbook import ansible_playbook

SITE = f"/etc/nginx/sites-available/{APP}.conf"
STATE = "/var/lib/fastapi-deploy"


def test_broken_operator_snippet_fails_the_play_and_nginx_keeps_serving(host, get, tmp_path):
    """Deploy again with a typo in nginx_server_extra: nginx -t rejects it, the
    play fails with nginx's message, and the previous site is back and serving.
    Every web host failed, so the run ends there: its lock is released all the
    same, and the audit line records the failure (the next deploy does not wait:
    test_release.py's)."""
    site_before = host.file(SITE).sha256sum
    nginx_pid = host.check_output("systemctl show --property=MainPID --value nginx")
    extra_vars = tmp_path / "broken.json"
    extra_vars.write_text(json.dumps({"nginx_server_extra": "operator_typo_directive on;"}))
    play = ansible_playbook("deploy.yml", "--tags", "nginx", "--extra-vars", f"@{extra_vars}")
    output = play.stdout + play.stderr
    assert play.returncode != 0, output
    assert 'unknown directive "operator_typo_directive"' in output, output
    assert "previous files are back in place" in output, output
    # The old site is back, nothing half-written is left, nginx was not reloaded.
    assert host.file(SITE).sha256sum == site_before
    assert host.run("nginx -t").rc == 0
    assert host.run("ls /etc/nginx/sites-available /etc/nginx/conf.d /etc/nginx | grep '~$'").stdout == ""
    assert host.check_output("systemctl show --property=MainPID --value nginx") == nginx_pid
    assert get("https://localhost/health").status == 200
    assert get("https://localhost/robots.txt").status == 200
    assert not host.file(f"{STATE}/{APP}.lock").exists
    entry = json.loads(host.check_output(f"tail -n 1 {STATE}/{APP}.audit.jsonl"))
    name = host.ansible.get_variables()["inventory_hostname"]
    assert (entry["result"], entry["failed_host"]) == ("failed", name), entry
    assert entry["failed_task"], entry
