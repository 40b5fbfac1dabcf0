"""Trade documents (四流合一): upload, download, and the documents of a receivable or a payment checked against
the hash on chain. Storage, limits and the combined hash: `api.documents`; who may read what: `api.policy`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Response, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from api import policy
from api.context import ApiContext, IndexView, Member
from api.deps import ContextDep, CurrentMember, CurrentUser, active_user, not_a_viewer, require_role
from api.documents import (
    ACCEPTED,
    MAX_DOCUMENT,
    SHA256_PATTERN,
    Document,
    Kind,
    Target,
    combined_hash,
    hex_hash,
)
from api.errors import ApiProblem
from api.fields import Slot, TokenId
from api.routes.problems import AUTH, CONFLICT, NOT_FOUND, _problem
from chain_client.contract_errors import NonexistentToken
from chain_client.ids import sequence_of, slot_of
from chain_client.membership import Role

router = APIRouter(tags=["documents"], responses=AUTH)

WRITERS = (Role.OPERATOR, Role.CORE_ENTERPRISE, Role.SUPPLIER, Role.FINANCIER)


def writer(context: ContextDep, user: CurrentUser) -> Member:
    """Who may upload and link: every role but the auditor (it reads everything, writes nothing), a user that
    is not a viewer, of a member active on chain (a suspended member's users are refused, as for actions)."""
    require_role(*WRITERS)(user.member)
    not_a_viewer(user)
    active_user(context, user)
    return user.member


Writer = Annotated[Member, Depends(writer)]

Sha256 = Annotated[str, Path(pattern=SHA256_PATTERN, description="the document's SHA-256, 64 lowercase hex digits")]
UPLOAD_REFUSALS: dict[int | str, dict[str, Any]] = {
    413: _problem(f"DocumentTooLarge: over {MAX_DOCUMENT} bytes (PayloadTooLarge: the whole body too large)"),
    415: _problem(f"UnsupportedDocumentType: the bytes are not one of {', '.join(ACCEPTED)}"),
}

EXAMPLE_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class DocumentPublic(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "sha256": EXAMPLE_SHA256,
                    "kind": "invoice",
                    "media_type": "application/pdf",
                    "size": 48213,
                    "uploaded_at": 1796140800,
                }
            ]
        },
    )

    sha256: str = Field(description="the id: SHA-256 of the file's bytes, lowercase hex")
    kind: Kind
    media_type: str = Field(description="read from the file's first bytes, not from the upload's Content-Type")
    size: int = Field(description="bytes")
    uploaded_at: int = Field(description="unix seconds, when these bytes were first stored")


class DocumentsCheckPublic(BaseModel):
    """The documents linked to a receivable or a payment, and whether they are what the chain holds."""

    documents: list[DocumentPublic]
    combined_hash: str | None = Field(
        description="keccak256 over the documents' SHA-256 digests (32 bytes each), de-duplicated, sorted "
        "ascending, concatenated; null when none is linked"
    )
    on_chain_hash: str | None = Field(
        description="the receivable's document hash, or the payment's memo, as the chain recorded it"
    )
    matches: bool = Field(description="combined_hash == on_chain_hash")


class ReceivableDocumentsPublic(DocumentsCheckPublic):
    slot: Slot


class PaymentDocumentsPublic(DocumentsCheckPublic):
    token_id: TokenId  # a fragment the payment created


class LinkCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"documents": [EXAMPLE_SHA256]}]},
    )

    documents: list[Annotated[str, Field(pattern=SHA256_PATTERN)]] = Field(min_length=1, max_length=64)


def _public(documents: list[Document]) -> list[DocumentPublic]:
    return [DocumentPublic.model_validate(d) for d in documents]


def _check(documents: list[Document], on_chain: str | None) -> dict[str, Any]:
    combined = hex_hash(combined_hash([d.sha256 for d in documents])) if documents else None
    on_chain = None if on_chain is None else on_chain.lower()
    return {
        "documents": _public(documents),
        "combined_hash": combined,
        "on_chain_hash": on_chain,
        "matches": combined is not None and combined == on_chain,
    }


@router.post("/documents", status_code=201, responses=UPLOAD_REFUSALS)
def upload_document(
    context: ContextDep,
    member: Writer,
    file: Annotated[UploadFile, File(description=f"the document: PDF, PNG, JPEG or XML, at most {MAX_DOCUMENT} bytes")],
    kind: Annotated[Kind, Form(description="contract (商流), invoice, or delivery_note (物流)")],
    response: Response,
) -> DocumentPublic:
    """Store a trade document (multipart/form-data: `file` and `kind`). Its id is the SHA-256 of its bytes:
    uploading the same bytes again returns the same document (200 instead of 201). Until it is linked to a
    receivable or a payment, only its uploaders may download it. Refused, and stored nowhere: empty (422
    `EmptyDocument`), over 10 MiB (413 `DocumentTooLarge`), not a PDF/PNG/JPEG/XML by its bytes (415
    `UnsupportedDocumentType`)."""
    document, new = context.documents.put(file.file, kind, member.address)
    response.status_code = 201 if new else 200
    response.headers["Location"] = f"/documents/{document.sha256}"
    return DocumentPublic.model_validate(document)


def _may_download(context: ApiContext, view: IndexView, member: Member, sha256: str) -> bool:
    store = context.documents
    if policy.sees_all(member) or store.uploaded_by(sha256, member.address):
        return True
    for link in store.links_of(sha256):
        tree = view.index.tree(link.slot, at=view.now)
        if tree is None:
            continue
        allowed = policy.scope(context, view, member, tree)
        if link.target is Target.RECEIVABLE and allowed.visible:
            return True
        if link.target is Target.PAYMENT:
            for node in tree.fragments:
                if node.token_id in allowed:
                    info = view.index.fragment(node.token_id)
                    if info is not None and (info.memo or "").lower() == link.key:
                        return True
    return False


