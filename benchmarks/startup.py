"""What every night pays before any work: imports and model loads, each in a fresh process.

Prints CPU seconds (``time.process_time()``, what a loaded machine inflates least) and wall seconds
of each start-up step, after ``import numpy, pandas``; "before" rows replay what the code did before
issue #23 cut them. Run from the checkout (models installed)::

    python benchmarks/startup.py

UMAP's numba compilation is timed with an empty cache folder (first process on a machine) and again
with the folder the first one filled (every later process).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

UMAP_FIT = """
import numpy as np
from feedback_miner.themes.umap_cache import import_umap
umap = import_umap()
X = np.random.default_rng(0).normal(size=(300, 20)).astype('float32')
umap.UMAP(n_neighbors=10, init='pca', random_state=0).fit_transform(X)
"""

STEPS = {
    "imports of feedback_miner.pipeline": "import feedback_miner.pipeline",
    "name stop words, before (spaCy's modules: spaCy, torch, French tokenizer)": (
        "from spacy.lang.en.stop_words import STOP_WORDS\nfrom spacy.lang.fr.stop_words import STOP_WORDS\n"
        "from spacy.lang.it.stop_words import STOP_WORDS\nfrom spacy.lang.ro.stop_words import STOP_WORDS"),
    "name stop words, now (read from the files)":
        "from feedback_miner.prepare.pii.names import stop_words\nstop_words()",
    "language id, before (two model loads)": (
        "from py3langid.langid import MODEL_FILE, LanguageIdentifier\n"
        "LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)\n"
        "LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True).set_languages(['en', 'fr', 'it', 'ro'])"),
    "language id, now (one load, restricted copy)":
        "from feedback_miner.prepare.language import _identifier\n_identifier(None)\n"
        "_identifier(('en', 'fr', 'it', 'ro'))",
    "spaCy import (thinc imports torch)": "import spacy",
    "spaCy + French language class (tokenizer regex)": "import spacy\nspacy.blank('fr')",
    "NER pipelines en + fr (spaCy imports included)":
        "from feedback_miner.prepare.pii.names import load_ner\nload_ner('en')\nload_ner('fr')",
    "embedder e5-small, before (both graphs parsed by onnx + session)": (
        "import onnx\nfrom feedback_miner.embedding_models import default_models_dir, load_model_embedder\n"
        "for f in ('model.onnx', 'model_qint8.onnx'):\n"
        "    onnx.load(str(default_models_dir() / 'e5-small' / 'onnx' / f), load_external_data=False)\n"
        "load_model_embedder('e5-small').encode(['hello'])"),
    "embedder e5-small, now (session opened by the first encode)":
        "from feedback_miner.embedding_models import load_model_embedder\n"
        "load_model_embedder('e5-small').encode(['hello'])",
    "embedder e5-small-int8, now":
        "from feedback_miner.embedding_models import load_model_embedder\n"
        "load_model_embedder('e5-small-int8').encode(['hello'])",
}

WRAP = "import numpy, pandas\nimport time\nt, w = time.process_time(), time.perf_counter()\n{}\n" \
       "print(round(time.process_time() - t, 2), round(time.perf_counter() - w, 2))"


def timed(code: str, env: dict | None = None) -> tuple[str, str]:
    proc = subprocess.run([sys.executable, "-c", WRAP.format(code)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return "error", proc.stderr.strip().splitlines()[-1][:60]
    cpu, wall = proc.stdout.split()[-2:]
    return cpu, wall


def main() -> None:
    import os

    print(f"{'step':75s} {'CPU s':>7s} {'wall s':>7s}")
    for name, code in STEPS.items():
        cpu, wall = timed(code)
        print(f"{name:75s} {cpu:>7s} {wall:>7s}", flush=True)
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for name in ("UMAP import + first fit, empty numba cache (first process)",
                     "UMAP import + first fit, cache filled (every later process)"):
            cpu, wall = timed(UMAP_FIT, env)
            print(f"{name:75s} {cpu:>7s} {wall:>7s}", flush=True)


if __name__ == "__main__":
    main()
