"""`rag models pull NAME`: the one command that downloads. It copies a model's files from a Hugging Face
hub (its file listing, then each file) into a folder of its own under the models directory, resuming
a cut-off file where it stopped and refusing a file whose size or checksum differs from the listing's
(sha256 for large files, the git blob hash for small ones). ``rag-model.json`` in the folder records
what was fetched: name, revision, kind of reader, and each file's size and sha256.

Only what a reader loads is fetched: configuration, tokenizer and safetensors weights (never pickled
``.bin`` weights, which can run code when loaded, nor other frameworks' copies).
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rag.errors import ModelDownloadError
from rag.models.local import checkpoint_kind, model_folder

DEFAULT_ENDPOINT = "https://huggingface.co"
RECORD = "rag-model.json"
# What a reader loads; everything else in a model repository (other frameworks' weights, ONNX and
# pickled copies, images, READMEs) is left on the hub.
_WANTED_SUFFIXES = (".json", ".txt", ".model", ".safetensors", ".tiktoken")
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class ModelFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PulledModel:
    name: str
    revision: str
    kind: str  # "qa", "seq2seq", or "other"
    folder: Path
    files: tuple[ModelFile, ...]
    pulled: str = ""

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "folder": str(self.folder), "size": self.size}


def pull(name: str, models_dir: Path, endpoint: str = DEFAULT_ENDPOINT, revision: str = "main",
         token: str | None = None, progress: bool = True) -> PulledModel:
    """Download model ``name`` into ``models_dir``; files already there whole are kept."""
    if not name or name.count("/") > 1 or any(part in ("", ".", "..") for part in name.split("/")):
        raise ModelDownloadError(f"{name!r} is not a hub model name; give one like deepset/tinyroberta-squad2")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    listing = _listing(name, endpoint, revision, headers)
    commit = str(listing.get("sha") or revision)
    files = _wanted(listing.get("siblings") or [])
    if not files:
        raise ModelDownloadError(f"{name} has no safetensors weights or configuration to fetch at {endpoint}")
    folder = model_folder(models_dir, name)
    folder.mkdir(parents=True, exist_ok=True)
    fetched = []
    for sibling in files:
        url = f"{endpoint.rstrip('/')}/{name}/resolve/{commit}/{urllib.parse.quote(sibling['rfilename'])}"
        fetched.append(_fetch(url, folder / sibling["rfilename"], sibling, headers, progress))
    model = PulledModel(name, commit, checkpoint_kind(folder), folder, tuple(fetched), date.today().isoformat())
    (folder / RECORD).write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    return model


def pulled_models(models_dir: Path) -> list[PulledModel]:
    """The models pulled into ``models_dir``, by name."""
    found = []
    for record in sorted(Path(models_dir).glob(f"*/{RECORD}")):
        try:
            data = json.loads(record.read_text(encoding="utf-8"))
            found.append(PulledModel(data["name"], data["revision"], data["kind"], record.parent,
                                     tuple(ModelFile(**file) for file in data["files"]), data.get("pulled", "")))
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a folder being pulled, or not rag's: not listed
    return found


def _listing(name: str, endpoint: str, revision: str, headers: dict) -> dict:
    url = f"{endpoint.rstrip('/')}/api/models/{name}/revision/{urllib.parse.quote(revision, safe='')}?blobs=true"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        hint = "check the name" if error.code in (401, 404) else "try again later"
        gated = " (a gated model needs HF_TOKEN)" if error.code in (401, 403) else ""
        raise ModelDownloadError(f"the hub at {endpoint} answered {error.code} for {name}{gated}; {hint}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ModelDownloadError(f"cannot reach the hub at {endpoint} ({error}); check the network or HF_ENDPOINT"
                                 ) from None


def _wanted(siblings: list[dict]) -> list[dict]:
    return [sibling for sibling in siblings
            if (path := sibling.get("rfilename", "")).endswith(_WANTED_SUFFIXES) and "/" not in path
            and not path.startswith(".") and not path.endswith(".bin.index.json")]


def _fetch(url: str, target: Path, sibling: dict, headers: dict, progress: bool) -> ModelFile:
    """One file, resumed from its ``.part`` when a download was cut off, checked before it is kept."""
    lfs = sibling.get("lfs") or {}
    size = int(lfs.get("size") or sibling.get("size") or 0)
    if target.is_file() and target.stat().st_size == size and _matches(target, sibling):
        return ModelFile(target.name, size, _sha256(target))
    partial = target.with_name(target.name + ".part")
    have = partial.stat().st_size if partial.is_file() else 0
    if have > size:
        partial.unlink()
        have = 0
    if have < size or size == 0:
        _download(url, partial, have, size, headers, progress)
    if partial.stat().st_size != size and size:
        raise ModelDownloadError(f"{target.name}: got {partial.stat().st_size:,} bytes of {size:,}; "
                                 "run the same rag models pull again to resume")
    if not _matches(partial, sibling):
        partial.unlink()
        raise ModelDownloadError(f"{target.name}: checksum differs from the hub's listing, so it was discarded; "
                                 "run the same rag models pull again (if it keeps failing, the mirror is corrupt)")
    partial.replace(target)
    return ModelFile(target.name, size, _sha256(target))


def _download(url: str, partial: Path, have: int, size: int, headers: dict, progress: bool) -> None:
    from tqdm import tqdm

    request = urllib.request.Request(url, headers={**headers, **({"Range": f"bytes={have}-"} if have else {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            resumed = have and response.status == 206
            with (open(partial, "ab" if resumed else "wb") as out,
                  tqdm(total=size or None, initial=have if resumed else 0, unit="B", unit_scale=True,
                       desc=partial.name.removesuffix(".part"), disable=not progress) as bar):
                _copy(response.read, out.write, bar.update)
    except urllib.error.HTTPError as error:
        raise ModelDownloadError(f"the hub answered {error.code} for {url}; try again later") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise ModelDownloadError(f"download of {partial.name.removesuffix('.part')} stopped ({error!r}); run the "

                                 "same rag models pull again to resume") from None


def _copy(read: Callable[[int], bytes], write: Callable[[bytes], object], advance: Callable[[int], object]) -> None:
    while block := read(_CHUNK_BYTES):
        write(block)
        advance(len(block))


def _matches(path: Path, sibling: dict) -> bool:
    """Whether a file is the one listed: its sha256 (large files) or its git blob hash (small ones)."""
    lfs = sibling.get("lfs") or {}
    if lfs.get("sha256"):
        return _sha256(path) == lfs["sha256"]
    if sibling.get("blobId"):
        content = path.read_bytes()
        return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest() == sibling["blobId"]
    return True  # the listing gave no checksum to hold it to: its size was checked


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        _copy(handle.read, digest.update, lambda _: None)
    return digest.hexdigest()