def unknown_document(sha256: str) -> ApiProblem:
    return ApiProblem(404, "UnknownDocument", {"sha256": sha256})


@router.get(
    "/documents/{sha256}",
    response_class=FileResponse,
    responses={**NOT_FOUND, 200: {"content": {m: {} for m in ACCEPTED}, "description": "the document's bytes"}},
)
def download_document(context: ContextDep, member: CurrentMember, sha256: Sha256) -> FileResponse:
    """The document's bytes, for its uploaders and for any member who may see a receivable or payment it is
    linked to (operator and auditor: all). Anyone else gets 404 `UnknownDocument`, as for a hash never stored.
    Re-hash it (SHA-256) and compare with `GET /receivables/{slot}/documents`."""
    document = context.documents.get(sha256)
    if document is None:
        raise unknown_document(sha256)
    with context.read() as view:
        if not _may_download(context, view, member, sha256):
            raise unknown_document(sha256)
    return FileResponse(
        context.documents.path_of(sha256),
        media_type=document.media_type,
        filename=document.filename,
        headers={"X-Content-Type-Options": "nosniff", "ETag": f'"{sha256}"'},
    )


@router.get("/receivables/{slot}/documents", tags=["receivables"], responses=NOT_FOUND)
def receivable_documents(
    context: ContextDep, member: CurrentMember, slot: Annotated[Slot, Path()]
) -> ReceivableDocumentsPublic:
    """The receivable's documents, their combined hash recomputed, the document hash on chain, and whether
    they match. For whoever may see the receivable (`api.policy`); 404 `NonexistentReceivable` otherwise."""
    with context.read() as view:
        tree, _ = policy.visible_tree(context, view, member, slot)
    documents = context.documents.linked(Target.RECEIVABLE, str(slot))
    return ReceivableDocumentsPublic.model_validate({"slot": slot, **_check(documents, tree.receivable.document_hash)})


@router.post("/receivables/{slot}/documents", tags=["receivables"], responses={**NOT_FOUND, **CONFLICT})
def link_receivable_documents(
    context: ContextDep, member: Writer, slot: Annotated[Slot, Path()], body: LinkCreate
) -> ReceivableDocumentsPublic:
    """Link stored documents to the receivable: accepted only when their combined hash is the receivable's
    document hash on chain (409 `DocumentsDoNotMatch` otherwise), so a link is always one the chain confirms.
    For a member who may see the receivable and has uploaded each document."""
    with context.read() as view:
        tree, _ = policy.visible_tree(context, view, member, slot)
    _require_linkable(context, member, body.documents, tree.receivable.document_hash)
    context.documents.link_receivable(slot, body.documents, member.address)
    documents = context.documents.linked(Target.RECEIVABLE, str(slot))
    return ReceivableDocumentsPublic.model_validate({"slot": slot, **_check(documents, tree.receivable.document_hash)})


def _payment_memo(context: ApiContext, member: Member, token_id: int) -> str | None:
    with context.read() as view:
        try:
            info = view.index.fragment(token_id)
        except ValueError:  # the slot part is out of range: no such token
            info = None
        if info is None or not policy.may_see_fragment(context, view, member, token_id):
            raise NonexistentToken(token_id)
    return info.memo


@router.get("/fragments/{token_id}/documents", tags=["fragments"], responses=NOT_FOUND)
def payment_documents(
    context: ContextDep, member: CurrentMember, token_id: Annotated[TokenId, Path()]
) -> PaymentDocumentsPublic:
    """The documents of the payment that created this fragment (the split's memo is their combined hash), the
    recomputed hash, the memo on chain and whether they match. For the first fragment the memo is the
    receivable's document hash, and its documents are the receivable's."""
    memo = _payment_memo(context, member, token_id)
    documents = context.documents.linked(Target.PAYMENT, (memo or "").lower()) if memo else []
    if memo and not documents and sequence_of(token_id) == 1:
        documents = context.documents.linked(Target.RECEIVABLE, str(slot_of(token_id)))
    return PaymentDocumentsPublic.model_validate({"token_id": token_id, **_check(documents, memo)})


@router.post("/fragments/{token_id}/documents", tags=["fragments"], responses={**NOT_FOUND, **CONFLICT})
def link_payment_documents(
    context: ContextDep, member: Writer, token_id: Annotated[TokenId, Path()], body: LinkCreate
) -> PaymentDocumentsPublic:
    """Link stored documents to the payment that created this fragment: accepted only when their combined hash
    is the split's memo on chain (409 `DocumentsDoNotMatch` otherwise). Every fragment of that split shares
    the memo, so the documents belong to all of them."""
    memo = _payment_memo(context, member, token_id)
    _require_linkable(context, member, body.documents, memo)
    assert memo is not None
    context.documents.link_payment(memo, slot_of(token_id), body.documents, member.address)
    documents = context.documents.linked(Target.PAYMENT, memo.lower())
    return PaymentDocumentsPublic.model_validate({"token_id": token_id, **_check(documents, memo)})


def _require_linkable(context: ApiContext, member: Member, sha256s: list[str], on_chain: str | None) -> None:
    store = context.documents
    for sha256 in sha256s:
        if store.get(sha256) is None or not store.uploaded_by(sha256, member.address):
            raise unknown_document(sha256)
    combined = hex_hash(combined_hash(sha256s))
    if on_chain is None or combined != on_chain.lower():
        raise ApiProblem(409, "DocumentsDoNotMatch", {"combined_hash": combined, "on_chain_hash": on_chain})
