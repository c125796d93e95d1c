# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make run    install into .venv, index the bundled bulletins if needed, start the assistant
#   make test   install into .venv (with test extras) and run the tests
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test bench clean-index browser
# Browser tests use Debian's Chromium (Playwright's own browser download cannot work offline)
# and a CJK font so screenshots show Chinese.
BROWSER_PKGS := chromium chromium-driver fonts-noto-cjk

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

browser:
	@if [ -x /usr/bin/chromium ] && fc-list :lang=zh 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PKGS) >/dev/null; \
	else echo "note: browser tests need: sudo apt-get install $(BROWSER_PKGS)"; fi

test: setup browser
	$(PY) -m pytest -q

bench: setup
	$(PY) bench/bench_core.py

clean-index:
	rm -rf data/index data/index.cache data/index.reports
