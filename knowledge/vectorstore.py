"""Chroma, embedded or remote: the only module that imports chromadb.

PersistentClient under <data_dir>/chroma by default; HttpClient when FDE_CHROMA_URL is set
(`chroma run --path ... --port ...`). Telemetry is off and our own embedding function is
always passed, so Chroma never fetches its default model.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from core.errors import ConfigError
from knowledge.config import KnowledgeSettings
from knowledge.embedder import ChromaEmbeddingAdapter, Embedder

__all__ = ["open_client", "open_collection"]


def open_client(settings: KnowledgeSettings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"FDE_CHROMA_URL {settings.chroma_url!r} is not an http(s) URL",
                              hint="e.g. FDE_CHROMA_URL=http://127.0.0.1:8001")
        try:
            client = chromadb.HttpClient(
                host=url.hostname, port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https", settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise ConfigError(f"cannot reach the Chroma server at {settings.chroma_url}: {exc}",
                              hint="start it with `chroma run --path DIR --port PORT` or unset "
                                   "FDE_CHROMA_URL to use the embedded store") from None
        return client
    path = settings.effective_chroma_path
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def open_collection(client: Any, name: str, embedder: Embedder) -> Any:
    """Get or create the collection with cosine distance and our embedding function. A
    collection built with another model is dropped and recreated (vectors would not match)."""
    metadata = {"hnsw:space": "cosine", "model_id": embedder.model_id}
    function = ChromaEmbeddingAdapter(embedder)
    collection = client.get_or_create_collection(name=name, metadata=metadata,
                                                 embedding_function=function)
    if (collection.metadata or {}).get("model_id") != embedder.model_id:
        client.delete_collection(name)
        collection = client.create_collection(name=name, metadata=metadata,
                                              embedding_function=function)
    return collection
