"""Data for the course: vocabularies, the names file, the novel, splits and batches.

- ``Vocab``: token <-> id maps at character or word level (00_introduction, 04_names_generator).
- ``load_names``: the committed Russian names (01_rnn_by_hand, 04_names_generator).
- ``load_text``: «Анна Каренина», downloaded once, sha256-checked and cleaned (07_text_generator).
- splits and batches: ``train_val_split``, ``split_contiguous``, ``pad_sequences``, ``batchify``,
  ``bptt_batches``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
import tempfile
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
NAMES_PATH = REPO_ROOT / "data" / "names_ru.csv"
DEFAULT_CACHE = REPO_ROOT / "data" / "cache"
DATA_DIR_ENV = "LECTURE_DATA_DIR"

SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------


@dataclass
class Vocab:
    """A token <-> id map. Special tokens, when present, take the first ids.

    Build it with :meth:`Vocab.from_text`. ``level="char"`` splits strings into characters,
    ``level="word"`` splits them on whitespace (or takes lists of tokens as they are).
    """

    itos: list[str]  # id -> token
    level: str = "char"  # "char" or "word": how strings are split and joined
    stoi: dict[str, int] = field(init=False, repr=False)  # token -> id

    def __post_init__(self) -> None:
        if self.level not in ("char", "word"):
            raise ValueError(f"level must be 'char' or 'word', got {self.level!r}")
        if len(set(self.itos)) != len(self.itos):
            raise ValueError("a vocabulary cannot contain the same token twice")
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}

    # ---- construction ------------------------------------------------------------------------
    @classmethod
    def from_text(
        cls,
        text: str | Iterable[str],
        level: str = "char",
        specials: Sequence[str] = (),
        max_size: int | None = None,
        min_freq: int = 1,
    ) -> Vocab:
        """Build a vocabulary from ``text`` (a str, or an iterable of str that is pooled).

        Characters are ordered alphabetically; words by frequency (most frequent first, ties in
        order of first appearance). ``specials`` (any of ``<pad> <bos> <eos> <unk>``) take ids
        0, 1, ... in the order given. ``max_size`` / ``min_freq`` cap the ordinary tokens; the
        tokens left out are then encoded as ``<unk>``, so a cap needs ``"<unk>"`` in ``specials``.
        """
        if level not in ("char", "word"):
            raise ValueError(f"level must be 'char' or 'word', got {level!r}")
        unknown = [s for s in specials if s not in SPECIALS]
        if unknown:
            raise ValueError(f"unknown special token(s) {unknown}; allowed: {list(SPECIALS)}")
        if len(set(specials)) != len(specials):
            raise ValueError(f"specials repeat a token: {list(specials)}")
        if (max_size is not None or min_freq > 1) and "<unk>" not in specials:
            raise ValueError("max_size/min_freq drop tokens, so specials must include '<unk>'")
        pieces = [text] if isinstance(text, str) else list(text)
        counts: Counter[str] = Counter()
        for piece in pieces:
            if not isinstance(piece, str):
                raise TypeError(
                    f"text must be a str or an iterable of str, got {type(piece).__name__}"
                )
            counts.update(piece if level == "char" else piece.split())
        for s in specials:
            counts.pop(s, None)
        if not counts:
            raise ValueError("cannot build a vocabulary from empty text")
        if level == "char":
            tokens = sorted(counts)
        else:
            tokens = [tok for tok, _ in counts.most_common()]  # stable: ties keep first appearance
        tokens = [t for t in tokens if counts[t] >= min_freq]
        if max_size is not None:
            tokens = tokens[:max_size]
        return cls(list(specials) + tokens, level=level)

    def to_dict(self) -> dict:
        """A plain dict (lists and strings only) for checkpoints; see :meth:`from_dict`."""
        return {"itos": list(self.itos), "level": self.level}

    @classmethod
    def from_dict(cls, d: dict) -> Vocab:
        """Rebuild a vocabulary saved with :meth:`to_dict`."""
        try:
            return cls(list(d["itos"]), level=d["level"])
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a saved vocabulary: {exc}") from None

    # ---- ids of special tokens (None when absent) --------------------------------------------
    @property
    def pad(self) -> int | None:
        return self.stoi.get("<pad>")

    @property
    def bos(self) -> int | None:
        return self.stoi.get("<bos>")

    @property
    def eos(self) -> int | None:
        return self.stoi.get("<eos>")

    @property
    def unk(self) -> int | None:
        return self.stoi.get("<unk>")

    @property
    def specials(self) -> list[str]:
        """The special tokens this vocabulary has, in id order."""
        return [t for t in self.itos if t in SPECIALS]

    # ---- encoding ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and (self.itos, self.level) == (other.itos, other.level)

    def tokenize(self, seq: str | Sequence[str]) -> list[str]:
        """Split a string into tokens for this level; a list of tokens is returned as it is."""
        if isinstance(seq, str):
            return list(seq) if self.level == "char" else seq.split()
        return list(seq)

    def encode(self, seq: str | Sequence[str]) -> list[int]:
        """Token ids of ``seq`` (a str, or a list of tokens). Shape: (T,) as a list.

        An unknown token raises ``ValueError`` naming it, unless the vocabulary has ``<unk>``.
        """
        ids = []
        for pos, tok in enumerate(self.tokenize(seq)):
            idx = self.stoi.get(tok)
            if idx is None:
                if self.unk is None:
                    raise ValueError(
                        f"unknown {'character' if self.level == 'char' else 'word'} {tok!r} "
                        f"at position {pos}: it is not in this vocabulary of {len(self)} tokens "
                        "(build the vocabulary from text that contains it, or add '<unk>')"
                    )
                idx = self.unk
            ids.append(idx)
        return ids

    def decode(self, ids: Iterable[int], skip_specials: bool = False) -> str:
        """The string for ``ids`` (ints or a 1-D tensor); words are joined with spaces."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        tokens = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is out of range for a vocabulary of {len(self)} tokens")
            tok = self.itos[i]
            if skip_specials and tok in SPECIALS:
                continue
            tokens.append(tok)
        return ("" if self.level == "char" else " ").join(tokens)


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------

