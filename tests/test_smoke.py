from chain_client import ReceivableState, ScfClient
from tests.conftest import Parties, issue_active


def test_issue_accept_split_keeps_face_value(scf: ScfClient, parties: Parties) -> None:
    r = issue_active(scf, parties, 500_00)
    split = scf.receivables.transfer_value(parties.s1, r.token_id, parties.s2.address, 120_00)
    assert scf.receivables.balance_of(r.token_id) == 380_00
    assert scf.receivables.balance_of(split.new_token_ids[0]) == 120_00
    assert scf.receivables.receivable(r.slot).state == ReceivableState.ACTIVE
