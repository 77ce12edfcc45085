# The two commands of README.md. Both work on a fresh machine with Python 3.11 and the package registries.
.PHONY: setup demo test test-fast lint bench

setup:
	bash scripts/setup.sh

demo: setup
	HF_HUB_OFFLINE=1 .venv/bin/feedback-miner run --config configs/demo.yaml

test: setup
	-bash scripts/install_browser.sh
	HF_HUB_OFFLINE=1 .venv/bin/python -m pytest

# The inner loop: everything but the tests marked slow (real models, whole-job runs, simulation
# studies) and browser. No setup step: run `make setup` once.
test-fast:
	HF_HUB_OFFLINE=1 .venv/bin/python -m pytest -m "not slow and not browser"

lint:
	.venv/bin/ruff check feedback_miner tests benchmarks scripts