_NAME_RE = re.compile(r"[а-яё]+(?:-[а-яё]+)*")


def load_names_with_gender(path: str | os.PathLike | None = None) -> list[tuple[str, str]]:
    """``(name, gender)`` pairs from a ``name,gender`` CSV (gender ``f`` or ``m``).

    Default: the committed ``data/names_ru.csv``. Names are returned lower-case, in file order.
    """
    path = Path(path) if path is not None else NAMES_PATH
    if not path.is_file():
        raise FileNotFoundError(
            f"names file {path} not found; the course ships it as data/names_ru.csv "
            "(is the repository checked out whole?)"
        )
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:2]] != ["name", "gender"]:
            raise ValueError(f"{path}: the first line must be the header 'name,gender'")
        rows = []
        for lineno, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{lineno}: expected 2 columns 'name,gender', got {row}")
            name, gender = row[0].strip().lower(), row[1].strip().lower()
            if not _NAME_RE.fullmatch(name):
                raise ValueError(
                    f"{path}:{lineno}: {name!r} is not a name of Cyrillic letters and hyphens"
                )
            if gender not in ("f", "m"):
                raise ValueError(f"{path}:{lineno}: gender must be 'f' or 'm', got {gender!r}")
            rows.append((name, gender))
    if not rows:
        raise ValueError(f"{path}: no names in the file")
    return rows


def load_names(path: str | os.PathLike | None = None, gender: str | None = None) -> list[str]:
    """Russian first names, lower-case (``gender="f"`` or ``"m"`` keeps one gender).

    Default: the committed ``data/names_ru.csv``.
    """
    if gender not in (None, "f", "m"):
        raise ValueError(f"gender must be None, 'f' or 'm', got {gender!r}")
    return [n for n, g in load_names_with_gender(path) if gender is None or g == gender]


