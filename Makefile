# The two commands a user needs: `make deploy` and `make test`.
# Everything else is a step of those two, runnable on its own.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Molecule and ansible-playbook must find the venv's tools first.
export PATH := $(abspath $(BIN)):$(PATH)

# Molecule runs the default scenario (deploy, idempotence, then tests that only
# read and probe) on each of these (scripts/sandbox-image names).
DISTROS ?= debian12
# ... and on these from a Debian 13 controller on the newest ansible-core (2.21)
# (scripts/newest-core; a deprecation warning fails it).
NEWEST_DISTROS ?= debian13
# ... and the collection scenario (built, installed and used from a user's own
# repository, examples/infra; ansible-lint on the newest core) on the newest core on these.
COLLECTION_DISTROS ?= debian13
# ... and the release scenario (the same deploy, then further deploys: releases,
# rollback, drift put back, check mode, a refused nginx snippet) on these.
RELEASE_DISTROS ?= debian12
# ... and the monitoring scenario (Prometheus, exporters, alerts on top of the
# deployment; about 5 minutes each) on these.
MONITORING_DISTROS ?= debian12
# ... and the file-logs scenario (app_log_destination: file, logrotate) on these.
FILELOGS_DISTROS ?= debian12
# ... and the tuned scenario (server settings, uvicorn mode, bad inventories) on these.
TUNED_DISTROS ?= debian12
# ... and the multiapp scenario (two apps on one host) on these.
MULTIAPP_DISTROS ?= debian12
# ... and the cluster scenario (1 web + 2 app hosts: rolling deploys and restarts
# under load, a failing release, a stopped app host) on these.
CLUSTER_DISTROS ?= debian12
# ... and the database scenario (examples/shelf, a uv project, then examples/notes,
# Poetry-locked, on 2 app hosts with a PostgreSQL host: migrations, rollback) on these.
DATABASE_DISTROS ?= debian13
# ... and the acme scenario (a pebble CA, 2 web hosts: issuance, renewal under
# load, the renewed certificate on the second host, a name the CA refuses) on these.
ACME_DISTROS ?= debian12

# Molecule jobs (<scenario>:<distro>), longest first, MOLECULE_JOBS at a time
# (scripts/molecule_jobs.py: one log per job in build/molecule-logs/).
MOLECULE_JOBS ?= 2
MOLECULE_JOB_LIST := $(addprefix default:,$(firstword $(DISTROS))) $(addprefix release:,$(RELEASE_DISTROS)) \
  $(addprefix cluster:,$(CLUSTER_DISTROS)) $(addprefix database:,$(DATABASE_DISTROS)) \
  $(addprefix monitoring:,$(MONITORING_DISTROS)) $(addprefix acme:,$(ACME_DISTROS)) \
  $(addsuffix @newest,$(addprefix default:,$(NEWEST_DISTROS))) $(addprefix default:,$(wordlist 2,99,$(DISTROS))) \
  $(addsuffix @newest,$(addprefix collection:,$(COLLECTION_DISTROS))) \
  $(addprefix tuned:,$(TUNED_DISTROS)) \
  $(addprefix multiapp:,$(MULTIAPP_DISTROS)) $(addprefix filelogs:,$(FILELOGS_DISTROS))

.PHONY: help venv docker images sandbox deploy test lint unit test-molecule docs collection bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt app/pyproject.toml app/constraints.txt roles/app/files/deploy_observe/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -c app/constraints.txt -c roles/app/files/deploy_observe/constraints.txt -e app
	@$(BIN)/python -c 'import sys; sys.exit(sys.version_info < (3, 12))' || echo "notice: Python 3.11 runs ansible-core 2.19, end of life since November 2026: make venv PYTHON=python3.13 (Debian 13's python3) gets ansible-core 2.21"
	touch $@

venv: $(BIN)/.installed ## Install the pinned controller tools into .venv

docker: ## Check that a Docker daemon answers (as root on Debian: install and start one)
	scripts/ensure-docker --with-mmdebstrap

images: docker ## Build the systemd base images the scenarios use (reused when unchanged)
	for distro in $(sort $(DISTROS) $(NEWEST_DISTROS) $(COLLECTION_DISTROS) $(RELEASE_DISTROS) $(MONITORING_DISTROS) $(FILELOGS_DISTROS) $(TUNED_DISTROS) $(MULTIAPP_DISTROS) $(CLUSTER_DISTROS) $(DATABASE_DISTROS) $(ACME_DISTROS)); do scripts/sandbox-image $$distro; done

sandbox: venv docker ## Create (or start) the local sandbox host container (Debian 12)
	scripts/sandbox-image debian12
	scripts/sandbox up

deploy: sandbox ## Deploy into the local sandbox and print its URL
	$(BIN)/ansible-playbook -i inventory/sandbox playbooks/deploy.yml
	scripts/sandbox url

lint: venv ## yamllint, ansible-lint (production profile), ruff, shellcheck, role READMEs, Markdown links
	$(BIN)/yamllint --strict .
	# Ansible's YAML loader takes a key after a merge (<<: *anchor, molecule/*/molecule.yml,
	# read by Molecule only) for a duplicate; yamllint's key-duplicates rule above catches
	# plain ones, playbooks/tests/test_yaml_keys.py those Ansible warns about on a run.
	ANSIBLE_DUPLICATE_YAML_DICT_KEY=ignore $(BIN)/ansible-lint --profile production
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/shellcheck scripts/ensure-docker scripts/sandbox scripts/sandbox-image scripts/newest-core .ci/run
	$(BIN)/python scripts/role_docs.py --check
	$(BIN)/python scripts/md_links.py

docs: venv ## Regenerate each role's README variable block from its argument_specs
	$(BIN)/python scripts/role_docs.py

unit: venv ## Unit tests: the app, the benchmark parser, the rendered logging module
	$(BIN)/pytest -q

test-molecule: venv images ## molecule test: default on $(DISTROS) (and on the newest core on $(NEWEST_DISTROS)), the other scenarios on their *_DISTROS, $(MOLECULE_JOBS) at a time
	$(BIN)/python scripts/molecule_jobs.py --jobs $(MOLECULE_JOBS) $(MOLECULE_JOB_LIST)

test: lint unit test-molecule ## Everything: lint, unit tests, Molecule

collection: venv ## Build the collection fastapi_deploy.server (galaxy.yml) into build/collection/
	rm -rf build/collection
	$(BIN)/ansible-galaxy collection build --output-path build/collection

bench: venv docker ## Serving throughput, deploy speed over docker exec and SSH, fleet growth; writes bench/results*.{md,json,png} (about 16 min)
	scripts/sandbox-image debian12
	$(BIN)/python scripts/bench.py --out bench

clean: ## Remove the sandbox container and build outputs (keeps images and .venv)
	-scripts/sandbox down
	rm -rf build
