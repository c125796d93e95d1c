# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    install into .venv, index the bundled bulletins if needed, start the assistant
#   make test   install into .venv (with test extras) and run the tests (make test-fast: unit tests only)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast lint bench clean-index system-packages
# Debian packages the tests use: Chromium and a CJK font for the browser tests (Playwright's
# own browser download cannot work offline), Tesseract with its Chinese model for OCR of
# scanned bulletins, LibreOffice (no GUI) to read legacy .doc/.wps files.
SYSTEM_PKGS := chromium chromium-driver fonts-noto-cjk tesseract-ocr tesseract-ocr-chi-sim libreoffice-writer-nogui

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU build of torch from this machine's disk, before anything asks for torch.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

data/index/manifest.json: | $(STAMP)
	$(PY) -m ingest data/bulletins

run: setup data/index/manifest.json
	$(PY) app.py

system-packages:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q . && command -v tesseract >/dev/null \
	    && tesseract --list-langs 2>/dev/null | grep -qx chi_sim && command -v soffice >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PKGS) >/dev/null; \
	else echo "note: some tests need: sudo apt-get install $(SYSTEM_PKGS)"; fi

test: setup system-packages
	$(PY) -m pytest -q

# The unit tests alone (tests/unit: no model, no server, no subprocess): seconds.
test-fast: setup
	$(PY) -m pytest -q -n 2 tests/unit

# Style: ruff's lint rules and formatter (settings in pyproject.toml, [tool.ruff]).
lint: setup
	$(PY) -m ruff check . && $(PY) -m ruff format --check .

bench: setup
	$(PY) bench/bench_core.py

clean-index:
	rm -rf data/index data/index.cache data/index.reports