# --------------------------------------------------------------------------------------------
# Large texts: download once, check, clean
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextSource:
    """Where a large text comes from and how to recognise the right file."""

    url: str  # pinned download address
    sha256: str  # checksum of the raw file as downloaded
    filename: str  # name of the raw file in the cache folder
    start: str  # the cleaned text starts at the first line that contains this
    end: str  # ... and ends with the last line that contains this
    drop_lines_with: str = ""  # lines containing this are removed (site banners)


TEXT_SOURCES = {
    "anna_karenina": TextSource(
        url=(
            "https://raw.githubusercontent.com/mannefedov/compling_nlp_hse_course/"
            "23cb31fa61d0bc7c18862b7dd4a9aab23f968ac2/data/anna_karenina.txt"
        ),
        sha256="d4db3769260626e3a88118be990850659491a83de6d6c69fa0198ec04648852c",
        filename="anna_karenina.txt",
        start="Мне отмщение, и аз воздам",
        end="1873–1877",
        drop_lines_with="Librs.net",
    )
}


class DataUnavailableError(RuntimeError):
    """The data file is missing and could not be downloaded, or it is corrupted."""


def default_cache_dir() -> Path:
    """``$LECTURE_DATA_DIR`` when set, else ``data/cache/`` in the repository."""
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else DEFAULT_CACHE


