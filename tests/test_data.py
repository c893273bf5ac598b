import hashlib
import http.server
import socket
import threading
from pathlib import Path

import pytest
import torch

from lecture_utils import data
from lecture_utils.data import DataUnavailableError, TextSource, Vocab

# ---------------------------------------------------------------------------------- Vocab


def test_char_vocab_specials_first_then_sorted_chars():
    v = Vocab.from_text(["анна", "ян"], specials=("<pad>", "<bos>", "<eos>"))
    assert v.itos == ["<pad>", "<bos>", "<eos>", "а", "н", "я"]
    assert (v.pad, v.bos, v.eos, v.unk) == (0, 1, 2, None)
    assert len(v) == 6
    assert v.encode("яна") == [5, 4, 3]
    assert v.decode(v.encode("анна")) == "анна"
    assert v.decode(torch.tensor([1, 3, 2]), skip_specials=True) == "а"


def test_word_vocab_orders_by_frequency_and_joins_with_spaces():
    v = Vocab.from_text("кот и пёс и кот и", level="word")
    assert v.itos == ["и", "кот", "пёс"]
    assert v.encode("пёс и кот") == [2, 0, 1]
    assert v.encode(["кот", "и"]) == [1, 0]
    assert v.decode([1, 0, 2]) == "кот и пёс"


def test_unknown_token_is_a_value_error_naming_it():
    v = Vocab.from_text("анна")
    with pytest.raises(ValueError, match="unknown character 'b'"):
        v.encode("анbа")
    w = Vocab.from_text("кот пёс", level="word")
    with pytest.raises(ValueError, match="unknown word 'мышь'"):
        w.encode("кот мышь")


def test_unknown_token_maps_to_unk_when_present():
    v = Vocab.from_text("анна", specials=("<unk>",))
    assert v.encode("аbа") == [v.stoi["а"], v.unk, v.stoi["а"]]


def test_capped_word_vocab_needs_unk():
    v = Vocab.from_text("a a a b b c", level="word", specials=("<unk>",), max_size=2)
    assert v.itos == ["<unk>", "a", "b"]
    assert v.encode("c a") == [0, 1]
    with pytest.raises(ValueError, match="<unk>"):
        Vocab.from_text("a b", level="word", max_size=1)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text": ""}, "empty text"),
        ({"text": []}, "empty text"),
        ({"text": "ab", "level": "byte"}, "level must be"),
        ({"text": "ab", "specials": ("<mask>",)}, "unknown special"),
        ({"text": "ab", "specials": ("<pad>", "<pad>")}, "repeat"),
    ],
)
def test_bad_vocab_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Vocab.from_text(**kwargs)


def test_vocab_rejects_non_strings():
    with pytest.raises(TypeError):
        Vocab.from_text([1, 2])


def test_decode_out_of_range_id():
    v = Vocab.from_text("ab")
    with pytest.raises(ValueError, match="out of range"):
        v.decode([5])


def test_vocab_round_trips_through_a_plain_dict():
    v = Vocab.from_text("кот и пёс", level="word", specials=("<unk>",))
    d = v.to_dict()
    assert all(isinstance(t, str) for t in d["itos"])
    assert Vocab.from_dict(d) == v
    with pytest.raises(ValueError, match="not a saved vocabulary"):
        Vocab.from_dict({"tokens": []})


# ---------------------------------------------------------------------------------- names


def test_committed_names_file_meets_the_spec():
    pairs = data.load_names_with_gender()
    names = [n for n, _ in pairs]
    assert len(names) == len(set(names)), "no duplicates"
    female = data.load_names(gender="f")
    male = data.load_names(gender="m")
    assert len(female) >= 300 and len(male) >= 300
    assert {"агафья", "аглая", "анна", "мария"} <= set(female)
    assert {"иван", "пётр", "александр"} <= set(male)
    assert len(data.load_names()) == len(female) + len(male)


def test_load_names_bad_gender():
    with pytest.raises(ValueError, match="gender must be"):
        data.load_names(gender="x")


def test_missing_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="names file"):
        data.load_names(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    "content, message",
    [
        ("first,second\nанна,f\n", "header"),
        ("name,gender\nanna,f\n", "Cyrillic"),
        ("name,gender\nанна,x\n", "gender must be"),
        ("name,gender\nанна\n", "2 columns"),
        ("name,gender\n", "no names"),
        ("", "header"),
    ],
)
def test_bad_names_files(tmp_path, content, message):
    path = tmp_path / "names.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        data.load_names(path)


# ---------------------------------------------------------------------------------- splits, batches


def test_train_val_split_is_seeded_and_complete():
    items = list(range(100))
    train, val = data.train_val_split(items, 0.2, seed=1)
    assert len(val) == 20 and len(train) == 80
    assert sorted(train + val) == items
    assert data.train_val_split(items, 0.2, seed=1) == (train, val)
    assert data.train_val_split(items, 0.2, seed=2) != (train, val)
    with pytest.raises(ValueError):
        data.train_val_split(items, 1.5)


def test_split_contiguous_keeps_order():
    a, b, c = data.split_contiguous(list(range(10)), (0.8, 0.1, 0.1))
    assert a == list(range(8)) and b == [8] and c == [9]
    with pytest.raises(ValueError, match="sum to 1"):
        data.split_contiguous([1, 2], (0.5, 0.4))


