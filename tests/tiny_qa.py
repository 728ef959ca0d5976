"""A tiny extractive question-answering model (BERT-shaped, word-level tokenizer), built and trained in
seconds and saved like any checkpoint, and a fake Hugging Face hub on 127.0.0.1 that serves a model
folder the way the hub does: so the qa reader and `rag models pull` are tested without a download.

The model learns the colour passages of tests/tiny_t5.py: to point at "blue" for the sky, "white" for
snow, and at no answer (the first token) for the sea, which no passage mentions.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.tiny_t5 import PASSAGES

# question -> answer word (None: no passage answers it)
TRAINING = {"What colour is the sky?": "blue", "What colour is snow?": "white", "What colour is the sea?": None}


def build_tiny_qa(directory: Path, steps: int = 150) -> Path:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import BertConfig, BertForQuestionAnswering, PreTrainedTokenizerFast

    torch.manual_seed(0)
    word_level = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    word_level.pre_tokenizer = pre_tokenizers.Whitespace()
    word_level.train_from_iterator(PASSAGES + list(TRAINING), trainers.WordLevelTrainer(
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]"]))
    word_level.post_processor = processors.BertProcessing(("[SEP]", word_level.token_to_id("[SEP]")),
                                                          ("[CLS]", word_level.token_to_id("[CLS]")))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=word_level, pad_token="[PAD]", unk_token="[UNK]",
                                        cls_token="[CLS]", sep_token="[SEP]")
    tokenizer.save_pretrained(directory)

    model = BertForQuestionAnswering(BertConfig(
        vocab_size=len(tokenizer), hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=64, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        # BERT's default 0.02 starts attention uniform, and this tiny model then settles on ignoring the
        # question (one span for sky and sea alike); wider weights let it learn to match question and passage.
        initializer_range=0.3))
    pairs = [(question, passage) for question in TRAINING for passage in PASSAGES]
    inputs = tokenizer([q for q, _ in pairs], [p for _, p in pairs], padding=True, return_tensors="pt",
                       return_offsets_mapping=True)
    offsets = inputs.pop("offset_mapping")
    starts, ends = [], []
    for row, (question, passage) in enumerate(pairs):
        answer = TRAINING[question]
        position = 0  # no answer in this passage: the first token
        if answer and answer in passage.split():
            at = passage.index(answer)
            position = next(i for i, sid in enumerate(inputs.sequence_ids(row))
                            if sid == 1 and int(offsets[row][i][0]) == at)
        starts.append(position)
        ends.append(position)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        loss = model(**inputs, start_positions=torch.tensor(starts), end_positions=torch.tensor(ends)).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    model.save_pretrained(directory, safe_serialization=True)
    return directory


class FakeHub:
    """A hub at ``self.endpoint`` serving ``repos`` (name -> folder): the listing of each (sizes; sha256
    of files over ``large`` bytes, as the hub gives for LFS files, and git blob hashes of the others) and
    its files, honouring Range requests. ``cut`` makes the next download of a file stop after that many
    bytes; ``tampered`` files are served with other bytes than those listed."""

    def __init__(self, repos: dict[str, Path], large: int = 10_000):
        self.repos, self.large = repos, large
        self.cut: dict[str, int] = {}
        self.tampered: set[str] = set()
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                hub.requests.append((self.path, self.headers.get("Range")))
                hub.answer(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def listing(self, name: str) -> dict:
        siblings = []
        for path in sorted(self.repos[name].iterdir()):
            content = path.read_bytes()
            entry = {"rfilename": path.name, "size": len(content)}
            if len(content) > self.large:
                entry["lfs"] = {"sha256": hashlib.sha256(content).hexdigest(), "size": len(content)}
            else:
                entry["blobId"] = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
            siblings.append(entry)
        return {"id": name, "sha": "0123456789abcdef0123456789abcdef01234567", "siblings": siblings}

    def answer(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path.split("?")[0]
        for name in self.repos:
            if path == f"/api/models/{name}/revision/main":
                return self._send(request, 200, json.dumps(self.listing(name)).encode())
            prefix = f"/{name}/resolve/"
            if path.startswith(prefix):
                filename = path[len(prefix):].split("/", 1)[1]
                content = (self.repos[name] / filename).read_bytes()
                if filename in self.tampered:
                    content = content[:-1] + bytes([content[-1] ^ 0xFF])
                start = int(request.headers["Range"].split("=")[1].rstrip("-")) if request.headers["Range"] else 0
                return self._send(request, 206 if start else 200, content[start:], self.cut.pop(filename, None))
        self._send(request, 404, b'{"error": "Repository not found"}')

    @staticmethod
    def _send(request, status: int, body: bytes, stop_after: int | None = None) -> None:
        request.send_response(status)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body if stop_after is None else body[:stop_after])
        if stop_after is not None:
            request.wfile.flush()
            request.close_connection = True