def sha256_of(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: str | os.PathLike, sha256: str, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, check its sha256, write atomically.

    The bytes go to a temporary file next to ``dest``, which replaces ``dest`` only after the
    checksum matched; an interrupted or wrong download leaves no file behind. Raises
    :class:`DataUnavailableError` with what to do on any failure.
    """
    from tqdm.auto import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name) as bar:
                while chunk := resp.read(1 << 16):
                    out.write(chunk)
                    h.update(chunk)
                    bar.update(len(chunk))
            if total is not None and bar.n != total:
                raise DataUnavailableError(
                    f"download of {url} was interrupted: got {bar.n} of {total} bytes; try again"
                )
        if h.hexdigest() != sha256:
            raise DataUnavailableError(
                f"the file downloaded from {url} has sha256 {h.hexdigest()}, expected {sha256}: "
                "the download is corrupted or the source changed; nothing was saved"
            )
        os.replace(tmp, dest)
        return dest
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DataUnavailableError(f"could not download {url}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def clean_text(raw: str, source: TextSource) -> str:
    """Cut the front and back matter: keep the lines from ``source.start`` to ``source.end``.

    Drops site-banner lines and collapses runs of blank lines into one blank line.
    """
    lines = raw.replace("\r\n", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if source.start in line]
    ends = [i for i, line in enumerate(lines) if source.end in line]
    if not starts or not ends or ends[-1] < starts[0]:
        raise ValueError(
            f"the text does not contain the expected start {source.start!r} and end {source.end!r}"
        )
    kept = lines[starts[0] : ends[-1] + 1]
    if source.drop_lines_with:
        kept = [line for line in kept if source.drop_lines_with not in line]
    text = "\n".join(line.rstrip() for line in kept)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def load_text(
    name: str = "anna_karenina",
    cache_dir: str | os.PathLike | None = None,
    source: TextSource | None = None,
    timeout: float = 30.0,
) -> str:
    """A large text, cleaned so that it starts at the work itself (07_text_generator).

    Looks for ``<cache_dir>/<file>`` (the raw file as downloaded; ``cache_dir`` defaults to
    ``$LECTURE_DATA_DIR``, else ``data/cache/``), checks its sha256, and downloads it from the
    pinned URL when it is missing. Offline without a cached copy, or with a corrupted copy, raises
    :class:`DataUnavailableError` saying how to get the file.
    """
    if source is None:
        if name not in TEXT_SOURCES:
            raise ValueError(f"unknown text {name!r}; known: {sorted(TEXT_SOURCES)}")
        source = TEXT_SOURCES[name]
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / source.filename
    how_to = (
        f"Download {source.url} by hand and save it as {path} "
        f"(or set {DATA_DIR_ENV} to a folder that holds {source.filename})."
    )
    if path.is_file():
        actual = sha256_of(path)
        if actual != source.sha256:
            raise DataUnavailableError(
                f"{path} is corrupted: sha256 {actual}, expected {source.sha256}. "
                f"Delete it and run again to download it anew. {how_to}"
            )
    else:
        try:
            download(source.url, path, source.sha256, timeout=timeout)
        except DataUnavailableError as exc:
            raise DataUnavailableError(f"{name}: no cached copy and {exc}. {how_to}") from exc
    return clean_text(path.read_text(encoding="utf-8"), source)


# --------------------------------------------------------------------------------------------
# Splits and batches
# --------------------------------------------------------------------------------------------


def train_val_split(items: Sequence, val_fraction: float = 0.1, seed: int = 0) -> tuple[list, list]:
    """Shuffle ``items`` with ``seed`` and split off ``val_fraction`` of them for validation."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    items = list(items)
    if len(items) < 2:
        raise ValueError("need at least two items to split")
    random.Random(seed).shuffle(items)
    n_val = max(1, round(len(items) * val_fraction))
    return items[n_val:], items[:n_val]


def split_contiguous(seq: Sequence, fractions: Sequence[float] = (0.9, 0.05, 0.05)) -> tuple:
    """Cut ``seq`` into contiguous parts of the given fractions, in order (e.g. train/val/test).

    Contiguous parts keep a text's end unseen in training, unlike a shuffled split.
    """
    if not fractions or any(f <= 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be positive and sum to 1, got {list(fractions)}")
    n = len(seq)
    bounds = [0]
    acc = 0.0
    for f in fractions[:-1]:
        acc += f
        bounds.append(round(n * acc))
    bounds.append(n)
    return tuple(seq[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def pad_sequences(seqs: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack sequences of ids into one batch padded with ``pad_id``.

    Returns ``(batch (B, T_max) long, lengths (B,) long)``.
    """
    if len(seqs) == 0:
        raise ValueError("pad_sequences needs at least one sequence")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    if int(lengths.min()) == 0:
        raise ValueError("pad_sequences got an empty sequence")
    batch = torch.full((len(seqs), int(lengths.max())), pad_id, dtype=torch.long)
    for i, s in enumerate(seqs):
        batch[i, : len(s)] = torch.as_tensor(list(s), dtype=torch.long)
    return batch, lengths


def batchify(ids: Sequence[int] | torch.Tensor, n_streams: int) -> torch.Tensor:
    """Cut one long id sequence into ``n_streams`` contiguous streams: (B, L), B = n_streams.

    The tail that does not fill a whole row is dropped. Row b continues where it left off from
    one truncated-BPTT batch to the next, which is why the hidden state can be carried over::

        ids:  a b c d e f g h i j k l     n_streams=3  ->  [[a b c d],
                                                            [e f g h],
                                                            [i j k l]]
    """
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    if n_streams < 1:
        raise ValueError(f"n_streams must be >= 1, got {n_streams}")
    length = ids.numel() // n_streams
    if length < 2:
        raise ValueError(f"{ids.numel()} tokens are too few for {n_streams} streams")
    return ids[: n_streams * length].view(n_streams, length)


def bptt_batches(
    streams: torch.Tensor, seq_len: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive windows over ``streams`` (B, L): yields ``(x (B, T), y (B, T))``, y = x shifted by one.

    T = ``seq_len`` except possibly the last window, which is shorter.
    """
    if streams.dim() != 2:
        raise ValueError(f"streams must be 2-D (B, L), got shape {tuple(streams.shape)}")
    if seq_len < 1:
        raise ValueError(f"seq_len must be >= 1, got {seq_len}")
    total = streams.size(1) - 1  # the last column has no next token
    for start in range(0, total, seq_len):
        t = min(seq_len, total - start)
        yield streams[:, start : start + t], streams[:, start + 1 : start + 1 + t]
