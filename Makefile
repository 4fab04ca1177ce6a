PY := .venv/bin/python

.PHONY: setup demo test lint bench

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

# Benchmarks print one JSON object per line.
bench: setup
	@for b in bench/bench_*.py; do $(PY) $$b || exit 1; done
