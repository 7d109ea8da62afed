# The Rust extension (python/src/lib.rs). Every function takes and returns JSON text.
from typing import Callable, Optional

__version__: str

class NativeError(Exception): ...

def render(
    spec_json: Optional[str] = None,
    spec_path: Optional[str] = None,
    *,
    output: Optional[str] = None,
    base_dir: Optional[str] = None,
    media_root: Optional[str] = None,
    quality: Optional[str] = None,
    progress: Optional[Callable[[int, int], Optional[bool]]] = None,
    scene_cache: bool = True,
    audio_cache: bool = True,
    threads: int = 0,
) -> str: ...
def validate(
    spec_json: Optional[str] = None,
    spec_path: Optional[str] = None,
    *,
    base_dir: Optional[str] = None,
    media_root: Optional[str] = None,
) -> str: ...
def probe(path: str) -> str: ...
def schema() -> str: ...
