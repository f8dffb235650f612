# gridsnap — the front door. Plain `make` lists the targets.
SHELL := /bin/bash
VENV := .venv
GS := $(VENV)/bin/gridsnap
PY := $(VENV)/bin/python
export PYTHONUNBUFFERED := 1

.DEFAULT_GOAL := help
.PHONY: help setup pwa run test screenshots bench reliability restore-drill lint services-up services-down clean-data

help: ## list the targets
	@echo "gridsnap — make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## install what is missing (Debian packages as root, Python deps in .venv)
	@bash backend/scripts/bootstrap.sh

pwa: setup ## build the field worker's app into pwa/dist with npm (npm ci when the lock file changed)
	@cd pwa && if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi && npm run build --silent

run: setup pwa ## start PostgreSQL+PostGIS and Redis under .var/, migrate, load the demo city, serve on :8000 (nginx, API, workers, relay under supervisord)
	@$(GS) run

# The tests of everything that reads a clock (tokens, deadlines, campaigns, indicators, upload
# expiry, calendar coverage, the outbox's retries) run again with the application's clock moved
# about three years before and after the machine's (tests/conftest.py, CLOCK_SHIFT) while
# PostgreSQL keeps the real date: a rule that mixes the application's clock with the database's,
# or a test that leans on today's date, fails there. `make test DATE_SHIFTS=` leaves them out.
DATE_SHIFTS ?= -1100 1100
DATED_TESTS := tests/test_auth.py tests/test_deadlines.py \
	tests/test_case_deadlines.py tests/test_campaigns.py tests/test_stats.py \
	tests/test_indicators_governance.py tests/test_governance_loop_indicators.py \
	tests/test_photo_uploads.py tests/test_calendar_coverage.py tests/test_followup_queue.py \
	tests/test_clock.py tests/test_resource_exhaustion.py tests/test_disputes.py \
	tests/test_patrols.py tests/test_patrol_table.py tests/test_catalogue.py \
	tests/test_repeat_callers.py tests/test_ranking.py tests/test_hotline_extensions.py \
	tests/test_hotline_figures.py tests/test_hot_spots_and_topics.py \
	tests/test_dispute_agreement_photos.py tests/test_repeat_requests.py \
	tests/test_hot_spot_proposals.py tests/test_call_taker_figures.py

# The photo tests run a second time with the photos in a bucket of the project-local S3 server
# (SeaweedFS under .var/s3, started like PostgreSQL and Redis): both photo stores pass the same
# tests. `make test S3_TESTS=` leaves them out.
S3_TESTS ?= tests/test_photos_api.py tests/test_photo_uploads.py \
	tests/test_resource_exhaustion.py tests/test_open311.py tests/test_dispute_agreement_photos.py

test: setup pwa ## the PWA's linter and unit tests, then every test against real PostgreSQL/PostGIS, Redis and an S3 server (SeaweedFS) and the PWA in Chromium, then the photo tests with the photos in S3, then the clock tests with the application's clock moved years away
	@cd pwa && npm run --silent lint && npm test --silent
	@GRIDSNAP_EXTRA_APT="chromium fonts-wqy-microhei systemd" bash backend/scripts/bootstrap.sh
	@GRIDSNAP_LOCAL_S3=1 $(GS) services run $(PY) -m pytest --durations=15 $(PYTEST_ARGS)
	@if [ -n "$(strip $(S3_TESTS))" ]; then \
	  echo "gridsnap: the photo tests again, the photos in a bucket of the local S3 server"; \
	  GRIDSNAP_LOCAL_S3=1 GRIDSNAP_TEST_PHOTO_STORE=s3 $(GS) services run \
	    $(PY) -m pytest -q -p no:cacheprovider $(S3_TESTS) || exit 1; \
	fi
	@for days in $(DATE_SHIFTS); do \
	  echo "gridsnap: the clock tests again, the application's clock moved $$days days (the database's is not)"; \
	  GRIDSNAP_TEST_CLOCK_SHIFT_DAYS=$$days $(GS) services run \
	    $(PY) -m pytest -q -p no:cacheprovider $(DATED_TESTS) || exit 1; \
	done

screenshots: setup pwa ## write docs/screenshots/ anew: the screen tests in Chromium, Chinese and English (only here)
	@GRIDSNAP_EXTRA_APT="chromium fonts-wqy-microhei" bash backend/scripts/bootstrap.sh
	@GRIDSNAP_SCREENSHOTS=1 $(GS) services run $(PY) -m pytest tests/browser/test_pwa_screens.py tests/browser/test_command_screens.py $(PYTEST_ARGS)

bench: setup pwa ## measure intake, follow-up, cases, stats and the PWA; figures to stdout, the run to docs/benchmarks-history.md, its targets to docs/benchmarks.md
	@GRIDSNAP_EXTRA_APT="wrk chromium fonts-wqy-microhei" bash backend/scripts/bootstrap.sh
	@$(GS) services run $(PY) -m bench.run $(BENCH_ARGS)

reliability: setup ## run the fault drills and write their figures to docs/reliability.md (DRILL_SCALE=10 for more)
	@DRILL_SCALE=$(or $(DRILL_SCALE),1) $(GS) services run $(PY) -m bench.reliability $(PYTEST_ARGS)

restore-drill: setup ## back up a PostgreSQL of its own with pgBackRest (WAL archive + full backup), write reports and photos, lose the disk, restore the latest point, check every acknowledged one is back; figures to docs/reliability.md
	@GRIDSNAP_EXTRA_APT="pgbackrest openssl" bash backend/scripts/bootstrap.sh
	@$(PY) -m bench.restore_drill

lint: setup pwa ## ruff on the Python, the import contracts (layers, no circles: pyproject.toml), eslint on pwa/
	@$(VENV)/bin/ruff check backend tests bench tools
	@$(VENV)/bin/lint-imports --no-logo
	@cd pwa && npm run --silent lint

services-up: setup ## start the local PostgreSQL and Redis, and SeaweedFS if GRIDSNAP_LOCAL_S3=1 (for gridsnap commands in another terminal)
	@$(GS) services up

services-down: ## stop the local PostgreSQL, Redis and SeaweedFS (data stays)
	@$(GS) services down

clean-data: services-down ## delete .var/ (database, Redis, photos): the demo city is loaded anew
	@if [ -f .var/pg-location ]; then rm -rf "$$(dirname "$$(cat .var/pg-location)")"; fi
	rm -rf .var