def test_pad_sequences():
    batch, lengths = data.pad_sequences([[1, 2, 3], [4]], pad_id=0)
    assert batch.tolist() == [[1, 2, 3], [4, 0, 0]]
    assert lengths.tolist() == [3, 1]
    with pytest.raises(ValueError):
        data.pad_sequences([], 0)
    with pytest.raises(ValueError, match="empty sequence"):
        data.pad_sequences([[1], []], 0)


def test_batchify_and_bptt_batches_cover_the_stream_in_order():
    streams = data.batchify(range(23), 3)  # 7 per row, two dropped
    assert streams.shape == (3, 7)
    assert streams[1].tolist() == list(range(7, 14))
    windows = list(data.bptt_batches(streams, 4))
    assert [x.shape[1] for x, _ in windows] == [4, 2]
    x = torch.cat([w[0] for w in windows], dim=1)
    y = torch.cat([w[1] for w in windows], dim=1)
    assert torch.equal(x, streams[:, :-1]) and torch.equal(y, streams[:, 1:])
    with pytest.raises(ValueError, match="too few"):
        data.batchify(range(5), 3)
    with pytest.raises(ValueError, match="2-D"):
        next(data.bptt_batches(torch.arange(5), 2))


# ---------------------------------------------------------------------------------- the novel

RAW = "Annotation\nLibrs.net\n\nНАЧАЛО\n\nТекст романа.\n\n\n\nВторой абзац.\nLibrs.net\nКОНЕЦ\n\nLibrs.net\n"
SOURCE_KW = dict(filename="novel.txt", start="НАЧАЛО", end="КОНЕЦ", drop_lines_with="Librs.net")


def _source(url: str, payload: bytes) -> TextSource:
    return TextSource(url=url, sha256=hashlib.sha256(payload).hexdigest(), **SOURCE_KW)


class _Handler(http.server.BaseHTTPRequestHandler):
    payload = b""
    mode = "ok"

    def do_GET(self):  # noqa: N802 - http.server API
        body = self.payload
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.mode == "truncate":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A real HTTP server on 127.0.0.1 serving ``_Handler.payload``."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(httpd) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}/novel.txt"


def test_clean_text_cuts_front_and_back_matter():
    text = data.clean_text(RAW, _source("x", b""))
    assert text == "НАЧАЛО\n\nТекст романа.\n\nВторой абзац.\nКОНЕЦ\n"
    with pytest.raises(ValueError, match="expected start"):
        data.clean_text("nothing here", _source("x", b""))


def test_download_then_cache(server, tmp_path, monkeypatch):
    payload = RAW.encode("utf-8")
    monkeypatch.setattr(_Handler, "payload", payload)
    monkeypatch.setattr(_Handler, "mode", "ok")
    source = _source(_url(server), payload)
    text = data.load_text("novel", cache_dir=tmp_path, source=source)
    assert text.startswith("НАЧАЛО") and "Librs" not in text
    assert (tmp_path / "novel.txt").read_bytes() == payload
    assert list(tmp_path.iterdir()) == [tmp_path / "novel.txt"], "no temporary file left"
    server.shutdown()  # the second call must come from the cache
    assert data.load_text("novel", cache_dir=tmp_path, source=source) == text


def test_wrong_checksum_saves_nothing(server, tmp_path, monkeypatch):
    monkeypatch.setattr(_Handler, "payload", RAW.encode("utf-8"))
    monkeypatch.setattr(_Handler, "mode", "ok")
    source = _source(_url(server), b"other bytes")
    with pytest.raises(DataUnavailableError, match="sha256"):
        data.load_text("novel", cache_dir=tmp_path, source=source)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_download_saves_nothing(server, tmp_path, monkeypatch):
    payload = (RAW * 200).encode("utf-8")
    monkeypatch.setattr(_Handler, "payload", payload)
    monkeypatch.setattr(_Handler, "mode", "truncate")
    with pytest.raises(DataUnavailableError):
        data.load_text("novel", cache_dir=tmp_path, source=_source(_url(server), payload))
    assert list(tmp_path.iterdir()) == []


def test_no_network_and_no_cache_says_how_to_get_the_file(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = _source(f"http://127.0.0.1:{port}/novel.txt", b"x")
    with pytest.raises(DataUnavailableError, match="Download .* by hand") as info:
        data.load_text("novel", cache_dir=tmp_path, source=source, timeout=2)
    assert str(tmp_path / "novel.txt") in str(info.value)


def test_corrupted_cache_is_refused(tmp_path):
    (tmp_path / "novel.txt").write_text("tampered", encoding="utf-8")
    with pytest.raises(DataUnavailableError, match="corrupted"):
        data.load_text("novel", cache_dir=tmp_path, source=_source("http://127.0.0.1:9/", b"x"))


def test_unknown_text_name():
    with pytest.raises(ValueError, match="unknown text"):
        data.load_text("war_and_peace")


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LECTURE_DATA_DIR", str(tmp_path))
    assert data.default_cache_dir() == tmp_path
    monkeypatch.delenv("LECTURE_DATA_DIR")
    assert data.default_cache_dir() == Path(data.REPO_ROOT) / "data" / "cache"


@pytest.mark.skipif(
    not (data.default_cache_dir() / "anna_karenina.txt").is_file(), reason="novel not in cache"
)
def test_the_real_novel_is_checked_and_cleaned():
    text = data.load_text("anna_karenina")
    assert text.startswith("Мне отмщение, и аз воздам")
    assert "Все счастливые семьи похожи друг на друга" in text[:200]
    assert text.rstrip().endswith("1873–1877")
    assert "Librs.net" not in text
