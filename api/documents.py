"""The trade documents behind receivables and payments (四流合一: contract 商流, invoice, delivery note 物流),
stored off chain and content-addressed; only their combined hash goes on chain.

Storage. A directory next to the API's database (`<store>.documents/`, or the `root` given):

    files/ab/abcdef…      one file per document, named by the SHA-256 of its bytes (hex)
    tmp/                  uploads being written; a refused or failed upload is removed from here
    documents.sqlite      what each document is (kind, type, size), who uploaded it, what it belongs to

A document is written to `tmp/` while it is hashed and checked, fsynced, then renamed into `files/` (a rename
on one file system is atomic): a file under `files/` is always complete, and an upload that is refused (too
large, empty, not a PDF/PNG/JPEG/XML) or fails half-way stores nothing.

Limits. At most `MAX_DOCUMENT` (10 MiB) per document: a scanned contract or invoice PDF is well under it, and
the request guard holds an upload's body in memory before the route runs, so the cap is also the memory one
upload can take. The guard refuses a longer body as it streams in (413), before reading the rest. The type is
read from the bytes (their magic numbers), never from the client's Content-Type, and nothing is decompressed:
a zip bomb is just a file that is not one of the four types.

The combined hash (`combined_hash`), the one hash put on chain for a receivable or a payment:

    keccak256( d_1 ‖ d_2 ‖ … ‖ d_n )

where d_i are the documents' SHA-256 digests as 32 raw bytes each, de-duplicated and sorted ascending
(bytewise, the same order as their lowercase hex), ‖ is concatenation — in Solidity,
`keccak256(abi.encodePacked(sortedDigests))` over a `bytes32[]`. The kinds are not part of it: they are labels
kept here, and an auditor recomputes the hash from the files alone. At least one document.
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from eth_utils.crypto import keccak

from api.errors import ApiProblem

MAX_DOCUMENT = 10 * 1024 * 1024  # bytes per document (see the module's docstring for why)
# What a multipart body may add around the file: boundaries, part headers, the `kind` field.
MULTIPART_OVERHEAD = 64 * 1024
MAX_UPLOAD_BODY = MAX_DOCUMENT + MULTIPART_OVERHEAD
CHUNK = 64 * 1024
SHA256_PATTERN = r"^[0-9a-f]{64}$"
_SHA256 = re.compile(SHA256_PATTERN)


class Kind(StrEnum):
    CONTRACT = "contract"  # 商流: the purchase contract or order
    INVOICE = "invoice"  # the (e-)invoice
    DELIVERY_NOTE = "delivery_note"  # 物流: the delivery note or receipt of goods


class Target(StrEnum):
    RECEIVABLE = "receivable"  # keyed by the slot (decimal)
    PAYMENT = "payment"  # keyed by the split's memo (0x-hex): the combined hash of the payment's documents


# Media types recognised by their first bytes (magic numbers); nothing else is accepted.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"<?xml", "application/xml", "xml"),  # structured e-invoices (全电发票) are XML
    (b"\xef\xbb\xbf<?xml", "application/xml", "xml"),  # the same with a UTF-8 byte-order mark
)
EXTENSIONS = {media: ext for _, media, ext in _MAGIC}
ACCEPTED = sorted(EXTENSIONS)


def sniff(head: bytes) -> str | None:
    """The media type `head` (a file's first bytes) starts like, or None if it is none of the accepted ones."""
    return next((media for magic, media, _ in _MAGIC if head.startswith(magic)), None)


def digest_of(sha256: str) -> bytes:
    """The 32 bytes of a document id (64 lowercase hex digits); ValueError for anything else."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"{sha256!r} is not a SHA-256 digest in lowercase hex")
    return bytes.fromhex(sha256)


def combined_hash(sha256s: Sequence[str]) -> bytes:
    """The one hash that goes on chain for a receivable's or a payment's documents: keccak256 over their
    SHA-256 digests (32 raw bytes each), de-duplicated, sorted ascending, concatenated (see the module's
    docstring). `sha256s` are lowercase hex, with or without `0x`; ValueError for none or a malformed one."""
    digests = sorted({digest_of(s.removeprefix("0x").lower()) for s in sha256s})
    if not digests:
        raise ValueError("a combined hash needs at least one document")
    return keccak(b"".join(digests))


def hex_hash(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass(frozen=True)
class Document:
    sha256: str
    kind: Kind
    media_type: str
    size: int
    uploaded_at: int  # unix seconds (wall clock)

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{EXTENSIONS.get(self.media_type, 'bin')}"


@dataclass(frozen=True)
class Link:
    sha256: str
    target: Target
    key: str  # the slot (decimal) or the payment's memo (0x-hex)
    slot: int  # the receivable either belongs to


_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    sha256 TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS uploaders (   -- the same bytes may be uploaded by several members
    sha256 TEXT NOT NULL REFERENCES documents (sha256),
    member TEXT NOT NULL,                -- the uploader's account (checksummed)
    PRIMARY KEY (sha256, member)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
    sha256 TEXT NOT NULL REFERENCES documents (sha256),
    target TEXT NOT NULL,                -- 'receivable' | 'payment'
    key TEXT NOT NULL,                   -- slot (decimal text: 224 bits) | memo (0x-hex)
    slot TEXT NOT NULL,                  -- the receivable (decimal text)
    linked_by TEXT NOT NULL,
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (target, key, sha256)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS links_by_document ON links (sha256);
"""


def too_large() -> ApiProblem:
    return ApiProblem(413, "DocumentTooLarge", {"limit": MAX_DOCUMENT, "detail": f"over {MAX_DOCUMENT} bytes"})


class DocumentStore:
    """Files under `root/files`, their records in `root/documents.sqlite`. Safe from any thread: each call opens
    its own connection, and files are only ever renamed into place whole."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.files = self.root / "files"
        self.tmp = self.root / "tmp"
        self.files.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.db = self.root / "documents.sqlite"
        with self._connect() as conn:
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db, timeout=30, isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()

    def path_of(self, sha256: str) -> Path:
        return self.files / sha256[:2] / sha256

    # ------------------------------------------------------------------ writing

    def put(self, source: BinaryIO, kind: Kind, member: str) -> tuple[Document, bool]:
        """Store the bytes read from `source` (checked as they are read) and return the document and whether
        it is new. Refusals: DocumentTooLarge (413), EmptyDocument (422), UnsupportedDocumentType (415); a
        refused upload leaves nothing behind."""
        temp = self.tmp / f"{uuid.uuid4().hex}.part"
        sha, size, head = hashlib.sha256(), 0, b""
        try:
            with open(temp, "wb") as out:
                while chunk := source.read(CHUNK):
                    size += len(chunk)
                    if size > MAX_DOCUMENT:
                        raise too_large()
                    if len(head) < 16:
                        head += chunk[: 16 - len(head)]
                    sha.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise ApiProblem(422, "EmptyDocument", {"file": "the file is empty"})
            media = sniff(head)
            if media is None:
                fields = {"file": "not a PDF, PNG, JPEG or XML file", "accepted": ACCEPTED}
                raise ApiProblem(415, "UnsupportedDocumentType", fields)
            sha256 = sha.hexdigest()
            final = self.path_of(sha256)
            final.parent.mkdir(exist_ok=True)
            if final.exists():
                temp.unlink()  # the same bytes are stored already: content addressing makes this a no-op
            else:
                os.replace(temp, final)
        except BaseException:
            with suppress(FileNotFoundError):
                temp.unlink()
            raise
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            new = (
                conn.execute(
                    """INSERT OR IGNORE INTO documents (sha256, kind, media_type, size, uploaded_at)
                       VALUES (?, ?, ?, ?, ?)""",
                    (sha256, kind.value, media, size, int(time.time())),
                ).rowcount
                == 1
            )
            conn.execute("INSERT OR IGNORE INTO uploaders (sha256, member) VALUES (?, ?)", (sha256, member))
            conn.execute("COMMIT")
        found = self.get(sha256)
        assert found is not None
        return found, new

    def link(self, target: Target, key: str, slot: int, sha256s: Sequence[str], member: str) -> None:
        """Record that the documents `sha256s` (all stored) belong to the receivable or payment `key`."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                """INSERT OR IGNORE INTO links (sha256, target, key, slot, linked_by, linked_at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                [(s, target.value, key, str(slot), member, int(time.time())) for s in sorted(set(sha256s))],
            )
            conn.execute("COMMIT")

    def link_receivable(self, slot: int, sha256s: Sequence[str], member: str) -> None:
        self.link(Target.RECEIVABLE, str(slot), slot, sha256s, member)

    def link_payment(self, memo: bytes | str, slot: int, sha256s: Sequence[str], member: str) -> None:
        key = memo if isinstance(memo, str) else hex_hash(memo)
        self.link(Target.PAYMENT, key.lower(), slot, sha256s, member)

    # ------------------------------------------------------------------ reading

    def get(self, sha256: str) -> Document | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT sha256, kind, media_type, size, uploaded_at FROM documents WHERE sha256 = ?", (sha256,)
            ).fetchone()
        return None if row is None else Document(row[0], Kind(row[1]), row[2], row[3], row[4])

    def missing(self, sha256s: Sequence[str]) -> list[str]:
        """Those of `sha256s` not stored."""
        return [s for s in sha256s if self.get(s) is None]

    def uploaded_by(self, sha256: str, member: str) -> bool:
        with self._connect() as conn:
            row = conn.execute("SELECT 1 FROM uploaders WHERE sha256 = ? AND member = ?", (sha256, member)).fetchone()
        return row is not None

    def links_of(self, sha256: str) -> list[Link]:
        with self._connect() as conn:
            rows = conn.execute("SELECT sha256, target, key, slot FROM links WHERE sha256 = ?", (sha256,)).fetchall()
        return [Link(s, Target(t), k, int(slot)) for s, t, k, slot in rows]

    def linked(self, target: Target, key: str) -> list[Document]:
        """The documents linked to a receivable (`key` its slot, decimal) or a payment (its memo), by hash."""
        with self._connect() as conn:
            rows = conn.execute(
                """SELECT d.sha256, d.kind, d.media_type, d.size, d.uploaded_at
                   FROM links l JOIN documents d ON d.sha256 = l.sha256
                   WHERE l.target = ? AND l.key = ? ORDER BY d.sha256""",
                (target.value, key),
            ).fetchall()
        return [Document(s, Kind(k), m, n, t) for s, k, m, n, t in rows]
